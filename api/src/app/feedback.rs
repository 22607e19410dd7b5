//! Feedback and petitions (phản ánh, kiến nghị): submission by a sender or from the national
//! PAKN system, its push to that system, and the deadlines every view and indicator reads.

use chrono::{DateTime, Utc};
use domain::feedback::{self as rules, Deadlines, FeedbackCategory, FeedbackKind, FeedbackStatus, Milestones};
use persistence::AnyConnection;
use persistence::repo::feedback::{self as repo, FeedbackEventRow, FeedbackRow};
use persistence::stored::feedback::Contact;
use serde::Serialize;

use crate::app::AppError;
use crate::auth::RequestMeta;
use crate::state::AppState;

fn utc(at: chrono::NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// Writes the audit entry of a change to the item `code`.
pub fn audit<A: Serialize>(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    actor: Option<&str>,
    action: &str,
    code: &str,
    after: &A,
) -> Result<(), AppError> {
    crate::auditing::record(
        conn,
        meta,
        crate::auditing::Change::<(), _> {
            actor_id: actor,
            action,
            entity_type: "feedback",
            entity_id: code,
            before: None,
            after: Some(after),
        },
    )
}

/// The statutory deadlines of an item.
pub fn deadlines_of(row: &FeedbackRow) -> Deadlines {
    Deadlines {
        reception_due: utc(row.reception_due_at),
        supplement_due: utc(row.supplement_due_at),
        answer_due: utc(row.answer_due_at),
        publish_due: row.publish_due_at.map(utc),
    }
}

/// What has happened to an item, and when.
pub fn milestones_of(row: &FeedbackRow) -> Milestones {
    Milestones {
        decided: row.decided_at.map(utc),
        first_supplement: row.first_supplement_at.map(utc),
        answered: row.answered_at.map(utc),
        published: row.published_at.map(utc),
    }
}

/// The status of an item.
///
/// # Errors
/// A stored status that no longer parses.
pub fn status_of(row: &FeedbackRow) -> Result<FeedbackStatus, AppError> {
    FeedbackStatus::parse(&row.status, "status").map_err(AppError::internal)
}

/// Whether the item is overdue for its agency's indicator 8 and lists.
pub fn handled_on_time(row: &FeedbackRow, now: DateTime<Utc>) -> bool {
    status_of(row).is_ok_and(|s| rules::handled_on_time(s, &deadlines_of(row), &milestones_of(row), now))
}

/// Whether the item is still unanswered past its deadline (indicator 8).
pub fn prolonged(row: &FeedbackRow, now: DateTime<Utc>) -> bool {
    status_of(row).is_ok_and(|s| rules::prolonged(s, &deadlines_of(row), &milestones_of(row), now))
}

/// A new item's content, from a sender or from the national PAKN system.
pub struct NewItem {
    pub kind: FeedbackKind,
    pub category: FeedbackCategory,
    pub title: String,
    pub content: String,
    pub contact: Contact,
    pub submitter_id: Option<String>,
    pub agency: persistence::repo::agencies::AgencyRow,
    pub case: Option<persistence::repo::cases::CaseRow>,
    /// The national id of an item assigned from the national system.
    pub external_id: Option<String>,
}

/// Stores a new item with its code and deadlines, audits it, and queues its push to the
/// national PAKN system (unless it came from there).
///
/// # Errors
/// Database errors.
pub fn submit(conn: &mut AnyConnection, shared: &AppState, meta: &RequestMeta, item: NewItem) -> Result<FeedbackRow, AppError> {
    let now = persistence::now();
    let calendar = crate::app::calendar::load(conn, shared)?;
    let deadlines = rules::deadlines(&calendar, now.and_utc())?;
    let local = domain::time::local_date(now);
    let number = repo::next_number(conn, local)?;
    let code = rules::code(local, number);
    let row = FeedbackRow {
        id: persistence::new_id(),
        search: format!("{} {} {}", code.to_lowercase(), domain::text::fold(&item.title), domain::text::fold(&item.content)),
        code,
        kind: item.kind.as_str().to_owned(),
        category: item.category.as_str().to_owned(),
        title: item.title.trim().to_owned(),
        content: item.content,
        contact: persistence::stored::write(&item.contact)?,
        submitter_id: item.submitter_id.clone(),
        agency_id: item.agency.id.clone(),
        related_case_id: item.case.as_ref().map(|c| c.id.clone()),
        related_case_code: item.case.map(|c| c.code),
        status: FeedbackStatus::Received.as_str().to_owned(),
        submitted_at: now,
        reception_due_at: deadlines.reception_due.naive_utc(),
        supplement_due_at: deadlines.supplement_due.naive_utc(),
        answer_due_at: deadlines.answer_due.naive_utc(),
        publish_due_at: None,
        decided_at: None,
        accepted_at: None,
        first_supplement_at: None,
        answered_at: None,
        published_at: None,
        reason: None,
        answer: None,
        answered_by: None,
        useful: None,
        revision: 1,
        updated_at: now,
        external_id: item.external_id,
    };
    let event = FeedbackEventRow {
        feedback_id: row.id.clone(),
        seq: 1,
        at: now,
        actor_id: item.submitter_id.clone(),
        action: "submit".into(),
        from_status: None,
        to_status: row.status.clone(),
        note: None,
    };
    repo::insert(conn, &row, &event)?;
    audit(conn, meta, item.submitter_id.as_deref(), "feedback.submit", &row.code, &(&row.title, &row.status))?;
    if row.external_id.is_none() {
        pakn_push(conn, shared, &row, "feedback.submitted")?;
    }
    Ok(row)
}

/// Queues the push of an item's current state to the national PAKN system, when configured.
///
/// # Errors
/// Database errors.
pub fn pakn_push(conn: &mut AnyConnection, shared: &AppState, row: &FeedbackRow, kind: &str) -> Result<(), AppError> {
    if !shared.deliverers.has(domain::outbox::Target::Pakn) {
        return Ok(());
    }
    let contact: Contact = persistence::stored::read(&row.contact)?;
    let snapshot = integrations::pakn::FeedbackSnapshot {
        code: row.code.clone(),
        external_id: row.external_id.clone(),
        title: row.title.clone(),
        content: row.content.clone(),
        full_name: contact.full_name,
        phone: contact.phone,
        email: contact.email,
        address: contact.address,
        submitted_at: row.submitted_at.and_utc(),
        status: row.status.clone(),
        answer: row.answer.clone(),
        answered_at: row.answered_at.map(|a| a.and_utc()),
        agency_name: shared.names.agency(conn, &row.agency_id)?,
    };
    persistence::repo::outbox::enqueue(
        conn,
        row.updated_at,
        &[persistence::repo::outbox::NewMessage {
            target: domain::outbox::Target::Pakn.as_str().into(),
            kind: kind.into(),
            ordering_key: row.code.clone(),
            subject: row.code.clone(),
            payload: serde_json::to_string(&snapshot).map_err(AppError::internal)?,
        }],
    )?;
    Ok(())
}
