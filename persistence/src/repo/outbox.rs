//! The transactional outbox (domain.md §10.2): messages written in the transaction of the change
//! they report ([`enqueue`]), leased by dispatchers ([`claim`]), finished with the outcome of
//! their try ([`finish`]), listed and replayed by hand.
//!
//! Leases make several dispatchers (one per instance) share the queue: a claim takes open,
//! due messages whose lease is free or expired and whose ordering key has no earlier open
//! message, raises their attempt number and leases them until a deadline. On PostgreSQL the
//! candidates are locked `FOR UPDATE SKIP LOCKED`, so concurrent claims never take the same
//! message; on SQLite claims are write transactions, one at a time. A dispatcher records its
//! outcome only while it still holds the lease of that attempt, so one attempt has one outcome.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use crate::schema::{outbox_attempts, outbox_messages};
use crate::{AnyConnection, RepoError};

/// A message to write with a change.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `national_portal`, `reporting`, `pakn`, `sms`, `zalo` or `email`.
    pub target: String,
    /// What the payload is (`case_event`, `case_sync`, `report`, `feedback`, `notification`, …).
    pub kind: String,
    /// Messages of one target and key are delivered in the order they were written.
    pub ordering_key: String,
    /// What the message is about, for people (a case or feedback code, a report id). Lists by
    /// subject find messages through their ordering key ([`SubjectFilter`]).
    pub subject: String,
    /// The payload (JSON).
    pub payload: String,
}

#[derive(Insertable)]
#[diesel(table_name = outbox_messages, treat_none_as_default_value = false)]
struct InsertRow<'a> {
    id: String,
    target: &'a str,
    kind: &'a str,
    ordering_key: &'a str,
    subject: &'a str,
    payload: &'a str,
    status: &'a str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    retry_from: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A stored message. No `Debug`: payloads of notifications hold phone numbers and addresses.
#[derive(Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = outbox_messages)]
pub struct MessageRow {
    pub seq: i64,
    pub id: String,
    pub target: String,
    pub kind: String,
    pub ordering_key: String,
    pub subject: String,
    pub payload: String,
    pub status: String,
    /// Tries so far, including one in flight.
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    /// Where the retry horizon is counted from (creation, or the last replay by hand).
    pub retry_from: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub last_response_status: Option<i32>,
    /// The receiver's reference for the delivered message, when it gives one.
    pub response_ref: Option<String>,
    /// The dispatcher of the current or last try.
    pub leased_by: Option<String>,
    /// When the current or last try was leased (its start).
    pub leased_at: Option<NaiveDateTime>,
}

/// A message as a dispatcher delivers it ([`leased`]): what it sends, to whom, and what the
/// outcome of the try needs. Not the whole row: the dispatcher reads a batch every round, and
/// on SQLite every timestamp column is text parsed on the way out. No `Debug`, as
/// [`MessageRow`].
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = outbox_messages)]
pub struct LeasedMessage {
    pub seq: i64,
    pub id: String,
    pub target: String,
    pub kind: String,
    pub ordering_key: String,
    pub subject: String,
    pub payload: String,
    /// The attempt this try is (the claim raised it).
    pub attempts: i32,
    /// Where the retry horizon is counted from.
    #[diesel(deserialize_as = crate::timestamp::Ts)]
    pub retry_from: NaiveDateTime,
}

/// One try of a message.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox_attempts, treat_none_as_default_value = false)]
pub struct AttemptRow {
    pub message_id: String,
    pub attempt: i32,
    /// The dispatcher (instance) that tried.
    pub worker: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// `sent`, `failed`, `dead` or `abandoned` (the lease ran out without an answer).
    pub outcome: String,
    /// SHA-256 of the message's stored payload (without credentials).
    pub request_digest: Option<String>,
    pub response_status: Option<i32>,
    pub error: Option<String>,
}

/// Writes `messages` (call inside the transaction of the change they report).
///
/// # Errors
/// Database errors.
pub fn enqueue(conn: &mut AnyConnection, now: NaiveDateTime, messages: &[NewMessage]) -> Result<(), RepoError> {
    for chunk in insert_rows(now, messages).chunks(500) {
        crate::insert_rows!(conn, outbox_messages::table, chunk)?;
    }
    Ok(())
}

/// Runs `change` (a write of the change the messages report) and writes `messages`: on
/// PostgreSQL a single message goes in the same statement as the change
/// ([`crate::db::Chained`]), so that the outbox costs the change no round trip of its own.
///
/// # Errors
/// Database errors.
pub fn enqueue_with<S>(conn: &mut AnyConnection, change: S, now: NaiveDateTime, messages: &[NewMessage]) -> Result<(), RepoError>
where
    S: QueryFragment<Pg> + QueryFragment<Sqlite> + QueryId,
{
    match (conn, messages) {
        (AnyConnection::Postgresql(c), [_]) => {
            let rows = insert_rows(now, messages);
            ExecuteDsl::execute(crate::db::Chained(change, diesel::insert_into(outbox_messages::table).values(&rows[0])), c)?;
        }
        (conn, _) => {
            crate::per_backend!(&mut *conn, |c| ExecuteDsl::execute(change, c))?;
            enqueue(conn, now, messages)?;
        }
    }
    Ok(())
}

fn insert_rows(now: NaiveDateTime, messages: &[NewMessage]) -> Vec<InsertRow<'_>> {
    messages
        .iter()
        .map(|m| InsertRow {
            id: crate::new_id(),
            target: &m.target,
            kind: &m.kind,
            ordering_key: &m.ordering_key,
            subject: &m.subject,
            payload: &m.payload,
            status: "pending",
            attempts: 0,
            next_attempt_at: now,
            retry_from: now,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

/// Who claims, until when, how many.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    /// The dispatcher's name (unique per process).
    pub worker: &'a str,
    pub now: NaiveDateTime,
    pub until: NaiveDateTime,
    pub limit: i64,
    /// Only messages to these targets (the ones this instance can deliver).
    pub targets: &'a [&'a str],
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    lease_owner: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    lease_until: Option<NaiveDateTime>,
}

/// The statuses of a message still to deliver, as the open messages' partial indexes name them
/// (migrations 18 and 23). Written out in the SQL, never bound: a partial index serves only a
/// condition that visibly implies its own, and with the statuses as parameters both databases
/// read every message kept.
const OPEN_STATUSES: &str = "('pending', 'failed')";

/// The claim's selection of candidates: due, unleased, and each the earliest open message of
/// its target and ordering key.
fn claim_sql(backend: crate::Backend, targets: &[&str]) -> String {
    // Target names are the platform's own (checked against the list), never client text.
    let targets = targets
        .iter()
        .filter(|t| domain::outbox::Target::parse(t, "target").is_ok())
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let lock = if backend == crate::Backend::Postgres { " FOR UPDATE OF m SKIP LOCKED" } else { "" };
    // "The earliest open message of its key" as a scalar subquery with LIMIT, which
    // PostgreSQL always runs as one index probe per candidate: as `NOT EXISTS` it became an
    // anti-join, and with statistics taken while no message was open the planner chose a
    // nested loop without the key in the index condition (7,000 messages: 19 s per claim).
    // The probe can use only the key index: the due-time index requires a due-time comparison
    // (migration 23; see [`claim_plan`]).
    // Candidates come in the due-time index's own order (most overdue first, then oldest), so
    // that a claim walks the index and stops after `limit` of them, probing only those. In
    // order of `seq` alone every due message was probed and the lot sorted for each claim: on a
    // backlog of 30,000 that was most of the database's time per message delivered.
    format!(
        "SELECT m.seq, m.id, m.attempts, m.lease_owner, m.lease_until FROM outbox_messages m \
         WHERE m.status IN {OPEN_STATUSES} AND m.next_attempt_at <= $1 \
           AND (m.lease_until IS NULL OR m.lease_until < $1) AND m.target IN ({targets}) \
           AND m.seq = (SELECT e.seq FROM outbox_messages e WHERE e.status IN {OPEN_STATUSES} \
               AND e.target = m.target AND e.ordering_key = m.ordering_key ORDER BY e.seq LIMIT 1) \
         ORDER BY m.next_attempt_at, m.seq LIMIT $2{lock}"
    )
}

#[derive(QueryableByName)]
struct PgPlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct SqlitePlanLine {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// How the database would run a claim now (`EXPLAIN` on PostgreSQL, `EXPLAIN QUERY PLAN` on
/// SQLite), one line per plan node: for diagnosis, and for the test that the probe per
/// candidate stays an index lookup of its key whatever the statistics say.
///
/// # Errors
/// Database errors.
pub fn claim_plan(conn: &mut AnyConnection, lease: &Lease<'_>) -> Result<Vec<String>, RepoError> {
    let sql = claim_sql(conn.backend(), lease.targets);
    explain(conn, |how| diesel::sql_query(format!("{how} {sql}")).bind::<Timestamp, _>(lease.now).bind::<BigInt, _>(lease.limit))
}

/// The plan lines of the query `query(how)` builds with `how`, the backend's explain prefix
/// (`EXPLAIN` on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite), with its parameters bound.
fn explain<Q>(conn: &mut AnyConnection, query: impl Fn(&str) -> Q) -> Result<Vec<String>, RepoError>
where
    Q: for<'a> diesel::query_dsl::LoadQuery<'a, diesel::PgConnection, PgPlanLine>
        + for<'a> diesel::query_dsl::LoadQuery<'a, diesel::SqliteConnection, SqlitePlanLine>,
{
    Ok(match conn {
        AnyConnection::Postgresql(c) => query("EXPLAIN").load::<PgPlanLine>(c)?.into_iter().map(|l| l.line).collect(),
        AnyConnection::Sqlite(c) => query("EXPLAIN QUERY PLAN").load::<SqlitePlanLine>(c)?.into_iter().map(|l| l.detail).collect(),
    })
}

/// Leases up to `lease.limit` due messages, the longest due first, at most one per target and ordering
/// key (the earliest open one), and returns them with their new attempt number ([`lease_due`]
/// then [`leased`] on the same connection).
///
/// # Errors
/// Database errors.
pub fn claim(conn: &mut AnyConnection, lease: &Lease<'_>) -> Result<Vec<LeasedMessage>, RepoError> {
    let taken = lease_due(conn, lease)?;
    leased(conn, lease.worker, &taken)
}

/// A lease a claim took: the message and the attempt number it gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub seq: i64,
    pub attempt: i32,
}

/// The write half of [`claim`]: leases up to `lease.limit` due messages (the longest due first,
/// at most one per target and ordering key, the earliest open one) and returns which, with
/// their new attempt numbers. A message whose previous lease ran out without an outcome gets
/// that attempt logged as `abandoned`. Nothing else is read back: on SQLite this runs on the
/// one writer, which intake waits for, and decoding a batch of rows with their payloads was
/// more than half of a claim's time there. The rows are read afterwards, on any connection
/// ([`leased`]).
///
/// # Errors
/// Database errors.
pub fn lease_due(conn: &mut AnyConnection, lease: &Lease<'_>) -> Result<Vec<Taken>, RepoError> {
    if lease.targets.is_empty() || lease.limit <= 0 {
        return Ok(Vec::new());
    }
    crate::db::write_tx(conn, |conn| {
        let sql = claim_sql(conn.backend(), lease.targets);
        let candidates: Vec<Candidate> =
            crate::per_backend!(conn, |c| diesel::sql_query(&sql).bind::<Timestamp, _>(lease.now).bind::<BigInt, _>(lease.limit).load(c))?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let abandoned: Vec<AttemptRow> = candidates
            .iter()
            .filter_map(|c| {
                let owner = c.lease_owner.clone()?;
                (c.attempts > 0).then(|| AttemptRow {
                    message_id: c.id.clone(),
                    attempt: c.attempts,
                    worker: owner,
                    started_at: c.lease_until.unwrap_or(lease.now),
                    finished_at: c.lease_until,
                    outcome: "abandoned".into(),
                    request_digest: None,
                    response_status: None,
                    error: Some("the lease ran out without an outcome (the instance stopped or stalled)".into()),
                })
            })
            .collect();
        if !abandoned.is_empty() {
            log_attempts(conn, &abandoned)?;
        }
        let seqs: Vec<i64> = candidates.iter().map(|c| c.seq).collect();
        // The candidates are this transaction's (locked on PostgreSQL; SQLite has one writer),
        // so each attempt number is the one read plus one.
        diesel::update(outbox_messages::table.filter(outbox_messages::seq.eq_any(&seqs)))
            .set((
                outbox_messages::lease_owner.eq(lease.worker),
                outbox_messages::lease_until.eq(lease.until),
                outbox_messages::attempts.eq(outbox_messages::attempts + 1),
                outbox_messages::updated_at.eq(lease.now),
                outbox_messages::leased_by.eq(lease.worker),
                outbox_messages::leased_at.eq(lease.now),
            ))
            .execute(conn)?;
        let mut taken: Vec<Taken> = candidates.iter().map(|c| Taken { seq: c.seq, attempt: c.attempts + 1 }).collect();
        taken.sort_unstable_by_key(|t| t.seq);
        Ok(taken)
    })
}

/// The messages `worker` leased ([`lease_due`]) and still holds at the attempt it took, in
/// order of writing; a read, for any connection.
///
/// # Errors
/// Database errors.
pub fn leased(conn: &mut AnyConnection, worker: &str, taken: &[Taken]) -> Result<Vec<LeasedMessage>, RepoError> {
    let attempts: std::collections::HashMap<i64, i32> = taken.iter().map(|t| (t.seq, t.attempt)).collect();
    let mut out = Vec::with_capacity(taken.len());
    for chunk in taken.chunks(500) {
        let seqs: Vec<i64> = chunk.iter().map(|t| t.seq).collect();
        // On the concrete connection, as [`crate::repo::cases::sync_rows`].
        let rows: Vec<LeasedMessage> = crate::per_backend!(&mut *conn, |c| outbox_messages::table
            .filter(outbox_messages::seq.eq_any(&seqs))
            .filter(outbox_messages::lease_owner.eq(worker))
            .select(LeasedMessage::as_select())
            .load(c))?;
        out.extend(rows.into_iter().filter(|r| attempts.get(&r.seq) == Some(&r.attempts)));
    }
    out.sort_unstable_by_key(|m| m.seq);
    Ok(out)
}

/// What became of one try.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The receiver took it; `reference` is its receipt, when it gives one.
    Sent { reference: Option<String> },
    /// Not taken; try again at `next_attempt_at`.
    Failed { next_attempt_at: NaiveDateTime, error: String },
    /// Not taken, and the retry horizon has passed.
    Dead { error: String },
}

/// The end of one leased try.
#[derive(Debug, Clone)]
pub struct Finished {
    pub seq: i64,
    pub id: String,
    /// The attempt number the claim gave.
    pub attempt: i32,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    pub request_digest: Option<String>,
    pub response_status: Option<i32>,
    pub outcome: Outcome,
}

/// Records the outcomes of `worker`'s tries in one transaction; a try whose lease was taken
/// over in the meantime (it ran out) is not recorded. Returns the sequence numbers of the
/// messages whose outcome was recorded.
///
/// # Errors
/// Database errors.
pub fn finish(conn: &mut AnyConnection, worker: &str, done: &[Finished]) -> Result<Vec<i64>, RepoError> {
    if done.is_empty() {
        return Ok(Vec::new());
    }
    crate::db::write_tx(conn, |conn| {
        let mut recorded = Vec::with_capacity(done.len());
        let mut seqs = Vec::with_capacity(done.len());
        // The common case, delivered without a receipt, in one statement per attempt number
        // and 500 messages: those whose lease of that attempt this worker still holds are
        // marked sent, and the statement returns which (an outcome that comes after its lease
        // was taken over changes nothing). One statement: the outcomes of a round are written
        // on SQLite's one writer, with the requests' writes.
        let (plain, rest): (Vec<&Finished>, Vec<&Finished>) =
            done.iter().partition(|d| matches!(d.outcome, Outcome::Sent { reference: None }) && d.response_status == Some(200));
        let mut by_attempt: std::collections::BTreeMap<i32, Vec<&Finished>> = std::collections::BTreeMap::new();
        for item in plain {
            by_attempt.entry(item.attempt).or_default().push(item);
        }
        for (attempt, items) in by_attempt {
            for chunk in items.chunks(500) {
                let wanted: Vec<i64> = chunk.iter().map(|d| d.seq).collect();
                let at = chunk.iter().map(|d| d.finished_at).max().unwrap_or(chunk[0].finished_at);
                let changed: Vec<i64> = crate::per_backend!(&mut *conn, |c| diesel::update(
                    outbox_messages::table
                        .filter(outbox_messages::seq.eq_any(&wanted))
                        .filter(outbox_messages::lease_owner.eq(worker))
                        .filter(outbox_messages::attempts.eq(attempt))
                )
                .set((
                    outbox_messages::status.eq("sent"),
                    outbox_messages::sent_at.eq(Some(at)),
                    outbox_messages::lease_owner.eq(None::<String>),
                    outbox_messages::lease_until.eq(None::<NaiveDateTime>),
                    outbox_messages::last_error.eq(None::<String>),
                    outbox_messages::last_response_status.eq(Some(200)),
                    outbox_messages::updated_at.eq(at),
                ))
                .returning(outbox_messages::seq)
                .get_results(c))?;
                // A delivering try stays with its message (see [`attempts`]).
                seqs.extend(changed);
            }
        }
        for item in rest {
            let mine = outbox_messages::table
                .filter(outbox_messages::seq.eq(item.seq))
                .filter(outbox_messages::lease_owner.eq(worker))
                .filter(outbox_messages::attempts.eq(item.attempt));
            let changed = match &item.outcome {
                Outcome::Sent { reference } => diesel::update(mine)
                    .set((
                        outbox_messages::status.eq("sent"),
                        outbox_messages::sent_at.eq(Some(item.finished_at)),
                        outbox_messages::lease_owner.eq(None::<String>),
                        outbox_messages::lease_until.eq(None::<NaiveDateTime>),
                        outbox_messages::last_error.eq(None::<String>),
                        outbox_messages::last_response_status.eq(item.response_status),
                        outbox_messages::response_ref.eq(reference),
                        outbox_messages::updated_at.eq(item.finished_at),
                    ))
                    .execute(conn)?,
                Outcome::Failed { next_attempt_at, error } => mark_failure(conn, worker, item, "failed", *next_attempt_at, error)?,
                // A dead message waits for a replay by hand; its next-try time does not matter.
                Outcome::Dead { error } => mark_failure(conn, worker, item, "dead", item.finished_at, error)?,
            };
            if changed == 1 {
                seqs.push(item.seq);
                if !matches!(item.outcome, Outcome::Sent { .. }) {
                    recorded.push(attempt_row(worker, item));
                }
            }
        }
        log_attempts(conn, &recorded)?;
        Ok(seqs)
    })
}

/// Writes attempt rows. On PostgreSQL they go in as one array per column (`unnest`): one
/// statement that stays prepared whatever the number of rows, where a multi-row `VALUES` list
/// is parsed and planned anew for each count (a dispatcher logs a few hundred a round).
fn log_attempts(conn: &mut AnyConnection, rows: &[AttemptRow]) -> Result<(), RepoError> {
    use diesel::sql_types::Array;
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgresql(c) => {
            diesel::sql_query(
                "INSERT INTO outbox_attempts (message_id, attempt, worker, started_at, finished_at, outcome, request_digest, \
                 response_status, error) SELECT * FROM unnest($1::text[], $2::int4[], $3::text[], $4::timestamp[], \
                 $5::timestamp[], $6::text[], $7::text[], $8::int4[], $9::text[])",
            )
            .bind::<Array<Text>, _>(rows.iter().map(|r| r.message_id.as_str()).collect::<Vec<_>>())
            .bind::<Array<Integer>, _>(rows.iter().map(|r| r.attempt).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(rows.iter().map(|r| r.worker.as_str()).collect::<Vec<_>>())
            .bind::<Array<Timestamp>, _>(rows.iter().map(|r| r.started_at).collect::<Vec<_>>())
            .bind::<Array<Nullable<Timestamp>>, _>(rows.iter().map(|r| r.finished_at).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(rows.iter().map(|r| r.outcome.as_str()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.request_digest.as_deref()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Integer>>, _>(rows.iter().map(|r| r.response_status).collect::<Vec<_>>())
            .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.error.as_deref()).collect::<Vec<_>>())
            .execute(c)?;
        }
        AnyConnection::Sqlite(c) => {
            for chunk in rows.chunks(500) {
                diesel::insert_into(outbox_attempts::table).values(chunk).execute(c)?;
            }
        }
    }
    Ok(())
}

/// Records a failed try of `worker` (only while it holds the lease of that attempt).
fn mark_failure(
    conn: &mut AnyConnection,
    worker: &str,
    item: &Finished,
    status: &str,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> Result<usize, RepoError> {
    let mine = outbox_messages::table
        .filter(outbox_messages::seq.eq(item.seq))
        .filter(outbox_messages::lease_owner.eq(worker))
        .filter(outbox_messages::attempts.eq(item.attempt));
    Ok(diesel::update(mine)
        .set((
            outbox_messages::status.eq(status),
            outbox_messages::next_attempt_at.eq(next_attempt_at),
            outbox_messages::lease_owner.eq(None::<String>),
            outbox_messages::lease_until.eq(None::<NaiveDateTime>),
            outbox_messages::last_error.eq(Some(error)),
            outbox_messages::last_response_status.eq(item.response_status),
            outbox_messages::updated_at.eq(item.finished_at),
        ))
        .execute(conn)?)
}

fn attempt_row(worker: &str, item: &Finished) -> AttemptRow {
    let (outcome, error) = match &item.outcome {
        Outcome::Sent { .. } => ("sent", None),
        Outcome::Failed { error, .. } => ("failed", Some(error.clone())),
        Outcome::Dead { error } => ("dead", Some(error.clone())),
    };
    AttemptRow {
        message_id: item.id.clone(),
        attempt: item.attempt,
        worker: worker.to_owned(),
        started_at: item.started_at,
        finished_at: Some(item.finished_at),
        outcome: outcome.into(),
        request_digest: item.request_digest.clone(),
        response_status: item.response_status,
        error,
    }
}

/// Gives back the leases `worker` still holds (a stopping dispatcher), logging their attempts
/// as abandoned; the messages are due again at once. Returns how many.
///
/// # Errors
/// Database errors.
pub fn release(conn: &mut AnyConnection, worker: &str, now: NaiveDateTime) -> Result<usize, RepoError> {
    crate::db::write_tx(conn, |conn| {
        let held: Vec<(String, i32)> = outbox_messages::table
            .filter(outbox_messages::lease_owner.eq(worker))
            .select((outbox_messages::id, outbox_messages::attempts))
            .load(conn)?;
        let log: Vec<AttemptRow> = held
            .iter()
            .map(|(id, attempt)| AttemptRow {
                message_id: id.clone(),
                attempt: *attempt,
                worker: worker.to_owned(),
                started_at: now,
                finished_at: Some(now),
                outcome: "abandoned".into(),
                request_digest: None,
                response_status: None,
                error: Some("the instance stopped before an answer".into()),
            })
            .collect();
        log_attempts(conn, &log)?;
        diesel::update(outbox_messages::table.filter(outbox_messages::lease_owner.eq(worker)))
            .set((
                outbox_messages::lease_owner.eq(None::<String>),
                outbox_messages::lease_until.eq(None::<NaiveDateTime>),
                outbox_messages::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(held.len())
    })
}

/// Forgets messages sent before `before`, with their tries, at most `limit` at a time; returns
/// how many. Open and dead messages are kept whatever their age.
///
/// # Errors
/// Database errors.
pub fn purge_sent(conn: &mut AnyConnection, before: NaiveDateTime, limit: i64) -> Result<usize, RepoError> {
    crate::db::write_tx(conn, |conn| {
        let old: Vec<(i64, String)> = outbox_messages::table
            .filter(outbox_messages::status.eq("sent"))
            .filter(outbox_messages::sent_at.lt(before))
            .order(outbox_messages::seq)
            .limit(limit)
            .select((outbox_messages::seq, outbox_messages::id))
            .load(conn)?;
        for chunk in old.chunks(500) {
            let ids: Vec<&String> = chunk.iter().map(|(_, id)| id).collect();
            let seqs: Vec<i64> = chunk.iter().map(|(seq, _)| *seq).collect();
            diesel::delete(outbox_attempts::table.filter(outbox_attempts::message_id.eq_any(ids))).execute(conn)?;
            diesel::delete(outbox_messages::table.filter(outbox_messages::seq.eq_any(seqs))).execute(conn)?;
        }
        Ok(old.len())
    })
}

/// Puts a `failed` or `dead` message back in line at once, with a fresh retry horizon.
/// `Ok(None)` when there is no such message; `Ok(Some(false))` when its status does not allow
/// a replay (pending or sent).
///
/// # Errors
/// Database errors.
pub fn retry(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> Result<Option<bool>, RepoError> {
    crate::db::write_tx(conn, |conn| {
        let Some(status) =
            outbox_messages::table.filter(outbox_messages::id.eq(id)).select(outbox_messages::status).first::<String>(conn).optional()?
        else {
            return Ok(None);
        };
        if !matches!(status.as_str(), "failed" | "dead") {
            return Ok(Some(false));
        }
        let changed = diesel::update(outbox_messages::table.filter(outbox_messages::id.eq(id)).filter(outbox_messages::status.eq(&status)))
            .set((
                outbox_messages::status.eq("pending"),
                outbox_messages::next_attempt_at.eq(now),
                outbox_messages::retry_from.eq(now),
                outbox_messages::lease_owner.eq(None::<String>),
                outbox_messages::lease_until.eq(None::<NaiveDateTime>),
                outbox_messages::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(Some(changed == 1))
    })
}

/// One message by id.
///
/// # Errors
/// Database errors.
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<MessageRow>, RepoError> {
    Ok(outbox_messages::table.filter(outbox_messages::id.eq(id)).select(MessageRow::as_select()).first(conn).optional()?)
}

/// The tries of messages, oldest first per message: the logged ones (failed, dead, abandoned),
/// and the one that delivered a sent message, which is kept in the message itself (its worker
/// and start from the claim, its end and answer from the outcome; migration 24).
///
/// # Errors
/// Database errors.
pub fn attempts(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<AttemptRow>, RepoError> {
    let mut log: Vec<AttemptRow> = outbox_attempts::table
        .filter(outbox_attempts::message_id.eq_any(ids))
        .order((outbox_attempts::message_id, outbox_attempts::attempt))
        .select(AttemptRow::as_select())
        .load(conn)?;
    let sent: Vec<MessageRow> = outbox_messages::table
        .filter(outbox_messages::id.eq_any(ids))
        .filter(outbox_messages::status.eq("sent"))
        .select(MessageRow::as_select())
        .load(conn)?;
    for message in sent {
        // Messages delivered before migration 24 have their delivering try logged as a row.
        let logged = log.iter().any(|a| a.message_id == message.id && a.attempt == message.attempts);
        if let (false, Some(worker), Some(started_at)) = (logged, message.leased_by.clone(), message.leased_at) {
            log.push(AttemptRow {
                request_digest: Some(domain::outbox::request_digest(&message.payload)),
                message_id: message.id,
                attempt: message.attempts,
                worker,
                started_at,
                finished_at: message.sent_at,
                outcome: "sent".into(),
                response_status: message.last_response_status,
                error: None,
            });
        }
    }
    log.sort_by(|a, b| (&a.message_id, a.attempt).cmp(&(&b.message_id, b.attempt)));
    Ok(log)
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub target: Option<String>,
    pub subject: Option<SubjectFilter>,
    /// Continue after this sequence number (newest first: smaller ones follow).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Messages about one subject: its name and the ordering keys its messages are written under
/// (the index that finds them is keyed by ordering key).
#[derive(Debug, Clone, Default)]
pub struct SubjectFilter {
    pub name: String,
    pub keys: Vec<String>,
}

/// Messages, newest first.
///
/// # Errors
/// Database errors.
pub fn list(conn: &mut AnyConnection, filter: &Filter) -> Result<crate::repo::Page<MessageRow>, RepoError> {
    let mut query = outbox_messages::table.select(MessageRow::as_select()).order(outbox_messages::seq.desc()).into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(outbox_messages::status.eq(status.clone()));
    }
    if let Some(target) = &filter.target {
        query = query.filter(outbox_messages::target.eq(target.clone()));
    }
    if let Some(subject) = &filter.subject {
        query = query
            .filter(outbox_messages::ordering_key.eq_any(subject.keys.clone()))
            .filter(outbox_messages::subject.eq(subject.name.clone()));
    }
    if let Some(before) = filter.before_seq {
        query = query.filter(outbox_messages::seq.lt(before));
    }
    let rows = query.limit(filter.limit + 1).load(conn)?;
    Ok(crate::repo::Page::from_overfetch(rows, filter.limit, |row| row.seq.to_string()))
}

/// The queue's state for monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Depth {
    /// Messages by target and status (sent ones are not counted).
    pub by_target_status: Vec<(String, String, i64)>,
    /// When the oldest open message was written.
    pub oldest_open: Option<NaiveDateTime>,
}

#[derive(QueryableByName)]
struct DepthRow {
    #[diesel(sql_type = Text)]
    target: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Timestamp>)]
    oldest: Option<NaiveDateTime>,
}

/// Open and dead messages by target and status, and the age of the oldest open one.
///
/// # Errors
/// Database errors.
pub fn depth(conn: &mut AnyConnection) -> Result<Depth, RepoError> {
    let rows: Vec<DepthRow> = crate::per_backend!(conn, |c| diesel::sql_query(depth_sql()).load(c))?;
    let oldest_open = rows.iter().filter(|r| r.status != "dead").filter_map(|r| r.oldest).min();
    Ok(Depth { by_target_status: rows.into_iter().map(|r| (r.target, r.status, r.n)).collect(), oldest_open })
}

/// The query of [`depth`]: open and dead messages through their partial indexes
/// ([`OPEN_STATUSES`]). With `status <> 'sent'` it read every message kept (90 days of them by
/// default) on each scrape of `/metrics`.
fn depth_sql() -> String {
    format!(
        "SELECT target, status, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox_messages \
         WHERE status IN {OPEN_STATUSES} GROUP BY target, status \
         UNION ALL SELECT target, status, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox_messages \
         WHERE status = 'dead' GROUP BY target, status ORDER BY 1, 2"
    )
}

/// How the database would run [`depth`] now, one line per plan node, as [`claim_plan`]: for
/// the test that it reads the open and dead messages' partial indexes, not every message.
///
/// # Errors
/// Database errors.
pub fn depth_plan(conn: &mut AnyConnection) -> Result<Vec<String>, RepoError> {
    let sql = depth_sql();
    explain(conn, |how| diesel::sql_query(format!("{how} {sql}")))
}

/// How many messages to `target` are still open.
///
/// # Errors
/// Database errors.
pub fn open_count(conn: &mut AnyConnection, target: &str) -> Result<i64, RepoError> {
    let sql = format!("SELECT COUNT(*) AS n FROM outbox_messages WHERE target = $1 AND status IN {OPEN_STATUSES}");
    let row: CountRow = crate::per_backend!(conn, |c| diesel::sql_query(&sql).bind::<Text, _>(target).get_result(c))?;
    Ok(row.n)
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}
