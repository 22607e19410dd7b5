//! Feedback and petitions (phản ánh, kiến nghị): submission by a sender or from the national
//! PAKN system, its push to that system, and the deadlines every view and indicator reads.

use chrono::{DateTime, Utc};
use domain::feedback::{
    self as rules, Deadlines, FeedbackAction, FeedbackActor, FeedbackCategory, FeedbackKind, FeedbackStatus, Milestones,
};
use domain::{Capability, Role};
use persistence::AnyConnection;
use persistence::repo::agencies;
use persistence::repo::feedback::{self as repo, FeedbackEventRow, FeedbackRow};
use persistence::stored::feedback::Contact;
use serde::Serialize;

use crate::app::AppError;
use crate::auth::{Principal, RequestMeta};
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

/// Whether the item is overdue for its agency's indicator 8 and lists.
pub fn handled_on_time(row: &FeedbackRow, now: DateTime<Utc>) -> bool {
    rules::handled_on_time(row.status, &deadlines_of(row), &milestones_of(row), now)
}

/// Whether the item is still unanswered past its deadline (indicator 8).
pub fn prolonged(row: &FeedbackRow, now: DateTime<Utc>) -> bool {
    rules::prolonged(row.status, &deadlines_of(row), &milestones_of(row), now)
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
    let now = shared.now();
    let calendar = crate::app::calendar::load(conn, shared)?;
    let deadlines = rules::deadlines(&calendar, now.and_utc())?;
    let local = domain::time::local_date(now);
    let number = repo::next_number(conn, local)?;
    let code = rules::code(local, number);
    let row = FeedbackRow {
        id: persistence::new_id(),
        search: format!("{} {} {}", code.to_lowercase(), domain::text::fold(&item.title), domain::text::fold(&item.content)),
        code,
        kind: item.kind,
        category: item.category,
        title: item.title.trim().to_owned(),
        content: item.content,
        contact: persistence::stored::write(&item.contact)?,
        submitter_id: item.submitter_id.clone(),
        agency_id: item.agency.id.clone(),
        related_case_id: item.case.as_ref().map(|c| c.id.clone()),
        related_case_code: item.case.map(|c| c.code),
        status: FeedbackStatus::Received,
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
        action: domain::feedback::EventAction::Submit,
        from_status: None,
        to_status: row.status,
        note: None,
    };
    repo::insert(conn, &row, &event)?;
    audit(conn, meta, item.submitter_id.as_deref(), "feedback.submit", &row.code, &(&row.title, row.status.as_str()))?;
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
        status: row.status.into(),
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

/// How the caller relates to an item.
pub enum Access {
    Sender,
    Staff(FeedbackActor),
    ReadOnly,
}

/// The caller's relation to an item; 404 outside their scope.
///
/// # Errors
/// `not_found`; database errors.
pub fn access(conn: &mut AnyConnection, principal: &Principal, row: &FeedbackRow) -> Result<Access, AppError> {
    if row.submitter_id.as_deref() == Some(principal.user_id.as_str()) {
        return Ok(Access::Sender);
    }
    match principal.role {
        Role::Supervisor | Role::SystemAdmin => Ok(Access::ReadOnly),
        Role::Officer | Role::AgencyAdmin => {
            let agency = agencies::find(conn, &row.agency_id)?.ok_or_else(AppError::not_found)?;
            if !principal.covers_path(&agency.path) {
                return Err(AppError::not_found());
            }
            Ok(Access::Staff(if principal.role == Role::AgencyAdmin {
                FeedbackActor::AgencyAdmin
            } else {
                FeedbackActor::Officer(principal.capabilities.iter().filter_map(|c| Capability::parse(c, "capability").ok()).collect())
            }))
        }
        Role::Citizen | Role::Integration => Err(AppError::not_found()),
    }
}

/// The entity tag of an item's current revision.
pub fn etag(row: &FeedbackRow) -> String {
    format!("\"{}-r{}\"", row.id, row.revision)
}

/// An action on the feedback item `code`.
#[derive(Debug, Clone)]
pub struct ActOnItem {
    pub code: String,
    pub action: FeedbackAction,
    /// The reason, answer, completion or agency id the action requires (trimmed, not empty).
    pub text: Option<String>,
    /// The `If-Match` of the request, if any.
    pub expected_tag: Option<String>,
}

impl From<rules::FeedbackError> for AppError {
    fn from(error: rules::FeedbackError) -> Self {
        match error {
            rules::FeedbackError::Transition { .. } => AppError::internal(error),
            rules::FeedbackError::Invalid(e) => e.into(),
        }
    }
}

/// The timing part of a stored item.
fn timing_of(row: &FeedbackRow) -> Result<rules::ItemTiming, AppError> {
    Ok(rules::ItemTiming {
        status: row.status,
        accepted_at: row.accepted_at.map(|a| a.and_utc()),
        milestones: milestones_of(row),
        publish_due: row.publish_due_at.map(|a| a.and_utc()),
    })
}

/// Takes the action: checks the caller's access and `If-Match`, the transition (409 with the
/// actions allowed) and the caller's capability (403), applies [`rules::apply`], and writes the
/// item, its event, the audit entry, the push to the national PAKN system and the sender's
/// notice of an answer in the caller's transaction.
///
/// # Errors
/// `not_found`, `forbidden`, `precondition_failed`, `invalid_transition`, `validation_failed`;
/// database errors.
pub fn act(
    conn: &mut AnyConnection,
    ctx: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    command: ActOnItem,
) -> Result<(FeedbackRow, Access), AppError> {
    let ActOnItem { code, action, text: given, expected_tag } = command;
    let mut row = repo::find_for_update(conn, &code)?.ok_or_else(AppError::not_found)?;
    let access = access(conn, principal, &row)?;
    let actor = match &access {
        Access::Sender => FeedbackActor::Sender,
        Access::Staff(actor) => actor.clone(),
        Access::ReadOnly => return Err(AppError::forbidden()),
    };
    crate::app::check_if_match(expected_tag.as_deref(), &etag(&row))?;
    let timing = timing_of(&row)?;
    let (from, accepted_before) = (timing.status, timing.accepted_at.is_some());
    if action.target(from, accepted_before).is_none() {
        let allowed = FeedbackAction::available(from, accepted_before, &actor).iter().map(|a| a.as_str().to_owned()).collect();
        return Err(AppError::invalid_transition(allowed));
    }
    if !action.allowed_for(&actor) {
        return Err(AppError::forbidden());
    }
    let now = ctx.now();
    let before = (row.status.as_str(), row.revision);
    // Only an answer reads the calendar (its publication deadline).
    let calendar = (action == FeedbackAction::Respond).then(|| crate::app::calendar::load(conn, ctx)).transpose()?;
    let next = rules::apply(&timing, action, calendar.as_ref(), now.and_utc())?;
    match action {
        FeedbackAction::Refuse | FeedbackAction::RequestSupplement => row.reason.clone_from(&given),
        FeedbackAction::SubmitSupplement => {
            let day = now.and_utc().with_timezone(&domain::time::VN).format("%d/%m/%Y");
            row.content = format!("{}\n\n[Bổ sung {day}]\n{}", row.content, given.clone().unwrap_or_default());
            row.search = format!("{} {}", row.search, domain::text::fold(given.as_deref().unwrap_or_default()));
        }
        FeedbackAction::Assign => {
            let id = given.clone().unwrap_or_default();
            let target = agencies::find(conn, &id)?.ok_or_else(|| AppError::invalid("agency_id", "no such agency"))?;
            if !principal.covers_path(&target.path) {
                return Err(AppError::invalid("agency_id", "is outside your agency"));
            }
            row.agency_id = target.id;
        }
        FeedbackAction::Respond => {
            row.answer.clone_from(&given);
            row.answered_by = Some(principal.user_id.clone());
        }
        FeedbackAction::Accept | FeedbackAction::Publish => {}
    }
    let naive = |at: Option<DateTime<Utc>>| at.map(|a| a.naive_utc());
    row.status = next.status;
    row.accepted_at = naive(next.accepted_at);
    row.decided_at = naive(next.milestones.decided);
    row.first_supplement_at = naive(next.milestones.first_supplement);
    row.answered_at = naive(next.milestones.answered);
    row.published_at = naive(next.milestones.published);
    row.publish_due_at = naive(next.publish_due);
    row.revision += 1;
    row.updated_at = now;
    repo::save(conn, &row)?;
    repo::append_event(
        conn,
        FeedbackEventRow {
            feedback_id: row.id.clone(),
            seq: 0,
            at: now,
            actor_id: Some(principal.user_id.clone()),
            action: action.into(),
            from_status: Some(from),
            to_status: row.status,
            note: given,
        },
    )?;
    crate::auditing::record(
        conn,
        meta,
        crate::auditing::Change {
            actor_id: Some(&principal.user_id),
            action: &format!("feedback.{}", action.as_str()),
            entity_type: "feedback",
            entity_id: &row.code,
            before: Some(&before),
            after: Some(&(row.status.as_str(), row.revision)),
        },
    )?;
    // The national PAKN system hears of decisions and answers; the sender of the answer.
    if action.is_reported_nationally() {
        pakn_push(conn, ctx, &row, &format!("feedback.{}", action.as_str()))?;
    }
    if action == FeedbackAction::Respond {
        let contact: Contact = persistence::stored::read(&row.contact)?;
        let messages = crate::app::outbox::notifications(
            ctx,
            &domain::notification::Notice::FeedbackAnswered,
            crate::app::outbox::Subject { code: &row.code, ordering_key: &row.code },
            contact.phone.as_deref(),
            contact.email.as_deref(),
        )?;
        persistence::repo::outbox::enqueue(conn, now, &messages)?;
    }
    Ok((row, access))
}

/// Feedback from a sender, its fields checked.
pub struct SendFeedback {
    pub kind: FeedbackKind,
    pub category: FeedbackCategory,
    pub title: String,
    pub content: String,
    /// The case it is about.
    pub related_case_code: Option<String>,
    /// The agency it is addressed to; default the case's agency, else the province.
    pub agency_id: Option<String>,
    /// How to reach the sender; a citizen's account gives it when absent.
    pub contact: Option<Contact>,
}

/// Receives feedback from a citizen (`sender`) or an anonymous caller: the contact (given, or
/// the citizen's account), the related case and the agency it goes to, then [`submit`].
///
/// # Errors
/// `validation_failed` for an unknown case or agency, or an anonymous sender without a contact;
/// database errors.
pub fn send(
    conn: &mut AnyConnection,
    ctx: &AppState,
    sender: Option<&Principal>,
    meta: &RequestMeta,
    sent: SendFeedback,
) -> Result<FeedbackRow, AppError> {
    let contact = match (sent.contact, sender) {
        (Some(contact), _) => contact,
        (None, Some(p)) => {
            let user = persistence::repo::users::find(conn, &p.user_id)?.ok_or_else(AppError::not_found)?;
            Contact { full_name: user.full_name, phone: user.phone, email: user.email, address: None }
        }
        (None, None) => return Err(AppError::invalid("contact", "is required")),
    };
    let case = match sent.related_case_code.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(code) => Some(
            persistence::repo::cases::find_by_code(conn, code)?
                .ok_or_else(|| AppError::invalid("related_case_code", "no case has this code"))?,
        ),
        None => None,
    };
    let agency = match (&sent.agency_id, &case) {
        (Some(id), _) => agencies::find(conn, id)?.ok_or_else(|| AppError::invalid("agency_id", "no such agency"))?,
        (None, Some(case)) => agencies::find(conn, &case.agency_id)?.ok_or_else(AppError::not_found)?,
        (None, None) => agencies::root(conn)?.ok_or_else(|| AppError::invalid("agency_id", "no agency exists yet"))?,
    };
    submit(
        conn,
        ctx,
        meta,
        NewItem {
            kind: sent.kind,
            category: sent.category,
            title: sent.title,
            content: sent.content,
            contact,
            submitter_id: sender.map(|p| p.user_id.clone()),
            agency,
            case,
            external_id: None,
        },
    )
}
