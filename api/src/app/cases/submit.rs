//! Opening a case: online by a citizen, at the counter or by post by a reception officer, or
//! forwarded by the national portal (idempotent by its id).

use domain::case::intake::{self, CaseSource, Submitter};
use domain::case::lifecycle::{self, CaseTiming};
use domain::case::{CaseAction, CaseCode, CaseStatus, EventAction};
use domain::procedure::Channel;
use domain::{AgencyCode, Capability, IntegrationScope, Role};
use persistence::AnyConnection;
use persistence::repo::cases::{self as repo, CaseRow, EventRow};
use persistence::repo::{agencies, case_sequences};
use persistence::stored::case::{DeclaredDocument, Party};

use super::act::{CaseRules, set_timing};
use super::current_procedure;
use crate::app::AppError;
use crate::app::error::{Code, InvalidParam};
use crate::auditing::{self, Change};
use crate::auth::{Principal, RequestMeta};
use crate::state::AppState;

/// A new case, its fields already checked one by one.
#[derive(Debug, Clone)]
pub struct SubmitCase {
    pub procedure_code: String,
    /// The receiving agency (default: the procedure's first implementing agency).
    pub agency_id: Option<String>,
    pub channel: Channel,
    pub applicant: Party,
    pub representative: Option<Party>,
    pub summary: String,
    /// The e-form data, checked against the procedure's schema for online submissions.
    pub form_data: serde_json::Value,
    pub documents: Vec<DeclaredDocument>,
    pub return_method: Channel,
    /// The national portal's id of a forwarded case.
    pub external_id: Option<String>,
}

/// The stored case: new, with the name of the procedure version it pinned, or (`None`) a
/// forwarded case stored before and returned as it is.
pub struct Submitted {
    pub case: CaseRow,
    pub procedure_name: Option<String>,
}

/// Who the caller is as a submitter.
fn submitter(principal: &Principal) -> Submitter {
    match principal.role {
        Role::Citizen => Submitter::Applicant,
        Role::Officer if principal.has_capability(Capability::Reception) => Submitter::Reception,
        Role::Integration if principal.capabilities.iter().any(|c| c == IntegrationScope::CasesSubmit.as_str()) => {
            Submitter::NationalPortal
        }
        _ => Submitter::Other,
    }
}

/// How the caller's case starts on `channel`, checked before any database work.
///
/// # Errors
/// `forbidden` when the caller may not submit on the channel; `validation_failed` for a case
/// forwarded without the portal's id.
pub fn admit(principal: &Principal, command: &SubmitCase) -> Result<intake::Intake, AppError> {
    let Some(admitted) = intake::intake(submitter(principal), command.channel) else {
        return Err(match principal.role {
            Role::Citizen | Role::Officer | Role::Integration => {
                AppError::forbidden().with_detail("Bạn không được nộp hồ sơ qua kênh này.", "You may not submit on this channel.")
            }
            _ => AppError::forbidden(),
        });
    };
    if admitted.source == CaseSource::NationalPortal && command.external_id.as_deref().is_none_or(|e| e.trim().is_empty()) {
        return Err(AppError::invalid("external_id", "is required for cases forwarded by the national portal"));
    }
    Ok(admitted)
}

/// The documents and e-form data a submission lacks or gets wrong against its procedure.
fn check_against(content: &persistence::stored::procedure::ProcedureContent, command: &SubmitCase) -> Result<(), AppError> {
    let mut problems = Vec::new();
    for document in &command.documents {
        if !content.required_documents.iter().any(|r| r.code == document.requirement_code) {
            problems.push(InvalidParam {
                name: "documents".into(),
                reason: format!("`{}` is not a document of this procedure", document.requirement_code),
            });
        }
    }
    for required in content.required_documents.iter().filter(|r| r.mandatory) {
        if !command.documents.iter().any(|d| d.requirement_code == required.code) {
            problems.push(InvalidParam {
                name: "documents".into(),
                reason: format!("the mandatory document `{}` ({}) is missing", required.code, required.name),
            });
        }
    }
    if command.channel == Channel::Online
        && let Some(schema) = &content.form_schema
    {
        let validator = jsonschema::validator_for(schema).map_err(AppError::internal)?;
        for error in validator.iter_errors(&command.form_data) {
            problems.push(InvalidParam { name: format!("form_data{}", error.instance_path()), reason: error.to_string() });
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(AppError::validation(problems)) }
}

/// Opens the case in the caller's transaction: the procedure's published version, the
/// receiving agency, the documents and e-form, the due date and first step of a case
/// received at once, the code (taken last, so that the agency's sequence row stays locked
/// only for the inserts and the commit), the first event, its outbox messages and the audit
/// entry.
///
/// # Errors
/// `validation_failed` (procedure, channel, agency, documents, e-form), `forbidden` (an agency
/// outside a reception officer's scope); database errors.
pub fn submit(
    conn: &mut AnyConnection,
    ctx: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    admitted: intake::Intake,
    command: SubmitCase,
) -> Result<Submitted, AppError> {
    let external_id = if admitted.source == CaseSource::NationalPortal { command.external_id.clone() } else { None };
    if let Some(external) = &external_id
        && let Some(existing) = repo::find_by_external_id(conn, external)?
    {
        return Ok(Submitted { case: existing, procedure_name: None });
    }
    let (version, content) = current_procedure(conn, &command.procedure_code)?;
    let channel = command.channel;
    if !content.channels.iter().any(|c| c == channel.as_str()) {
        return Err(AppError::invalid("channel", format!("the procedure does not accept `{}` submissions", channel.as_str())));
    }
    let agency_id = command
        .agency_id
        .clone()
        .or_else(|| content.agency_ids.first().cloned())
        .ok_or_else(|| AppError::invalid("agency_id", "is required"))?;
    if !content.agency_ids.is_empty() && !content.agency_ids.contains(&agency_id) {
        return Err(AppError::invalid("agency_id", "the agency does not implement this procedure"));
    }
    let agency = agencies::find(conn, &agency_id)?.ok_or_else(|| AppError::invalid("agency_id", "no such agency"))?;
    if principal.role == Role::Officer && !principal.covers_path(&agency.path) {
        return Err(AppError::forbidden().with_detail("Cơ quan nằm ngoài phạm vi của bạn.", "The agency is outside your scope."));
    }
    check_against(&content, &command)?;
    let now = ctx.now();
    let agency_code = AgencyCode::parse(&agency.code).map_err(AppError::internal)?;
    let received = admitted.status == CaseStatus::Accepted;
    let mut row = CaseRow {
        id: persistence::new_id(),
        code: String::new(),
        procedure_code: version.procedure_code.clone(),
        procedure_version: version.version,
        agency_id: agency.id.clone(),
        channel,
        source: admitted.source,
        external_id,
        status: admitted.status,
        owner_id: (admitted.source == CaseSource::Local && principal.role == Role::Citizen).then(|| principal.user_id.clone()),
        applicant: persistence::stored::write(&command.applicant)?,
        representative: command.representative.as_ref().map(persistence::stored::write).transpose()?,
        summary: command.summary.trim().to_owned(),
        form_data: persistence::stored::write(&command.form_data)?,
        documents: persistence::stored::write(&command.documents)?,
        return_method: command.return_method,
        current_step: None,
        assignee_id: None,
        submitted_at: now,
        received_at: None,
        due_at: None,
        original_due_at: None,
        paused_at: None,
        supplement_count: 0,
        supplement_seconds: 0,
        finished_at: None,
        returned_at: None,
        revision: 1,
        created_at: now,
        updated_at: now,
        search: String::new(),
        step_due_at: None,
    };
    if received {
        let rules = CaseRules::for_content(conn, ctx, &content, channel, &row.procedure_code, &row.agency_id, true)?;
        let mut timing = super::act::timing_of(&row)?;
        lifecycle::receive(&rules.rules(ctx.config.supplement_mode, false), &mut timing, now.and_utc())?;
        set_timing(&mut row, CaseTiming { status: admitted.status, ..timing });
    }
    let today = domain::time::local_date(now);
    let sequence = case_sequences::next(conn, &agency.id, today)?;
    let width = ctx.config.case_sequence_width;
    let code = CaseCode::new(&agency_code, today, u64::try_from(sequence).unwrap_or(0), width).map_err(|e| {
        // A capacity limit of the server, not a fault of the request: the operator widens it.
        let mut error = AppError::new(Code::CaseCodesExhausted);
        error.cause = Some(format!("agency {} reached case number {sequence} on {today} ({e}; width {width})", agency.id).into());
        error
    })?;
    row.code = code.as_str().to_owned();
    row.search = format!(
        "{} {} {}",
        code.as_str().to_lowercase(),
        domain::text::fold(&command.applicant.full_name),
        command.representative.as_ref().map(|r| domain::text::fold(&r.full_name)).unwrap_or_default()
    );
    repo::insert(conn, &row)?;
    let event = EventRow {
        case_id: row.id.clone(),
        seq: 1,
        at: now,
        actor_id: Some(principal.user_id.clone()),
        action: if received { CaseAction::Accept.into() } else { EventAction::Submit },
        from_status: None,
        to_status: row.status,
        step: row.current_step.clone(),
        note: None,
        due_at: row.due_at,
        step_due_at: row.step_due_at,
        details: None,
    };
    let messages =
        crate::app::outbox::case_messages(conn, ctx, &crate::app::outbox::CaseChange { case: &row, event: &event, agency: Some(&agency) })?;
    repo::insert_first_event(conn, &event, &messages)?;
    auditing::record(
        conn,
        meta,
        Change::<(), _> {
            actor_id: Some(&principal.user_id),
            action: "case.create",
            entity_type: "case",
            entity_id: &row.code,
            before: None,
            after: Some(&(row.status.as_str(), row.revision)),
        },
    )?;
    Ok(Submitted { case: row, procedure_name: Some(version.name) })
}
