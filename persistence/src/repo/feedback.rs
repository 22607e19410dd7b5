//! Feedback and petitions (phản ánh, kiến nghị), their history and attachments.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::upsert::excluded;

use domain::feedback::{EventAction, FeedbackCategory, FeedbackKind, FeedbackStatus};

use crate::column::{OptName, OptWire, Wire};
use crate::repo::Page;
use crate::schema::{agencies, feedback, feedback_documents, feedback_events, feedback_sequences};
use crate::{AnyConnection, RepoError};

/// A stored item. No `Debug`: it holds the sender's contact details.
#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = feedback, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct FeedbackRow {
    pub id: String,
    pub code: String,
    #[diesel(serialize_as = String, deserialize_as = Wire<FeedbackKind>)]
    pub kind: FeedbackKind,
    #[diesel(serialize_as = String, deserialize_as = Wire<FeedbackCategory>)]
    pub category: FeedbackCategory,
    pub title: String,
    pub content: String,
    /// JSON `{full_name, phone?, email?, address?}`: personal, never public.
    pub contact: String,
    pub submitter_id: Option<String>,
    pub agency_id: String,
    pub related_case_id: Option<String>,
    pub related_case_code: Option<String>,
    #[diesel(serialize_as = String, deserialize_as = Wire<FeedbackStatus>)]
    pub status: FeedbackStatus,
    pub submitted_at: NaiveDateTime,
    pub reception_due_at: NaiveDateTime,
    pub supplement_due_at: NaiveDateTime,
    pub answer_due_at: NaiveDateTime,
    pub publish_due_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub accepted_at: Option<NaiveDateTime>,
    pub first_supplement_at: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    /// The reason of the last refusal or supplement request.
    pub reason: Option<String>,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    /// The sender's reaction to the published answer.
    pub useful: Option<bool>,
    pub revision: i32,
    pub updated_at: NaiveDateTime,
    /// Folded code, title and content, for search.
    pub search: String,
    /// The national PAKN system's id, for items assigned from there.
    pub external_id: Option<String>,
}

/// One step of an item's history.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback_events, treat_none_as_default_value = false)]
pub struct FeedbackEventRow {
    pub feedback_id: String,
    pub seq: i32,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    #[diesel(serialize_as = String, deserialize_as = Wire<EventAction>)]
    pub action: EventAction,
    #[diesel(serialize_as = OptName, deserialize_as = OptWire<FeedbackStatus>)]
    pub from_status: Option<FeedbackStatus>,
    #[diesel(serialize_as = String, deserialize_as = Wire<FeedbackStatus>)]
    pub to_status: FeedbackStatus,
    pub note: Option<String>,
}

/// An attachment.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback_documents, treat_none_as_default_value = false)]
pub struct FeedbackDocumentRow {
    pub id: String,
    pub feedback_id: String,
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The next number of the items submitted on `date` (one atomic upsert; call in the
/// transaction that stores the item).
///
/// # Errors
/// Database errors.
pub fn next_number(conn: &mut AnyConnection, date: NaiveDate) -> Result<i64, RepoError> {
    use feedback_sequences::dsl as s;
    Ok(crate::per_backend!(conn, |c| diesel::insert_into(s::feedback_sequences)
        .values((s::local_date.eq(date), s::last_value.eq(1_i64)))
        .on_conflict(s::local_date)
        .do_update()
        .set(s::last_value.eq(s::last_value + excluded(s::last_value)))
        .returning(s::last_value)
        .get_result(c))?)
}

/// Stores a new item with its first event.
///
/// # Errors
/// Database errors.
pub fn insert(conn: &mut AnyConnection, row: &FeedbackRow, event: &FeedbackEventRow) -> Result<(), RepoError> {
    diesel::insert_into(feedback::table).values(row.clone()).execute(conn)?;
    diesel::insert_into(feedback_events::table).values(event.clone()).execute(conn)?;
    Ok(())
}

/// The item with a national PAKN id, if it was taken over already.
///
/// # Errors
/// Database errors.
pub fn find_by_external_id(conn: &mut AnyConnection, external_id: &str) -> Result<Option<FeedbackRow>, RepoError> {
    Ok(feedback::table.filter(feedback::external_id.eq(external_id)).select(FeedbackRow::as_select()).first(conn).optional()?)
}

/// One item by code.
///
/// # Errors
/// Database errors.
pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<FeedbackRow>, RepoError> {
    Ok(feedback::table.filter(feedback::code.eq(code)).select(FeedbackRow::as_select()).first(conn).optional()?)
}

/// One item by code, locked for a change (PostgreSQL row lock; SQLite holds the write lock).
///
/// # Errors
/// Database errors.
pub fn find_for_update(conn: &mut AnyConnection, code: &str) -> Result<Option<FeedbackRow>, RepoError> {
    Ok(match conn {
        AnyConnection::Postgresql(c) => {
            feedback::table.filter(feedback::code.eq(code)).select(FeedbackRow::as_select()).for_update().first(c).optional()?
        }
        AnyConnection::Sqlite(c) => feedback::table.filter(feedback::code.eq(code)).select(FeedbackRow::as_select()).first(c).optional()?,
    })
}

/// Writes every column of `row`.
///
/// # Errors
/// Database errors.
pub fn save(conn: &mut AnyConnection, row: &FeedbackRow) -> Result<(), RepoError> {
    diesel::update(feedback::table.find(&row.id)).set(row.clone()).execute(conn)?;
    Ok(())
}

/// Appends an event with the next sequence number.
///
/// # Errors
/// Database errors.
pub fn append_event(conn: &mut AnyConnection, mut event: FeedbackEventRow) -> Result<(), RepoError> {
    let last: Option<i32> = feedback_events::table
        .filter(feedback_events::feedback_id.eq(&event.feedback_id))
        .select(diesel::dsl::max(feedback_events::seq))
        .first(conn)?;
    event.seq = last.unwrap_or(0) + 1;
    diesel::insert_into(feedback_events::table).values(event).execute(conn)?;
    Ok(())
}

/// The history of an item, oldest first.
///
/// # Errors
/// Database errors.
pub fn events(conn: &mut AnyConnection, feedback_id: &str) -> Result<Vec<FeedbackEventRow>, RepoError> {
    Ok(feedback_events::table
        .filter(feedback_events::feedback_id.eq(feedback_id))
        .order(feedback_events::seq.asc())
        .select(FeedbackEventRow::as_select())
        .load(conn)?)
}

/// Filters of the staff and owner lists.
#[derive(Debug, Clone, Default)]
pub struct FeedbackFilter {
    /// Agencies under this path.
    pub under_path: Option<String>,
    /// Sent by this user.
    pub submitter_id: Option<String>,
    pub status: Option<FeedbackStatus>,
    pub category: Option<FeedbackCategory>,
    /// Open items whose answer deadline passed before this instant.
    pub answer_overdue_at: Option<NaiveDateTime>,
    /// Folded `LIKE` pattern on code, title and content.
    pub search_like: Option<String>,
    /// Only published items (the public list).
    pub published_only: bool,
    pub after: Option<String>,
    pub limit: i64,
}

/// Items matching `filter`, newest first by id (UUIDv7), keyset-paged.
///
/// # Errors
/// Database errors.
pub fn list(conn: &mut AnyConnection, filter: &FeedbackFilter) -> Result<Page<FeedbackRow>, RepoError> {
    let mut q = feedback::table.select(FeedbackRow::as_select()).order(feedback::id.desc()).limit(filter.limit + 1).into_boxed();
    if let Some(path) = &filter.under_path {
        let ids = agencies::table.filter(agencies::path.like(format!("{path}%"))).select(agencies::id);
        q = q.filter(feedback::agency_id.eq_any(ids));
    }
    if let Some(id) = &filter.submitter_id {
        q = q.filter(feedback::submitter_id.eq(id.clone()));
    }
    if let Some(status) = &filter.status {
        q = q.filter(feedback::status.eq(status.as_str()));
    }
    if let Some(category) = &filter.category {
        q = q.filter(feedback::category.eq(category.as_str()));
    }
    if let Some(at) = filter.answer_overdue_at {
        q = q.filter(feedback::answer_due_at.lt(at)).filter(feedback::status.eq_any([
            "received",
            "accepted",
            "supplement_requested",
            "assigned",
        ]));
    }
    if let Some(pattern) = &filter.search_like {
        q = q.filter(feedback::search.like(pattern.clone()).escape('\\'));
    }
    if filter.published_only {
        q = q.filter(feedback::status.eq(FeedbackStatus::Published.as_str()));
    }
    if let Some(after) = &filter.after {
        q = q.filter(feedback::id.lt(after.clone()));
    }
    Ok(Page::from_overfetch(q.load(conn)?, filter.limit, |r| r.id.clone()))
}

/// Conduct complaints about a case that were not refused (indicator 7: a complaint counts
/// unless shown unfounded).
///
/// # Errors
/// Database errors.
pub fn conduct_complaints(conn: &mut AnyConnection, case_id: &str) -> Result<i64, RepoError> {
    Ok(feedback::table
        .filter(feedback::related_case_id.eq(case_id))
        .filter(feedback::category.eq("conduct"))
        .filter(feedback::status.ne("refused"))
        .count()
        .get_result(conn)?)
}

/// The items of an agency subtree submitted in `[from, to)` (indicator 8).
///
/// # Errors
/// Database errors.
pub fn submitted_between(
    conn: &mut AnyConnection,
    under_path: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<FeedbackRow>, RepoError> {
    let ids = agencies::table.filter(agencies::path.like(format!("{under_path}%"))).select(agencies::id);
    Ok(feedback::table
        .filter(feedback::agency_id.eq_any(ids))
        .filter(feedback::submitted_at.ge(from))
        .filter(feedback::submitted_at.lt(to))
        .select(FeedbackRow::as_select())
        .load(conn)?)
}

/// Stores an attachment.
///
/// # Errors
/// Database errors.
pub fn insert_document(conn: &mut AnyConnection, row: &FeedbackDocumentRow) -> Result<(), RepoError> {
    diesel::insert_into(feedback_documents::table).values(row).execute(conn)?;
    Ok(())
}

/// The attachments of an item, oldest first.
///
/// # Errors
/// Database errors.
pub fn documents(conn: &mut AnyConnection, feedback_id: &str) -> Result<Vec<FeedbackDocumentRow>, RepoError> {
    Ok(feedback_documents::table
        .filter(feedback_documents::feedback_id.eq(feedback_id))
        .order(feedback_documents::id.asc())
        .select(FeedbackDocumentRow::as_select())
        .load(conn)?)
}

/// Published items count (public statistics).
///
/// # Errors
/// Database errors.
pub fn published_count(conn: &mut AnyConnection) -> Result<i64, RepoError> {
    Ok(feedback::table.filter(feedback::status.eq(FeedbackStatus::Published.as_str())).count().get_result(conn)?)
}
