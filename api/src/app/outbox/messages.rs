//! Which messages a change writes, in the change's transaction.

use domain::outbox::Target;
use persistence::repo::cases::{CaseRow, EventRow};
use persistence::repo::outbox::{self, NewMessage};
use persistence::{AnyConnection, repo::agencies::AgencyRow};

use super::portal::portal_message;
use crate::app::AppError;
use crate::state::AppState;

/// A case change, with what the messages need that the caller has at hand.
pub struct CaseChange<'a> {
    pub case: &'a CaseRow,
    /// The event the change appended.
    pub event: &'a EventRow,
    /// The case's agency, when the caller has read it already.
    pub agency: Option<&'a AgencyRow>,
}

/// Writes the messages of a case change (call inside its transaction).
///
/// # Errors
/// Database errors.
pub fn case_changed(conn: &mut AnyConnection, state: &AppState, change: &CaseChange<'_>) -> Result<(), AppError> {
    let messages = case_messages(conn, state, change)?;
    outbox::enqueue(conn, change.event.at, &messages)?;
    Ok(())
}

/// The messages of a case change, for the caller to write in its transaction (none when no
/// receiver is configured).
///
/// # Errors
/// Database errors.
pub fn case_messages(conn: &mut AnyConnection, state: &AppState, change: &CaseChange<'_>) -> Result<Vec<outbox::NewMessage>, AppError> {
    let (case, event) = (change.case, change.event);
    let mut messages = Vec::new();
    if state.deliverers.portal.is_some() {
        messages.push(portal_message(case, event)?);
    }
    if ![Target::Sms, Target::Zalo, Target::Email].into_iter().any(|t| state.deliverers.has(t)) {
        return Ok(messages);
    }
    let status = case.status;
    let agency_name = match change.agency {
        Some(a) => a.name.clone(),
        None => state.names.agency(conn, &case.agency_id)?,
    };
    if let Some(notice) = domain::notification::Notice::of_case_action(event.action, status, case.due_at.map(|d| d.and_utc()), &agency_name)
    {
        let applicant: persistence::stored::case::Party = persistence::stored::read(&case.applicant)?;
        let about = Subject { code: &case.code, ordering_key: &case.id };
        messages.extend(notifications(state, &notice, about, applicant.phone.as_deref(), applicant.email.as_deref())?);
    }
    Ok(messages)
}

/// What messages are about: the case or feedback code people see (the subject) and the key
/// that orders them.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub code: &'a str,
    /// A case's messages are ordered by its id (time-ordered, so new cases' messages go at the
    /// end of the ordering index), a feedback's by its code.
    pub ordering_key: &'a str,
}

/// The ordering key of every report snapshot: they are pushed in the order they were frozen.
pub const REPORTS_KEY: &str = "reports";

/// The ordering keys under which the messages about `subject` (a case or feedback code, or a
/// report snapshot id) are written: the subject itself, the reports' key, and the id of the
/// case with that code.
///
/// # Errors
/// Database errors.
pub fn subject_keys(conn: &mut AnyConnection, subject: &str) -> Result<Vec<String>, AppError> {
    let mut keys = vec![subject.to_owned(), REPORTS_KEY.to_owned()];
    if let Some(id) = persistence::repo::cases::id_of(conn, subject)? {
        keys.push(id);
    }
    Ok(keys)
}

/// The messages of `notice` about `about` to the applicant's phone (SMS, Zalo) and e-mail, on
/// the gateways configured here.
///
/// # Errors
/// Serialisation errors only.
pub fn notifications(
    state: &AppState,
    notice: &domain::notification::Notice,
    about: Subject<'_>,
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<Vec<NewMessage>, AppError> {
    let code = about.code;
    let link = state.config.lookup_link.as_deref().map(|template| template.replace("{code}", code));
    let message = domain::notification::render(notice, code, link.as_deref());
    let phone = phone.map(str::trim).filter(|p| !p.is_empty());
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    let mut out = Vec::new();
    for target in [Target::Sms, Target::Zalo, Target::Email] {
        if !state.deliverers.has(target) {
            continue;
        }
        let payload = match (target, phone, email) {
            (Target::Sms, Some(phone), _) => integrations::gateway::sms(phone, &message.text),
            (Target::Zalo, Some(phone), _) => integrations::gateway::zalo(phone, &message.text),
            (Target::Email, _, Some(email)) => integrations::gateway::email(email, &message.subject, &message.text),
            _ => continue,
        };
        out.push(NewMessage {
            target: target.as_str().to_owned(),
            kind: format!("notification.{}", notice.kind()),
            ordering_key: about.ordering_key.to_owned(),
            subject: code.to_owned(),
            payload: payload.to_string(),
        });
    }
    Ok(out)
}
