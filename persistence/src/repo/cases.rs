//! Cases and their event history. Structured parts (applicant, documents, form data) are JSON
//! text; the columns exist for filtering, scope and deadlines.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::column::{OptName, OptWire, Wire};
use crate::repo::Page;
use crate::schema::{case_documents, case_events, case_ratings, cases};
use crate::{AnyConnection, RepoError};
use domain::case::intake::CaseSource;
use domain::case::{CaseStatus, EventAction};
use domain::procedure::Channel;

/// A stored case. No `Debug`: it holds personal data.
#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = cases, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct CaseRow {
    pub id: String,
    pub code: String,
    pub procedure_code: String,
    pub procedure_version: i32,
    pub agency_id: String,
    #[diesel(serialize_as = String, deserialize_as = Wire<Channel>)]
    pub channel: Channel,
    #[diesel(serialize_as = String, deserialize_as = Wire<CaseSource>)]
    pub source: CaseSource,
    pub external_id: Option<String>,
    #[diesel(serialize_as = String, deserialize_as = Wire<CaseStatus>)]
    pub status: CaseStatus,
    pub owner_id: Option<String>,
    pub applicant: String,
    pub representative: Option<String>,
    pub summary: String,
    pub form_data: String,
    pub documents: String,
    #[diesel(serialize_as = String, deserialize_as = Wire<Channel>)]
    pub return_method: Channel,
    pub current_step: Option<String>,
    pub assignee_id: Option<String>,
    #[diesel(deserialize_as = crate::timestamp::Ts)]
    pub submitted_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub received_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub due_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub original_due_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub paused_at: Option<NaiveDateTime>,
    pub supplement_count: i32,
    pub supplement_seconds: i64,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub finished_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub returned_at: Option<NaiveDateTime>,
    pub revision: i32,
    #[diesel(deserialize_as = crate::timestamp::Ts)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::timestamp::Ts)]
    pub updated_at: NaiveDateTime,
    /// Folded code and names, for the inbox search.
    pub search: String,
    /// When the current workflow step is due.
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub step_due_at: Option<NaiveDateTime>,
}

/// One event of a case's history.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = case_events, treat_none_as_default_value = false)]
pub struct EventRow {
    pub case_id: String,
    pub seq: i32,
    #[diesel(deserialize_as = crate::timestamp::Ts)]
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    #[diesel(serialize_as = String, deserialize_as = Wire<EventAction>)]
    pub action: EventAction,
    #[diesel(serialize_as = OptName, deserialize_as = OptWire<CaseStatus>)]
    pub from_status: Option<CaseStatus>,
    #[diesel(serialize_as = String, deserialize_as = Wire<CaseStatus>)]
    pub to_status: CaseStatus,
    pub step: Option<String>,
    pub note: Option<String>,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub due_at: Option<NaiveDateTime>,
    /// When the step entered by this event is due.
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub step_due_at: Option<NaiveDateTime>,
    /// The action's parameters (supplement items, payment items, decision, hand-over), JSON.
    pub details: Option<String>,
}

/// Stores a new case and counts it in the statistics.
pub fn insert(conn: &mut AnyConnection, row: &CaseRow) -> Result<(), RepoError> {
    crate::repo::stats::insert_counted(conn, diesel::insert_into(cases::table).values(row.clone()), row)
}

/// Stores many cases and their events at once (bulk loading; call inside a transaction). The
/// statistics are marked for a rebuild ([`crate::repo::stats::ensure_built`]) instead of being
/// counted case by case.
pub fn insert_many(conn: &mut AnyConnection, rows: &[CaseRow], events: &[EventRow]) -> Result<(), RepoError> {
    crate::repo::stats::invalidate(conn)?;
    // Stay under SQLite's 32,766 bind parameters per statement.
    for chunk in rows.chunks(800) {
        crate::per_backend!(conn, |c| diesel::insert_into(cases::table).values(chunk.to_vec()).execute(c))?;
    }
    for chunk in events.chunks(2000) {
        crate::per_backend!(conn, |c| diesel::insert_into(case_events::table).values(chunk.to_vec()).execute(c))?;
    }
    Ok(())
}

/// One case by code.
pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<CaseRow>, RepoError> {
    Ok(cases::table.filter(cases::code.eq(code)).select(CaseRow::as_select()).first(conn).optional()?)
}

/// What the public lookup reads of a case (names come from the caller's cache).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct LookupRow {
    pub code: String,
    pub status: String,
    pub received_at: Option<NaiveDateTime>,
    pub due_at: Option<NaiveDateTime>,
    pub procedure_code: String,
    pub procedure_version: i32,
    pub agency_id: String,
}

/// The id of the case with this code.
pub fn id_of(conn: &mut AnyConnection, code: &str) -> Result<Option<String>, RepoError> {
    Ok(cases::table.filter(cases::code.eq(code)).select(cases::id).first(conn).optional()?)
}

/// The public projection of one case, in one indexed read. The query runs on the concrete
/// connection: through `AnyConnection` diesel writes the SQL text anew on every run to find the
/// prepared statement, which cost more than the read itself.
pub fn lookup(conn: &mut AnyConnection, code: &str) -> Result<Option<LookupRow>, RepoError> {
    Ok(crate::per_backend!(conn, |c| cases::table.filter(cases::code.eq(code)).select(LookupRow::as_select()).first(c).optional())?)
}

/// The public projections of the cases with these codes (unknown codes are left out).
pub fn lookup_many(conn: &mut AnyConnection, codes: &[String]) -> Result<Vec<LookupRow>, RepoError> {
    Ok(crate::per_backend!(conn, |c| cases::table.filter(cases::code.eq_any(codes)).select(LookupRow::as_select()).load(c))?)
}

/// One case by code, locked until the transaction ends on PostgreSQL.
pub fn find_for_update(conn: &mut AnyConnection, code: &str) -> Result<Option<CaseRow>, RepoError> {
    Ok(match conn {
        AnyConnection::Postgresql(c) => {
            cases::table.filter(cases::code.eq(code)).select(CaseRow::as_select()).for_update().first(c).optional()?
        }
        AnyConnection::Sqlite(c) => cases::table.filter(cases::code.eq(code)).select(CaseRow::as_select()).first(c).optional()?,
    })
}

/// The case forwarded earlier with `external_id`.
pub fn find_by_external_id(conn: &mut AnyConnection, external_id: &str) -> Result<Option<CaseRow>, RepoError> {
    Ok(cases::table.filter(cases::external_id.eq(external_id)).select(CaseRow::as_select()).first(conn).optional()?)
}

/// Writes every column of `row`, which was `before` when read with [`find_for_update`], and
/// counts the change in the statistics.
pub fn save(conn: &mut AnyConnection, before: &CaseRow, row: &CaseRow) -> Result<(), RepoError> {
    crate::repo::stats::save_counted(conn, diesel::update(cases::table.find(&row.id)).set(row.clone()), before, row)
}

/// Appends an event with the next sequence number.
pub fn append_event(conn: &mut AnyConnection, mut event: EventRow) -> Result<EventRow, RepoError> {
    let last: Option<i32> =
        case_events::table.filter(case_events::case_id.eq(&event.case_id)).select(diesel::dsl::max(case_events::seq)).first(conn)?;
    event.seq = last.unwrap_or(0) + 1;
    diesel::insert_into(case_events::table).values(event.clone()).execute(conn)?;
    Ok(event)
}

/// The first event of a new case (sequence 1; nothing to look up), with the outbox `messages`
/// that report it (in the same statement on PostgreSQL).
pub fn insert_first_event(
    conn: &mut AnyConnection,
    event: &EventRow,
    messages: &[crate::repo::outbox::NewMessage],
) -> Result<(), RepoError> {
    crate::repo::outbox::enqueue_with(conn, diesel::insert_into(case_events::table).values(event.clone()), event.at, messages)
}

/// The history of a case, oldest first.
pub fn events(conn: &mut AnyConnection, case_id: &str) -> Result<Vec<EventRow>, RepoError> {
    Ok(case_events::table
        .filter(case_events::case_id.eq(case_id))
        .order(case_events::seq.asc())
        .select(EventRow::as_select())
        .load(conn)?)
}

/// What the national portal is told of a case (its form data, search text and workflow state
/// are not read). No `Debug`: it holds personal data.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct SyncRow {
    pub id: String,
    pub code: String,
    pub procedure_code: String,
    pub procedure_version: i32,
    pub agency_id: String,
    pub channel: String,
    pub applicant: String,
    pub summary: String,
    pub documents: String,
    pub return_method: String,
    #[diesel(deserialize_as = crate::timestamp::Ts)]
    pub submitted_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub received_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub finished_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::timestamp::OptTs)]
    pub returned_at: Option<NaiveDateTime>,
}

/// What the portal is told of the cases with these ids, in no particular order (unknown ids
/// are left out).
///
/// # Errors
/// Database errors.
pub fn sync_rows(conn: &mut AnyConnection, ids: &[&str]) -> Result<Vec<SyncRow>, RepoError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        // On the concrete connection: PostgreSQL then gets one array (`= ANY`) rather than a
        // list of binds, a statement planned once.
        let rows: Vec<SyncRow> =
            crate::per_backend!(&mut *conn, |c| cases::table.filter(cases::id.eq_any(chunk)).select(SyncRow::as_select()).load(c))?;
        out.extend(rows);
    }
    Ok(out)
}

/// The events named by `(case id, sequence number)`, in no particular order (unknown ones are
/// left out): one indexed probe of the history's key per event. On PostgreSQL the pairs go as
/// two arrays (`unnest`), one statement whatever their number; an `OR` of one condition per
/// event was parsed and planned anew each time, which took a third of the outbox dispatcher's
/// throughput there. SQLite, in process, takes the `OR` (one key probe per term).
///
/// # Errors
/// Database errors.
pub fn events_at(conn: &mut AnyConnection, wanted: &[(&str, i32)]) -> Result<Vec<EventRow>, RepoError> {
    use diesel::sql_types::{Array, Integer, Text};
    let mut out = Vec::with_capacity(wanted.len());
    for chunk in wanted.chunks(200) {
        match conn {
            AnyConnection::Postgresql(c) => out.extend(
                diesel::sql_query(
                    "SELECT e.* FROM case_events e JOIN unnest($1::text[], $2::int4[]) AS w (case_id, seq) \
                     ON e.case_id = w.case_id AND e.seq = w.seq",
                )
                .bind::<Array<Text>, _>(chunk.iter().map(|(id, _)| *id).collect::<Vec<_>>())
                .bind::<Array<Integer>, _>(chunk.iter().map(|(_, seq)| *seq).collect::<Vec<_>>())
                .load::<EventRow>(c)?,
            ),
            AnyConnection::Sqlite(c) => {
                let mut query = case_events::table.select(EventRow::as_select()).into_boxed();
                for (case_id, seq) in chunk {
                    query = query.or_filter(case_events::case_id.eq(*case_id).and(case_events::seq.eq(*seq)));
                }
                out.extend(query.load(c)?);
            }
        }
    }
    Ok(out)
}

/// Filters of the case list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only this owner's cases (citizens).
    pub owner_id: Option<String>,
    /// Only cases of agencies under this path prefix (agency-bound staff).
    pub under_path: Option<String>,
    pub status: Option<CaseStatus>,
    pub procedure_code: Option<String>,
    pub agency_id: Option<String>,
    pub channel: Option<Channel>,
    /// Only cases that came this way (the national portal's own for its client).
    pub source: Option<CaseSource>,
    pub assignee_id: Option<String>,
    /// Pending cases whose due date has passed `now`.
    pub overdue_at: Option<NaiveDateTime>,
    pub due_before: Option<NaiveDateTime>,
    pub received_from: Option<NaiveDateTime>,
    pub received_to: Option<NaiveDateTime>,
    /// Folded `LIKE` pattern on code and names.
    pub search_like: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

/// The statuses whose due date still runs.
pub const PENDING: [&str; 4] = ["accepted", "processing", "supplement_requested", "awaiting_payment"];

/// A page of cases, oldest first.
pub fn list(conn: &mut AnyConnection, filter: &CaseFilter) -> Result<Page<CaseRow>, RepoError> {
    let mut query = cases::table.select(CaseRow::as_select()).into_boxed();
    if let Some(v) = &filter.owner_id {
        query = query.filter(cases::owner_id.eq(v.clone()));
    }
    if let Some(prefix) = &filter.under_path {
        // The subtree's agencies first (a handful to a few hundred ids): with a literal list the
        // planner walks the (agency, status, id) or (status, id) index in page order.
        let ids = crate::repo::agencies::ids_under(conn, prefix)?;
        query = query.filter(cases::agency_id.eq_any(ids));
    }
    if let Some(v) = &filter.status {
        query = query.filter(cases::status.eq(v.as_str()));
    }
    if let Some(v) = &filter.procedure_code {
        query = query.filter(cases::procedure_code.eq(v.clone()));
    }
    if let Some(v) = &filter.agency_id {
        query = query.filter(cases::agency_id.eq(v.clone()));
    }
    if let Some(v) = &filter.channel {
        query = query.filter(cases::channel.eq(v.as_str()));
    }
    if let Some(v) = &filter.source {
        query = query.filter(cases::source.eq(v.as_str()));
    }
    if let Some(v) = &filter.assignee_id {
        query = query.filter(cases::assignee_id.eq(v.clone()));
    }
    if let Some(now) = filter.overdue_at {
        query = query.filter(cases::status.eq_any(PENDING)).filter(cases::due_at.lt(now));
    }
    if let Some(v) = filter.due_before {
        query = query.filter(cases::due_at.lt(v));
    }
    if let Some(v) = filter.received_from {
        query = query.filter(cases::received_at.ge(v));
    }
    if let Some(v) = filter.received_to {
        query = query.filter(cases::received_at.lt(v));
    }
    if let Some(v) = &filter.search_like {
        query = query.filter(cases::search.like(v.clone()).escape('\\'));
    }
    if let Some(after) = &filter.after {
        query = query.filter(cases::id.gt(after.clone()));
    }
    let rows = query.order(cases::id.asc()).limit(filter.limit + 1).load(conn)?;
    Ok(Page::from_overfetch(rows, filter.limit, |r| r.id.clone()))
}

/// A file of a case (metadata; the bytes are in the file store).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_documents, treat_none_as_default_value = false)]
pub struct DocumentRow {
    pub id: String,
    pub case_id: String,
    /// `application`, `supplement` or `result`.
    pub kind: String,
    pub requirement_code: Option<String>,
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Records a document.
pub fn insert_document(conn: &mut AnyConnection, row: &DocumentRow) -> Result<(), RepoError> {
    diesel::insert_into(case_documents::table).values(row).execute(conn)?;
    Ok(())
}

/// The documents of a case, oldest first (bounded: a case has a few dozen at most).
pub fn documents(conn: &mut AnyConnection, case_id: &str) -> Result<Vec<DocumentRow>, RepoError> {
    Ok(case_documents::table
        .filter(case_documents::case_id.eq(case_id))
        .order(case_documents::id.asc())
        .limit(500)
        .select(DocumentRow::as_select())
        .load(conn)?)
}

/// Whether the case has a document of `kind`.
pub fn has_document(conn: &mut AnyConnection, case_id: &str, kind: &str) -> Result<bool, RepoError> {
    let n: i64 =
        case_documents::table.filter(case_documents::case_id.eq(case_id)).filter(case_documents::kind.eq(kind)).count().get_result(conn)?;
    Ok(n > 0)
}

/// The applicant's rating of a case.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_ratings, treat_none_as_default_value = false)]
pub struct RatingRow {
    pub case_id: String,
    /// `very_satisfied`, `satisfied` or `unsatisfied`.
    pub satisfaction: String,
    pub comment: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Stores the rating; a second one for the same case is a conflict (the primary key).
pub fn insert_rating(conn: &mut AnyConnection, row: &RatingRow) -> Result<(), RepoError> {
    diesel::insert_into(case_ratings::table).values(row).execute(conn)?;
    Ok(())
}

/// How many ratings of each satisfaction level were given in `[from, to)` to cases of the
/// agencies under `under_path` (all agencies when `None`).
pub fn rating_counts(
    conn: &mut AnyConnection,
    under_path: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(String, i64)>, RepoError> {
    let mut query = case_ratings::table
        .inner_join(cases::table.on(cases::id.eq(case_ratings::case_id)))
        .filter(case_ratings::created_at.ge(from))
        .filter(case_ratings::created_at.lt(to))
        .group_by(case_ratings::satisfaction)
        .select((case_ratings::satisfaction, diesel::dsl::count_star()))
        .into_boxed();
    if let Some(prefix) = under_path {
        let ids = crate::repo::agencies::ids_under(conn, prefix)?;
        query = query.filter(cases::agency_id.eq_any(ids));
    }
    Ok(query.load(conn)?)
}
