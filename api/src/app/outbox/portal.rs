//! What the national portal is sent: the reference a case event's message holds, and the
//! dossier and progress built from the case and its event at delivery.

use domain::outbox::Target;
use integrations::national::portal::{CaseSnapshot, CaseSync, Party, ProgressEntry, SubmittedDocument};
use persistence::AnyConnection;
use persistence::repo::cases::{CaseRow, EventRow};
use persistence::repo::outbox::{LeasedMessage, NewMessage};

use crate::app::AppError;
use crate::state::AppState;

/// The kind of a portal message that names the case event it reports
/// ([`CaseEventRef`]); the dispatcher builds what the portal is sent at delivery
/// ([`portal_syncs`]).
pub const CASE_EVENT: &str = "case_event";

/// The kind of a portal message that carries the [`CaseSync`] itself, as messages were written
/// before `case_event`; such messages still in the queue are delivered as they are.
pub const CASE_SYNC: &str = "case_sync";

/// The payload of a `case_event` message: which event of which case it reports. The event is
/// immutable; the case is read at delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaseEventRef {
    pub case_id: String,
    pub event_seq: i32,
}

/// The portal message of a case event: a reference to the event, not a copy of the case. A
/// copy (about 1.2 KB of JSON, with the applicant's personal data) was built, written and later
/// rewritten by every claim and outcome on the writer that intake waits for.
pub(super) fn portal_message(case: &CaseRow, event: &EventRow) -> Result<NewMessage, AppError> {
    let reference = CaseEventRef { case_id: case.id.clone(), event_seq: event.seq };
    Ok(NewMessage {
        target: domain::outbox::Target::NationalPortal.as_str().to_owned(),
        kind: CASE_EVENT.into(),
        ordering_key: case.id.clone(),
        subject: case.code.clone(),
        payload: serde_json::to_string(&reference).map_err(AppError::internal)?,
    })
}

/// What the portal is sent for one event of a case: the case as the event left it (the event's
/// status and due date; the dates of later steps left out) with its current applicant, summary
/// and documents, and the event as one progress entry.
///
/// # Errors
/// A case or event that does not read back (stored status, applicant or documents).
fn case_sync(
    case: &persistence::repo::cases::SyncRow,
    event: &EventRow,
    procedure: &crate::names::ProcedureLabel,
    agency: (String, String),
    actor_name: String,
) -> Result<CaseSync, String> {
    let status = event.to_status;
    let applicant: persistence::stored::case::Party =
        serde_json::from_str(&case.applicant).map_err(|e| format!("unreadable applicant: {e}"))?;
    let documents: Vec<persistence::stored::case::DeclaredDocument> =
        serde_json::from_str(&case.documents).map_err(|e| format!("unreadable documents: {e}"))?;
    let utc = |at: Option<chrono::NaiveDateTime>| at.map(|a| a.and_utc());
    // A date the case reached after this event is not part of it.
    let by_event = |at: Option<chrono::NaiveDateTime>| utc(at.filter(|a| *a <= event.at));
    let action_label = event.action.label().vi.to_owned();
    let (agency_code, agency_name) = agency;
    Ok(CaseSync {
        case: CaseSnapshot {
            code: case.code.clone(),
            procedure_code: case.procedure_code.clone(),
            procedure_name: procedure.name.clone(),
            field_code: Some(procedure.field_code.clone()),
            field_name: Some(procedure.field_name.clone()),
            channel: case.channel.clone(),
            applicant: Party {
                kind: applicant.kind,
                full_name: applicant.full_name,
                id_type: applicant.id_type,
                id_number: applicant.id_number,
                phone: applicant.phone,
                email: applicant.email,
                address: applicant.address,
            },
            summary: case.summary.clone(),
            status_code: status.code(),
            submitted_at: case.submitted_at.and_utc(),
            received_at: by_event(case.received_at),
            due_at: utc(event.due_at),
            finished_at: by_event(case.finished_at),
            refused_at: if status == domain::case::CaseStatus::Refused { by_event(case.finished_at) } else { None },
            returned_at: by_event(case.returned_at),
            agency_code,
            agency_name: agency_name.clone(),
            return_by_post: case.return_method == "postal",
            documents: documents.into_iter().map(|d| SubmittedDocument { requirement_code: d.requirement_code, name: d.name }).collect(),
            note: None,
        },
        progress: vec![ProgressEntry {
            actor_name,
            actor_title: None,
            department: Some(agency_name),
            at: event.at.and_utc(),
            content: match &event.note {
                Some(note) if !note.trim().is_empty() => format!("{action_label}: {note}"),
                _ => action_label,
            },
            status_code: status.code(),
            started_at: Some(event.at.and_utc()),
            due_at: utc(event.step_due_at.or(event.due_at)),
        }],
        first: event.seq == 1,
    })
}

/// What to send the portal for each claimed portal message, by sequence number: read from the
/// case and its event for `case_event` messages (a batch of reads for the lot), parsed for
/// `case_sync` ones; a message that gives nothing to send has the reason instead.
///
/// # Errors
/// Database errors reading the cases and events (the round gives its leases back).
pub(super) fn portal_syncs(
    state: &AppState,
    conn: &mut AnyConnection,
    claimed: &[LeasedMessage],
) -> Result<std::collections::HashMap<i64, Result<CaseSync, String>>, persistence::RepoError> {
    let mut out = std::collections::HashMap::new();
    let mut references = Vec::new();
    for message in claimed.iter().filter(|m| m.target == Target::NationalPortal.as_str()) {
        match message.kind.as_str() {
            CASE_EVENT => match serde_json::from_str::<CaseEventRef>(&message.payload) {
                Ok(reference) => references.push((message.seq, reference)),
                Err(e) => {
                    out.insert(message.seq, Err(format!("unreadable payload: {e}")));
                }
            },
            CASE_SYNC => {
                out.insert(message.seq, serde_json::from_str::<CaseSync>(&message.payload).map_err(|e| format!("unreadable payload: {e}")));
            }
            other => {
                out.insert(message.seq, Err(format!("no delivery for a national portal message of kind `{other}`")));
            }
        }
    }
    if references.is_empty() {
        return Ok(out);
    }
    let ids: Vec<&str> = references.iter().map(|(_, r)| r.case_id.as_str()).collect();
    let cases: std::collections::HashMap<String, persistence::repo::cases::SyncRow> =
        persistence::repo::cases::sync_rows(conn, &ids)?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let wanted: Vec<(&str, i32)> = references.iter().map(|(_, r)| (r.case_id.as_str(), r.event_seq)).collect();
    let events: std::collections::HashMap<(String, i32), EventRow> =
        persistence::repo::cases::events_at(conn, &wanted)?.into_iter().map(|e| ((e.case_id.clone(), e.seq), e)).collect();
    for (seq, reference) in references {
        let sync = match (cases.get(&reference.case_id), events.get(&(reference.case_id.clone(), reference.event_seq))) {
            (Some(case), Some(event)) => labelled_sync(state, conn, case, event),
            _ => Err(format!("event {} of case {} no longer exists", reference.event_seq, reference.case_id)),
        };
        out.insert(seq, sync);
    }
    Ok(out)
}

/// [`case_sync`] with the names it needs, from the instance's cache.
fn labelled_sync(
    state: &AppState,
    conn: &mut AnyConnection,
    case: &persistence::repo::cases::SyncRow,
    event: &EventRow,
) -> Result<CaseSync, String> {
    let procedure = state.names.procedure_label(conn, &case.procedure_code, case.procedure_version).map_err(|e| e.to_string())?;
    let agency = state.names.agency_label(conn, &case.agency_id).map_err(|e| e.to_string())?;
    let actor = match &event.actor_id {
        Some(id) => state.names.user(conn, id).map_err(|e| e.to_string())?,
        None => String::new(),
    };
    case_sync(case, event, &procedure, agency, actor)
}
