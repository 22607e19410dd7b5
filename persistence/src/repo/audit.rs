//! The append-only, hash-chained audit trail.
//!
//! Appending happens inside the transaction of the change it records (both commit or neither
//! does) and only inserts into `audit_pending`, so concurrent writers never wait for each other
//! on the trail. A chainer ([`chain_pending`], run in the background by every server and before
//! the trail is read or verified) moves committed entries into `audit_log`, holding the single
//! `audit_head` row (PostgreSQL `FOR UPDATE`; SQLite `BEGIN IMMEDIATE`), so the chain has one
//! order even with several server instances on one database.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::audit::{ChainedFields, chain_hash};

use crate::repo::Page;
use crate::schema::{audit_head, audit_log, audit_pending};
use crate::{AnyConnection, RepoError};

/// A stored audit entry.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct AuditRow {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before_digest: Option<String>,
    pub after_digest: Option<String>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// What to record; the sequence, time and hashes are filled in by [`append`].
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before_digest: Option<String>,
    pub after_digest: Option<String>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
}

/// The canonical text of a timestamp inside the hash.
pub fn hash_time(at: NaiveDateTime) -> String {
    at.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn fields_of(row: &AuditRow) -> (String, i64) {
    (hash_time(row.at), row.seq)
}

fn compute_hash(row: &AuditRow, prev_hash: &str) -> String {
    let (at, seq) = fields_of(row);
    chain_hash(
        prev_hash,
        &ChainedFields {
            seq,
            at: &at,
            actor_id: row.actor_id.as_deref(),
            action: &row.action,
            entity_type: &row.entity_type,
            entity_id: &row.entity_id,
            before_digest: row.before_digest.as_deref(),
            after_digest: row.after_digest.as_deref(),
            reason: row.reason.as_deref(),
            request_id: row.request_id.as_deref(),
        },
    )
}

/// Records `entry` inside the caller's transaction (call inside [`crate::write_tx`] with the
/// change it records, so both commit or neither does). It joins the hash chain when
/// [`chain_pending`] next runs; nothing shared is locked here.
pub fn append(conn: &mut AnyConnection, entry: NewAuditEntry) -> Result<(), RepoError> {
    diesel::insert_into(audit_pending::table)
        .values((
            audit_pending::at.eq(crate::now()),
            audit_pending::actor_id.eq(entry.actor_id),
            audit_pending::action.eq(entry.action),
            audit_pending::entity_type.eq(entry.entity_type),
            audit_pending::entity_id.eq(entry.entity_id),
            audit_pending::before_digest.eq(entry.before_digest),
            audit_pending::after_digest.eq(entry.after_digest),
            audit_pending::reason.eq(entry.reason),
            audit_pending::request_id.eq(entry.request_id),
        ))
        .execute(conn)?;
    Ok(())
}

type PendingRow =
    (i64, NaiveDateTime, Option<String>, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>);

/// Moves committed pending entries into the chain, oldest first, at most `limit` of them, in
/// one transaction holding the chain head (so chainers on several instances take turns and the
/// chain has one order). Returns how many were chained.
pub fn chain_pending(conn: &mut AnyConnection, limit: i64) -> Result<usize, RepoError> {
    crate::write_tx(conn, |conn| {
        let head = audit_head::table.find(1).select((audit_head::last_seq, audit_head::last_hash));
        let (mut last_seq, mut last_hash): (i64, String) = match conn {
            AnyConnection::Postgresql(c) => head.for_update().first(c)?,
            AnyConnection::Sqlite(c) => head.first(c)?,
        };
        let pending: Vec<PendingRow> = audit_pending::table.order(audit_pending::id.asc()).limit(limit).load(conn)?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut rows = Vec::with_capacity(pending.len());
        let mut ids = Vec::with_capacity(pending.len());
        for (id, at, actor_id, action, entity_type, entity_id, before_digest, after_digest, reason, request_id) in pending {
            let mut row = AuditRow {
                seq: last_seq + 1,
                at,
                actor_id,
                action,
                entity_type,
                entity_id,
                before_digest,
                after_digest,
                reason,
                request_id,
                prev_hash: last_hash,
                hash: String::new(),
            };
            row.hash = compute_hash(&row, &row.prev_hash);
            last_seq = row.seq;
            last_hash = row.hash.clone();
            rows.push(row);
            ids.push(id);
        }
        for chunk in rows.chunks(500) {
            crate::per_backend!(conn, |c| diesel::insert_into(audit_log::table).values(chunk).execute(c))?;
        }
        for chunk in ids.chunks(500) {
            diesel::delete(audit_pending::table.filter(audit_pending::id.eq_any(chunk))).execute(conn)?;
        }
        diesel::update(audit_head::table.find(1))
            .set((audit_head::last_seq.eq(last_seq), audit_head::last_hash.eq(&last_hash)))
            .execute(conn)?;
        Ok(rows.len())
    })
}

/// Chains everything committed so far (before reading or verifying the trail).
pub fn chain_all(conn: &mut AnyConnection) -> Result<usize, RepoError> {
    const BATCH: i64 = 2_000;
    let mut total = 0;
    loop {
        let n = chain_pending(conn, BATCH)?;
        total += n;
        if i64::try_from(n).unwrap_or(0) < BATCH {
            return Ok(total);
        }
    }
}

/// How many entries wait to be chained.
pub fn pending_count(conn: &mut AnyConnection) -> Result<i64, RepoError> {
    Ok(audit_pending::table.count().get_result(conn)?)
}

/// Filters of the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub after_seq: Option<i64>,
    pub limit: i64,
}

/// A page of entries in chain order.
pub fn list(conn: &mut AnyConnection, filter: &AuditFilter) -> Result<Page<AuditRow>, RepoError> {
    let mut query = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(v) = &filter.entity_type {
        query = query.filter(audit_log::entity_type.eq(v.clone()));
    }
    if let Some(v) = &filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(v.clone()));
    }
    if let Some(v) = &filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(v.clone()));
    }
    if let Some(v) = filter.from {
        query = query.filter(audit_log::at.ge(v));
    }
    if let Some(v) = filter.to {
        query = query.filter(audit_log::at.lt(v));
    }
    if let Some(v) = filter.after_seq {
        query = query.filter(audit_log::seq.gt(v));
    }
    let rows = query.order(audit_log::seq.asc()).limit(filter.limit + 1).load(conn)?;
    Ok(Page::from_overfetch(rows, filter.limit, |r| r.seq.to_string()))
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    pub entries: i64,
    /// The first sequence number whose row is missing, edited or out of chain.
    pub first_broken_seq: Option<i64>,
}

/// Walks the whole chain in batches and recomputes every hash; also checks that the head
/// matches the last row, which catches deletion of the newest entries.
pub fn verify(conn: &mut AnyConnection) -> Result<Verification, RepoError> {
    const BATCH: i64 = 5_000;
    let mut expected_seq = 1_i64;
    let mut prev_hash = domain::audit::GENESIS_HASH.to_owned();
    let mut entries = 0_i64;
    loop {
        let rows: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.ge(expected_seq))
            .order(audit_log::seq.asc())
            .limit(BATCH)
            .select(AuditRow::as_select())
            .load(conn)?;
        let batch_len = rows.len();
        for row in rows {
            let broken = row.seq != expected_seq || row.prev_hash != prev_hash || compute_hash(&row, &prev_hash) != row.hash;
            if broken {
                return Ok(Verification { ok: false, entries: entries + 1, first_broken_seq: Some(expected_seq) });
            }
            entries += 1;
            expected_seq += 1;
            prev_hash = row.hash;
        }
        if i64::try_from(batch_len).unwrap_or(0) < BATCH {
            break;
        }
    }
    let (last_seq, last_hash): (i64, String) =
        audit_head::table.find(1).select((audit_head::last_seq, audit_head::last_hash)).first(conn)?;
    if last_seq != entries || last_hash != prev_hash {
        return Ok(Verification { ok: false, entries, first_broken_seq: Some(expected_seq) });
    }
    Ok(Verification { ok: true, entries, first_broken_seq: None })
}
