//! Taking an action on a case: the only way to change one (Decree 61/2018 Art. 15–19).

use chrono::{DateTime, NaiveTime, Utc};
use domain::Role;
use domain::case::lifecycle::{self, ActionParams, CaseTiming, LifecycleError, Rules};
use domain::case::{CaseAction, DocumentKind};
use domain::procedure::Channel;
use persistence::AnyConnection;
use persistence::repo::cases::{self as repo, CaseRow, EventRow};
use persistence::stored::case::EventDetails;

use super::{Access, access, actor_of, etag, procedure_of};
use crate::app::{AppError, check_if_match};
use crate::auditing::{self, Change};
use crate::auth::{Principal, RequestMeta};
use crate::state::AppState;

/// An action on the case `code`, with its parameters.
#[derive(Debug, Clone)]
pub struct ActOnCase {
    pub code: String,
    pub action: CaseAction,
    pub params: ActionParams,
    /// What the event records as its note (the reason, else the note, else the summary).
    pub note: Option<String>,
    /// `forward`: the officer to assign.
    pub assignee_id: Option<String>,
    /// The parameters kept with the event.
    pub details: EventDetails,
    /// The `If-Match` of the request, if any.
    pub expected_tag: Option<String>,
}

/// The case after the action, and the caller's access to it.
pub struct Acted {
    pub case: CaseRow,
    pub access: Access,
}

/// The timing part of a stored case.
pub fn timing_of(case: &CaseRow) -> Result<CaseTiming, AppError> {
    let utc = |at: Option<chrono::NaiveDateTime>| at.map(|a| a.and_utc());
    Ok(CaseTiming {
        status: case.status,
        received_at: utc(case.received_at),
        due_at: utc(case.due_at),
        original_due_at: utc(case.original_due_at),
        paused_at: utc(case.paused_at),
        supplement_count: case.supplement_count,
        supplement_seconds: case.supplement_seconds,
        finished_at: utc(case.finished_at),
        returned_at: utc(case.returned_at),
        current_step: case.current_step.clone(),
        step_due_at: utc(case.step_due_at),
    })
}

/// Writes `timing` into the stored case.
pub fn set_timing(case: &mut CaseRow, timing: CaseTiming) {
    let naive = |at: Option<DateTime<Utc>>| at.map(|a| a.naive_utc());
    case.status = timing.status;
    case.received_at = naive(timing.received_at);
    case.due_at = naive(timing.due_at);
    case.original_due_at = naive(timing.original_due_at);
    case.paused_at = naive(timing.paused_at);
    case.supplement_count = timing.supplement_count;
    case.supplement_seconds = timing.supplement_seconds;
    case.finished_at = naive(timing.finished_at);
    case.returned_at = naive(timing.returned_at);
    case.current_step = timing.current_step;
    case.step_due_at = naive(timing.step_due_at);
}

/// The rules of the regulation for a case of procedure `content` on `channel`, with the
/// workflow steps when the action enters a step.
pub struct CaseRules {
    pub calendar: domain::calendar::Calendar,
    pub processing_time: domain::calendar::ProcessingTime,
    pub cutoff: Option<NaiveTime>,
    pub steps: Vec<domain::procedure::WorkflowStep>,
    pub result_required: bool,
}

impl CaseRules {
    /// Reads what applies to `case`: the calendar, its pinned procedure version and (for
    /// `with_steps`) the workflow of its agency.
    ///
    /// # Errors
    /// Database errors; stored content that no longer reads.
    pub fn of(conn: &mut AnyConnection, ctx: &AppState, case: &CaseRow, with_steps: bool) -> Result<Self, AppError> {
        let (_, content) = procedure_of(conn, case)?;
        let channel = case.channel;
        Self::for_content(conn, ctx, &content, channel, &case.procedure_code, &case.agency_id, with_steps)
    }

    /// What applies to a case of `content` on `channel` at `agency_id`.
    ///
    /// # Errors
    /// Database errors; stored content that no longer reads.
    pub fn for_content(
        conn: &mut AnyConnection,
        ctx: &AppState,
        content: &persistence::stored::procedure::ProcedureContent,
        channel: Channel,
        procedure_code: &str,
        agency_id: &str,
        with_steps: bool,
    ) -> Result<Self, AppError> {
        let processing_time = content.processing_time_for(channel == Channel::Online)?;
        let steps = if with_steps {
            crate::app::procedures::resolve_workflow(conn, procedure_code, Some(agency_id), processing_time)?.steps
        } else {
            Vec::new()
        };
        Ok(Self {
            calendar: crate::app::calendar::load(conn, ctx)?,
            processing_time,
            cutoff: content.cutoff_time.as_deref().and_then(|c| NaiveTime::parse_from_str(c, "%H:%M").ok()),
            steps,
            result_required: content.result.has_result,
        })
    }

    /// The rules as the domain takes them.
    pub fn rules(&self, mode: domain::case::SupplementMode, result_present: bool) -> Rules<'_> {
        Rules {
            calendar: &self.calendar,
            processing_time: self.processing_time,
            cutoff: self.cutoff,
            steps: &self.steps,
            supplement_mode: mode,
            result_required: self.result_required,
            result_present,
        }
    }
}

impl From<LifecycleError> for AppError {
    fn from(error: LifecycleError) -> Self {
        match error {
            LifecycleError::Transition(e) => AppError::internal(e),
            LifecycleError::Invalid(e) => e.into(),
            LifecycleError::ResultRequired => AppError::new(crate::app::error::Code::ResultRequired),
        }
    }
}

/// Takes the action: checks the caller's access and `If-Match`, the transition (409 with the
/// actions allowed) and the caller's capability (403), applies the rules of
/// [`domain::case::lifecycle`], and writes the case, its event, the outbox messages and the
/// audit entry in the caller's transaction.
///
/// # Errors
/// `not_found`, `precondition_failed`, `invalid_transition`, `forbidden`, `validation_failed`,
/// `result_required`; database errors.
pub fn act(
    conn: &mut AnyConnection,
    ctx: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    command: ActOnCase,
) -> Result<Acted, AppError> {
    let action = command.action;
    let mut case = repo::find_for_update(conn, &command.code)?.ok_or_else(AppError::not_found)?;
    let access = access(conn, principal, &case)?;
    let actor = actor_of(&access).ok_or_else(AppError::forbidden)?;
    check_if_match(command.expected_tag.as_deref(), &etag(&case))?;
    let timing = timing_of(&case)?;
    let (from, pending, mode) = (timing.status, timing.paused_at.is_some(), ctx.config.supplement_mode);
    if action.apply(from, pending, mode).is_err() {
        let allowed = CaseAction::available(from, pending, &actor, mode).iter().map(|a| a.as_str().to_owned()).collect();
        return Err(AppError::invalid_transition(allowed));
    }
    if !action.allowed_for(&actor, from) {
        return Err(AppError::forbidden());
    }
    let before = (case.status.as_str(), case.revision);
    let stored = case.clone();
    let now = ctx.now();
    let rules = CaseRules::of(conn, ctx, &case, action.enters_step())?;
    let result_present =
        action == CaseAction::Resolve && rules.result_required && repo::has_document(conn, &case.id, DocumentKind::Result.as_str())?;
    let transition = lifecycle::apply(&timing, action, &command.params, &rules.rules(mode, result_present), now.and_utc())?;
    if action == CaseAction::Forward
        && let Some(assignee) = &command.assignee_id
    {
        let user = persistence::repo::users::find(conn, assignee)?.ok_or_else(|| AppError::invalid("assignee_id", "no such officer"))?;
        if user.role != Role::Officer.as_str() {
            return Err(AppError::invalid("assignee_id", "must be an officer"));
        }
        case.assignee_id = Some(user.id);
    }
    set_timing(&mut case, transition.timing);
    case.revision += 1;
    case.updated_at = now;
    repo::save(conn, &stored, &case)?;
    let mut details = command.details;
    if let EventDetails::RequestSupplement(request) = &mut details {
        request.supplement_due_at = transition.supplement_due_at;
    }
    let event = repo::append_event(
        conn,
        EventRow {
            case_id: case.id.clone(),
            seq: 0,
            at: now,
            actor_id: Some(principal.user_id.clone()),
            action: action.into(),
            from_status: Some(from),
            to_status: case.status,
            step: case.current_step.clone(),
            note: command.note,
            due_at: case.due_at,
            step_due_at: case.step_due_at,
            details: details.to_column()?,
        },
    )?;
    crate::app::outbox::case_changed(conn, ctx, &crate::app::outbox::CaseChange { case: &case, event: &event, agency: None })?;
    auditing::record(
        conn,
        meta,
        Change {
            actor_id: Some(&principal.user_id),
            action: &format!("case.{}", action.as_str()),
            entity_type: "case",
            entity_id: &case.code,
            before: Some(&before),
            after: Some(&(case.status.as_str(), case.revision)),
        },
    )?;
    Ok(Acted { case, access })
}
