//! What an action does to a case (Decree 61/2018 Art. 15–19, domain.md §7): the status it
//! leads to and its effects on the clock: reception starts the processing time and the first
//! workflow step, a supplement request pauses the clock, the supplement resumes it (or restarts
//! the processing time), an apology moves the due date and keeps the original one, and the end
//! of processing, the return of the result and each step's due instant are recorded.
//!
//! [`apply`] is total over every case and action: given the case's timing, the action's
//! parameters, the rules that apply (calendar, processing time, workflow steps, supplement
//! mode, whether a result is required and present) and "now", it returns the new timing or
//! why the action cannot be taken. Who may take the action is decided before, by
//! [`CaseAction::allowed_for`].

use chrono::{DateTime, NaiveTime, Utc};

use super::{CaseAction, CaseStatus, SupplementMode, TransitionError};
use crate::ValidationError;
use crate::calendar::{Calendar, DurationUnit, ProcessingTime};
use crate::procedure::{WorkflowStep, next_step, previous_step};
use crate::time::to_storage_precision;

/// The part of a case that actions change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTiming {
    pub status: CaseStatus,
    /// When the case was received (accepted); the processing time runs from here.
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    /// The due date before the first apology moved it (on-time statistics read it).
    pub original_due_at: Option<DateTime<Utc>>,
    /// Set while a supplement request is outstanding.
    pub paused_at: Option<DateTime<Utc>>,
    /// Supplement requests after acceptance.
    pub supplement_count: i32,
    /// Time spent waiting for supplements, in seconds.
    pub supplement_seconds: i64,
    /// End of processing (resolution, refusal, stop or withdrawal).
    pub finished_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub current_step: Option<String>,
    pub step_due_at: Option<DateTime<Utc>>,
}

/// What the procedure, the calendar and the deployment say about a case.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub calendar: &'a Calendar,
    /// The processing time on the case's channel.
    pub processing_time: ProcessingTime,
    /// Receptions at or after this local time count from the next working day.
    pub cutoff: Option<NaiveTime>,
    /// The workflow that applies to the case (needed by the actions that enter a step).
    pub steps: &'a [WorkflowStep],
    pub supplement_mode: SupplementMode,
    /// The procedure ends with a result document (Art. 19.4 guard on `resolve`).
    pub result_required: bool,
    /// A result document has been uploaded.
    pub result_present: bool,
}

/// The parameters of an action that change what it does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionParams {
    /// `request_supplement`, `request_payment`: what to supplement or pay.
    pub items: Vec<String>,
    /// `request_supplement`: working days the applicant has to supplement.
    pub deadline_days: Option<u32>,
    /// `forward`: the step to move to (default: the next one).
    pub to_step: Option<String>,
    /// `apologize`: the new due date.
    pub new_due_at: Option<DateTime<Utc>>,
}

/// The outcome of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: CaseStatus,
    pub timing: CaseTiming,
    /// `request_supplement` with a deadline: when the applicant must supplement by.
    pub supplement_due_at: Option<DateTime<Utc>>,
}

/// Why an action cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The action does not apply to the case's status.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A parameter is missing or invalid, or a date is out of the calendar's range.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The case cannot be resolved before its result document exists (Art. 19.4).
    #[error("the result document is required before resolving")]
    ResultRequired,
}

/// The due date of a case received at `received`.
///
/// # Errors
/// Dates outside the calendar's range.
pub fn due_from(rules: &Rules<'_>, received: DateTime<Utc>, with_cutoff: bool) -> Result<DateTime<Utc>, ValidationError> {
    let cutoff = if with_cutoff { rules.cutoff } else { None };
    let due = rules.calendar.due(received, rules.processing_time, cutoff)?;
    Ok(to_storage_precision(due.due_at.with_timezone(&Utc)))
}

/// How a case moves between workflow steps.
#[derive(Debug, Clone, Copy)]
enum StepMove<'a> {
    /// Just received: leave reception for the first step after it.
    Start,
    /// To the named step, else the next one.
    Forward { to: Option<&'a str> },
    /// To the previous step (never back to reception).
    Back,
}

/// Moves the case along its workflow and sets the due instant of the step it enters (its
/// working hours from `now`); past either end the case stays where it is.
fn move_along(rules: &Rules<'_>, timing: &mut CaseTiming, movement: StepMove<'_>, now: DateTime<Utc>) -> Result<(), ValidationError> {
    let step = match movement {
        StepMove::Start => next_step(rules.steps, None, None)?,
        StepMove::Forward { to } => next_step(rules.steps, timing.current_step.as_deref(), to)?,
        StepMove::Back => previous_step(rules.steps, timing.current_step.as_deref()),
    };
    if let Some(step) = step {
        let due = rules.calendar.add_working_minutes(now, i64::from(step.duration_hours) * 60)?;
        timing.current_step = Some(step.key.clone());
        timing.step_due_at = Some(to_storage_precision(due.with_timezone(&Utc)));
    }
    Ok(())
}

/// The timing of a case received at `now` at the counter or by post (accepted at once): the
/// processing time runs from `now` and the case enters the first step after reception.
///
/// # Errors
/// Dates outside the calendar's range; a workflow step naming no step.
pub fn receive(rules: &Rules<'_>, timing: &mut CaseTiming, now: DateTime<Utc>) -> Result<(), ValidationError> {
    timing.paused_at = None;
    timing.received_at = Some(now);
    timing.due_at = Some(due_from(rules, now, true)?);
    move_along(rules, timing, StepMove::Start, now)
}

/// Takes `action` on a case whose timing is `case` at `now`.
///
/// # Errors
/// [`LifecycleError::Transition`] when the action does not apply to the status (or a
/// supplement is, or is not, outstanding); [`LifecycleError::Invalid`] for a missing or invalid
/// parameter; [`LifecycleError::ResultRequired`] for `resolve` without the result document.
pub fn apply(
    case: &CaseTiming,
    action: CaseAction,
    params: &ActionParams,
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> Result<Transition, LifecycleError> {
    let from = case.status;
    let mode = rules.supplement_mode;
    let to = action.apply(from, case.paused_at.is_some(), mode)?;
    let mut timing = case.clone();
    let mut supplement_due_at = None;
    let nothing_listed = params.items.iter().all(|i| i.trim().is_empty());
    match action {
        CaseAction::Accept => receive(rules, &mut timing, now)?,
        CaseAction::RequestSupplement => {
            if nothing_listed {
                return Err(ValidationError::new("items", "list what the applicant must supplement (once and in full)").into());
            }
            if let Some(days) = params.deadline_days {
                let time = ProcessingTime::new(days, DurationUnit::WorkingDay)?;
                let due = rules.calendar.due(now, time, None)?.due_at;
                supplement_due_at = Some(to_storage_precision(due.with_timezone(&Utc)));
            }
            // `paused_at` marks the outstanding request; before acceptance no clock runs.
            timing.paused_at = Some(now);
            if from != CaseStatus::Submitted {
                timing.supplement_count += 1;
            }
        }
        CaseAction::SubmitSupplement if from == CaseStatus::Submitted => timing.paused_at = None,
        CaseAction::SubmitSupplement => {
            let paused = timing.paused_at.take().unwrap_or(now);
            timing.supplement_seconds += (now - paused).num_seconds().max(0);
            timing.due_at = Some(match mode {
                SupplementMode::Restart => due_from(rules, now, false)?,
                SupplementMode::PauseAndExtend => {
                    let remaining = timing.due_at.map_or(0, |due| rules.calendar.working_minutes_between(paused, due));
                    let due = to_storage_precision(rules.calendar.add_working_minutes(now, remaining)?.with_timezone(&Utc));
                    // A due date outside working hours (an apology may set one) keeps its
                    // minutes past closing: the pause never brings it forward.
                    timing.due_at.map_or(due, |before| due.max(before))
                }
            });
            if mode == SupplementMode::Restart {
                timing.received_at = Some(now);
            }
        }
        CaseAction::Forward => move_along(rules, &mut timing, StepMove::Forward { to: params.to_step.as_deref() }, now)?,
        CaseAction::SendBack => move_along(rules, &mut timing, StepMove::Back, now)?,
        CaseAction::Apologize => {
            let new_due = params.new_due_at.ok_or_else(|| ValidationError::new("new_due_at", "is required to apologize"))?;
            let new_due = to_storage_precision(new_due);
            if timing.due_at.is_some_and(|due| new_due <= due) || new_due <= now {
                return Err(ValidationError::new("new_due_at", "must lie after the current due date and now").into());
            }
            if timing.original_due_at.is_none() {
                timing.original_due_at = timing.due_at;
            }
            timing.due_at = Some(new_due);
        }
        CaseAction::Resolve => {
            if rules.result_required && !rules.result_present {
                return Err(LifecycleError::ResultRequired);
            }
            timing.finished_at = Some(now);
        }
        CaseAction::RequestPayment if nothing_listed => {
            return Err(ValidationError::new("items", "list the fees and charges to pay").into());
        }
        CaseAction::ReturnResult => timing.returned_at = Some(now),
        // Processing also ends here (NgayKetThucXuLy, domain.md §7.5).
        CaseAction::Refuse | CaseAction::Withdraw | CaseAction::Stop => timing.finished_at = Some(now),
        CaseAction::RequestPayment | CaseAction::ConfirmPayment => {}
    }
    timing.status = to;
    Ok(Transition { from, timing, supplement_due_at })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::Capability;
    use crate::calendar::{CalendarDay, DayKind, HolidayRules, WorkingHours};

    fn calendar() -> Calendar {
        // A holiday on a Wednesday, beside the Labour Code defaults.
        let extra = CalendarDay {
            date: NaiveDate::from_ymd_opt(2026, 12, 9).unwrap_or_default(),
            kind: DayKind::Holiday,
            name: "Ngày nghỉ bù".to_owned(),
        };
        Calendar::new(WorkingHours::default(), HolidayRules::default(), vec![extra])
    }

    fn steps() -> Vec<WorkflowStep> {
        let step = |key: &str, capability, hours| WorkflowStep {
            key: key.to_owned(),
            name: key.to_owned(),
            capability,
            agency_id: None,
            duration_hours: hours,
        };
        vec![
            step("tiep_nhan", Capability::Reception, 4),
            step("xu_ly", Capability::Processing, 16),
            step("phe_duyet", Capability::Approval, 8),
            step("tra_ket_qua", Capability::ResultReturn, 4),
        ]
    }

    fn rules<'a>(calendar: &'a Calendar, steps: &'a [WorkflowStep], mode: SupplementMode) -> Rules<'a> {
        Rules {
            calendar,
            processing_time: ProcessingTime::new(5, DurationUnit::WorkingDay).unwrap_or_else(|_| unreachable!()),
            cutoff: None,
            steps,
            supplement_mode: mode,
            result_required: false,
            result_present: false,
        }
    }

    fn submitted() -> CaseTiming {
        CaseTiming {
            status: CaseStatus::Submitted,
            received_at: None,
            due_at: None,
            original_due_at: None,
            paused_at: None,
            supplement_count: 0,
            supplement_seconds: 0,
            finished_at: None,
            returned_at: None,
            current_step: None,
            step_due_at: None,
        }
    }

    /// 07:00 UTC+7 on 2026-12-07 (a Monday) plus `minutes`.
    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).single().unwrap_or_default() + chrono::TimeDelta::minutes(minutes)
    }

    fn params() -> impl Strategy<Value = ActionParams> {
        (prop::bool::ANY, prop::option::of(1u32..10), prop::option::of(0i64..20_000)).prop_map(|(items, deadline, new_due)| ActionParams {
            items: if items { vec!["Bản sao giấy khai sinh".to_owned()] } else { Vec::new() },
            deadline_days: deadline,
            to_step: None,
            new_due_at: new_due.map(|m| at(30_000 + m)),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Random sequences of actions at increasing instants, in both supplement modes: a case
        /// never leaves a terminal status, its due date never moves earlier (an apology keeps
        /// the original; in restart mode a supplement starts the whole processing time again),
        /// and the working time of a supplement pause is never counted.
        #[test]
        fn lifecycle_invariants(
            restart in prop::bool::ANY,
            moves in prop::collection::vec((0usize..64, 1i64..3_000, params(), 0u8..16), 1..40),
        ) {
            let calendar = calendar();
            let steps = steps();
            let mode = if restart { SupplementMode::Restart } else { SupplementMode::PauseAndExtend };
            let rules = rules(&calendar, &steps, mode);
            let mut case = submitted();
            let mut now = at(0);
            for (index, gap, params, roll) in moves {
                now += chrono::TimeDelta::minutes(gap);
                // Mostly an action that applies now (rarely one that ends the case, sometimes
                // any action at all, which must then be refused or applied correctly).
                let applicable: Vec<CaseAction> = CaseAction::ALL
                    .iter()
                    .copied()
                    .filter(|a| a.apply(case.status, case.paused_at.is_some(), mode).is_ok())
                    .filter(|a| roll == 0 || !matches!(a, CaseAction::Refuse | CaseAction::Withdraw | CaseAction::Stop))
                    .collect();
                let action = match applicable.len() {
                    _ if roll == 1 => CaseAction::ALL[index % CaseAction::ALL.len()],
                    0 => CaseAction::ALL[index % CaseAction::ALL.len()],
                    n => applicable[index % n],
                };
                let result = apply(&case, action, &params, &rules, now);
                if case.status.is_terminal() {
                    prop_assert!(result.is_err(), "{action:?} changed a case in terminal status {:?}", case.status);
                    continue;
                }
                let Ok(transition) = result else { continue };
                let next = transition.timing;
                let restarted = action == CaseAction::SubmitSupplement
                    && case.status == CaseStatus::SupplementRequested
                    && mode == SupplementMode::Restart;
                if restarted {
                    // The whole processing time runs again from the supplement (domain.md §7.4).
                    prop_assert_eq!(next.due_at, Some(due_from(&rules, now, false)?));
                    prop_assert_eq!(next.received_at, Some(now));
                } else if let (Some(before), Some(after)) = (case.due_at, next.due_at) {
                    prop_assert!(after >= before, "{action:?} moved the due date earlier: {before} -> {after}");
                    if action == CaseAction::Apologize {
                        prop_assert_eq!(next.original_due_at, case.original_due_at.or(Some(before)));
                    }
                }
                if action == CaseAction::SubmitSupplement
                    && case.status == CaseStatus::SupplementRequested
                    && mode == SupplementMode::PauseAndExtend
                    && let (Some(paused), Some(before), Some(after)) = (case.paused_at, case.due_at, next.due_at)
                {
                    let left_at_pause = calendar.working_minutes_between(paused, before);
                    let left_at_resume = calendar.working_minutes_between(now, after);
                    prop_assert_eq!(left_at_pause, left_at_resume, "paused working time was counted");
                }
                if next.status.is_terminal() || next.status == CaseStatus::Resolved {
                    prop_assert!(next.finished_at.is_some());
                }
                case = next;
            }
        }
    }

    #[test]
    fn resolve_needs_the_result_when_the_procedure_has_one() {
        let (calendar, steps) = (calendar(), steps());
        let mut rules = rules(&calendar, &steps, SupplementMode::PauseAndExtend);
        rules.result_required = true;
        let accepted = apply(&submitted(), CaseAction::Accept, &ActionParams::default(), &rules, at(0)).map(|t| t.timing);
        let accepted = accepted.unwrap_or_else(|e| panic!("accept: {e}"));
        assert_eq!(apply(&accepted, CaseAction::Resolve, &ActionParams::default(), &rules, at(60)), Err(LifecycleError::ResultRequired));
        rules.result_present = true;
        assert!(apply(&accepted, CaseAction::Resolve, &ActionParams::default(), &rules, at(60)).is_ok());
    }

    #[test]
    fn a_supplement_request_lists_what_to_supplement() {
        let (calendar, steps) = (calendar(), steps());
        let rules = rules(&calendar, &steps, SupplementMode::PauseAndExtend);
        let accepted = apply(&submitted(), CaseAction::Accept, &ActionParams::default(), &rules, at(0)).map(|t| t.timing);
        let accepted = accepted.unwrap_or_else(|e| panic!("accept: {e}"));
        let error = apply(&accepted, CaseAction::RequestSupplement, &ActionParams::default(), &rules, at(60));
        assert!(matches!(error, Err(LifecycleError::Invalid(ValidationError { field: "items", .. }))), "{error:?}");
    }
}
