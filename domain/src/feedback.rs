//! Feedback and petitions (phản ánh, kiến nghị; Art. 5.2.e, Decree 20/2008, domain.md §11):
//! kinds, classification, the state machine, who may act, and the statutory deadlines in working
//! days (refuse ≤ 2, first supplement request ≤ 5, answer ≤ 15 from submission, publish ≤ 2
//! after answering; domain.md §11.2).

use chrono::{DateTime, Utc};

use crate::Capability;
use crate::role::wire_enum;

wire_enum! {
    /// What the sender brings.
    FeedbackKind {
        /// Phản ánh: a problem with a regulation or with an official's conduct.
        Reflection = "reflection", "Phản ánh", "Reflection";
        /// Kiến nghị: a proposal.
        Recommendation = "recommendation", "Kiến nghị", "Recommendation";
    }
}

wire_enum! {
    /// Classification (domain.md §11.2).
    FeedbackCategory {
        /// Quy định, chính sách, thủ tục.
        Regulation = "regulation", "Quy định, chính sách, thủ tục", "Regulation, policy or procedure";
        /// Hành vi của cán bộ, công chức (accountability, Art. 6.1.đ; indicator 7).
        Conduct = "conduct", "Hành vi của cán bộ, công chức", "Conduct of an official";
    }
}

wire_enum! {
    /// Where a feedback item stands.
    FeedbackStatus {
        /// Received, awaiting a decision on acceptance (chờ tiếp nhận).
        Received = "received", "Chờ tiếp nhận", "Received";
        /// Accepted for handling.
        Accepted = "accepted", "Đã tiếp nhận", "Accepted";
        /// Not accepted (từ chối tiếp nhận).
        Refused = "refused", "Từ chối tiếp nhận", "Refused";
        /// The sender must complete it.
        SupplementRequested = "supplement_requested", "Chờ bổ sung", "Supplement requested";
        /// Handed to the agency that must answer.
        Assigned = "assigned", "Đang xử lý", "Assigned";
        /// Answered, awaiting publication (chờ công khai).
        Answered = "answered", "Chờ công khai", "Answered";
        /// Answer published (đã công khai).
        Published = "published", "Đã công khai", "Published";
    }
}

wire_enum! {
    /// What can be done to a feedback item.
    FeedbackAction {
        Accept = "accept", "Tiếp nhận", "Accept";
        Refuse = "refuse", "Từ chối tiếp nhận", "Refuse";
        RequestSupplement = "request_supplement", "Yêu cầu bổ sung", "Request a supplement";
        /// By the sender: the requested completion.
        SubmitSupplement = "submit_supplement", "Bổ sung", "Submit the supplement";
        Assign = "assign", "Chuyển xử lý", "Assign";
        Respond = "respond", "Trả lời", "Answer";
        Publish = "publish", "Công khai", "Publish";
    }
}

/// What an event of a feedback item's history records: the submission, or an action.
pub type EventAction = crate::HistoryAction<FeedbackAction>;

/// Who acts on a feedback item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackActor {
    /// The citizen who sent it.
    Sender,
    /// An officer in scope with these capabilities.
    Officer(Vec<Capability>),
    /// The administrator of an agency in scope.
    AgencyAdmin,
}

impl FeedbackAction {
    /// Whether the national PAKN system hears of the action: decisions and answers
    /// (refusal, answer, publication).
    pub fn is_reported_nationally(self) -> bool {
        matches!(self, Self::Refuse | Self::Respond | Self::Publish)
    }

    /// The status after the action from `from`; `accepted_before` says whether the item had been
    /// accepted before a supplement request (the sender's completion returns it there).
    ///
    /// # Errors
    /// `None` when the action is not allowed in `from`.
    pub fn target(self, from: FeedbackStatus, accepted_before: bool) -> Option<FeedbackStatus> {
        use FeedbackAction as A;
        use FeedbackStatus as S;
        Some(match (self, from) {
            (A::Accept, S::Received | S::SupplementRequested) => S::Accepted,
            (A::Refuse, S::Received | S::SupplementRequested) => S::Refused,
            (A::RequestSupplement, S::Received | S::Accepted) => S::SupplementRequested,
            (A::SubmitSupplement, S::SupplementRequested) => {
                if accepted_before {
                    S::Accepted
                } else {
                    S::Received
                }
            }
            (A::Assign, S::Accepted | S::Assigned) => S::Assigned,
            (A::Respond, S::Accepted | S::Assigned) => S::Answered,
            (A::Publish, S::Answered) => S::Published,
            _ => return None,
        })
    }

    /// Whether `actor` may take the action (scope is checked by the caller).
    pub fn allowed_for(self, actor: &FeedbackActor) -> bool {
        use FeedbackAction as A;
        match actor {
            FeedbackActor::Sender => self == A::SubmitSupplement,
            FeedbackActor::AgencyAdmin => self != A::SubmitSupplement,
            FeedbackActor::Officer(caps) => {
                let has = |c: Capability| caps.contains(&c);
                match self {
                    A::Accept | A::Refuse | A::RequestSupplement | A::Assign => has(Capability::Reception),
                    A::Respond => has(Capability::Processing),
                    A::Publish => has(Capability::Approval),
                    A::SubmitSupplement => false,
                }
            }
        }
    }

    /// Whether the action needs a reason (refusal, supplement request) or content.
    pub fn requires_text(self) -> Option<&'static str> {
        match self {
            FeedbackAction::Refuse | FeedbackAction::RequestSupplement => Some("reason"),
            FeedbackAction::Respond => Some("answer"),
            FeedbackAction::SubmitSupplement => Some("content"),
            FeedbackAction::Assign => Some("agency_id"),
            _ => None,
        }
    }

    /// The actions `actor` may take from `from`.
    pub fn available(from: FeedbackStatus, accepted_before: bool, actor: &FeedbackActor) -> Vec<FeedbackAction> {
        FeedbackAction::ALL.iter().copied().filter(|a| a.target(from, accepted_before).is_some() && a.allowed_for(actor)).collect()
    }
}

/// Working days allowed for each step (domain.md §11.2).
pub const REFUSE_DAYS: u32 = 2;
/// Working days for the first supplement request.
pub const SUPPLEMENT_DAYS: u32 = 5;
/// Working days to answer.
pub const ANSWER_DAYS: u32 = 15;
/// Working days to publish after answering.
pub const PUBLISH_DAYS: u32 = 2;

/// When each step fell due and when it was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// Decide on acceptance (accept or refuse) by.
    pub reception_due: DateTime<Utc>,
    /// Ask for a first supplement by.
    pub supplement_due: DateTime<Utc>,
    /// Answer by.
    pub answer_due: DateTime<Utc>,
    /// Publish by (once answered).
    pub publish_due: Option<DateTime<Utc>>,
}

/// What happened when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Milestones {
    /// Accepted or refused.
    pub decided: Option<DateTime<Utc>>,
    /// First supplement request.
    pub first_supplement: Option<DateTime<Utc>>,
    /// Answered (or refused: nothing more to answer).
    pub answered: Option<DateTime<Utc>>,
    /// Published.
    pub published: Option<DateTime<Utc>>,
}

/// The deadlines of an item submitted at `submitted`, in working days of `calendar`.
///
/// # Errors
/// A date outside the supported calendar.
pub fn deadlines(calendar: &crate::calendar::Calendar, submitted: DateTime<Utc>) -> Result<Deadlines, crate::ValidationError> {
    let after = |days: u32| working_days_after(calendar, submitted, days);
    Ok(Deadlines {
        reception_due: after(REFUSE_DAYS)?,
        supplement_due: after(SUPPLEMENT_DAYS)?,
        answer_due: after(ANSWER_DAYS)?,
        publish_due: None,
    })
}

/// `days` working days after `from`.
///
/// # Errors
/// A date outside the supported calendar.
pub fn working_days_after(
    calendar: &crate::calendar::Calendar,
    from: DateTime<Utc>,
    days: u32,
) -> Result<DateTime<Utc>, crate::ValidationError> {
    let time = crate::calendar::ProcessingTime::new(days, crate::calendar::DurationUnit::WorkingDay)?;
    Ok(crate::time::to_storage_precision(calendar.due(from, time, None)?.due_at.with_timezone(&Utc)))
}

/// Which deadlines are missed at `now`: a step done after its due instant, or not done and due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overdue {
    /// Acceptance decided late or still undecided past its deadline.
    pub reception: bool,
    /// The first supplement request came late.
    pub supplement: bool,
    /// Answered late, or unanswered past the deadline.
    pub answer: bool,
    /// Published late, or answered and unpublished past the deadline.
    pub publish: bool,
}

impl Overdue {
    /// Whether any deadline is missed.
    pub fn any(self) -> bool {
        self.reception || self.supplement || self.answer || self.publish
    }
}

/// The missed deadlines of an item at `now`. A refused item has nothing left to answer.
pub fn overdue(status: FeedbackStatus, d: &Deadlines, m: &Milestones, now: DateTime<Utc>) -> Overdue {
    let late = |done: Option<DateTime<Utc>>, due: DateTime<Utc>, pending: bool| match done {
        Some(at) => at > due,
        None => pending && now > due,
    };
    let refused = status == FeedbackStatus::Refused;
    Overdue {
        reception: late(m.decided, d.reception_due, true),
        supplement: m.first_supplement.is_some_and(|at| at > d.supplement_due),
        answer: !refused && late(m.answered, d.answer_due, true),
        publish: d.publish_due.is_some_and(|due| late(m.published, due, true)),
    }
}

/// The code of the `number`th item submitted on local `date`: `PAKN-yyMMdd-NNNN`.
pub fn code(date: chrono::NaiveDate, number: i64) -> String {
    format!("PAKN-{}-{number:04}", date.format("%y%m%d"))
}

/// Whether an item is prolonged (indicator 8): still unanswered, not refused, past its answer
/// deadline.
pub fn prolonged(status: FeedbackStatus, d: &Deadlines, m: &Milestones, now: DateTime<Utc>) -> bool {
    m.answered.is_none() && status != FeedbackStatus::Refused && now > d.answer_due
}

/// Whether the item was handled on time for the agency's indicator 8: answered within the
/// deadline and published within its own (an unanswered item past the deadline is late).
pub fn handled_on_time(status: FeedbackStatus, d: &Deadlines, m: &Milestones, now: DateTime<Utc>) -> bool {
    let o = overdue(status, d, m, now);
    !(o.answer || o.publish)
}

/// The part of a feedback item that actions change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemTiming {
    pub status: FeedbackStatus,
    /// Accepted for handling (a completed supplement returns the item there).
    pub accepted_at: Option<DateTime<Utc>>,
    pub milestones: Milestones,
    /// Publish the answer by (set on answering).
    pub publish_due: Option<DateTime<Utc>>,
}

/// Why a feedback action cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    /// The action does not apply to the item's status.
    #[error("`{action}` does not apply to an item in status `{from}`")]
    Transition { from: FeedbackStatus, action: FeedbackAction },
    /// A date out of the calendar's range.
    #[error(transparent)]
    Invalid(#[from] crate::ValidationError),
}

/// What `action` at `now` does to an item: its status, and the milestones the statutory
/// deadlines are judged by (the decision on acceptance, the first supplement request, the
/// answer with its publication deadline, the publication). A milestone, once reached, is kept.
/// Only an answer reads the working `calendar` (for the publication deadline).
///
/// # Errors
/// [`FeedbackError::Transition`] when the action does not apply; [`FeedbackError::Invalid`]
/// for a date outside the calendar, or an answer without the calendar.
pub fn apply(
    item: &ItemTiming,
    action: FeedbackAction,
    calendar: Option<&crate::calendar::Calendar>,
    now: DateTime<Utc>,
) -> Result<ItemTiming, FeedbackError> {
    let from = item.status;
    let status = action.target(from, item.accepted_at.is_some()).ok_or(FeedbackError::Transition { from, action })?;
    let mut next = ItemTiming { status, ..*item };
    let m = &mut next.milestones;
    match action {
        FeedbackAction::Accept => {
            m.decided = m.decided.or(Some(now));
            next.accepted_at = Some(now);
        }
        FeedbackAction::Refuse => m.decided = m.decided.or(Some(now)),
        FeedbackAction::RequestSupplement => m.first_supplement = m.first_supplement.or(Some(now)),
        FeedbackAction::Respond => {
            m.answered = Some(now);
            let calendar = calendar.ok_or_else(|| crate::ValidationError::new("calendar", "an answer needs the working calendar"))?;
            next.publish_due = Some(working_days_after(calendar, now, PUBLISH_DAYS)?);
        }
        FeedbackAction::Publish => m.published = Some(now),
        FeedbackAction::SubmitSupplement | FeedbackAction::Assign => {}
    }
    Ok(next)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use FeedbackAction as A;
    use FeedbackStatus as S;
    use chrono::TimeZone;

    #[test]
    fn the_state_machine_follows_the_decree() {
        assert_eq!(A::Accept.target(S::Received, false), Some(S::Accepted));
        assert_eq!(A::Refuse.target(S::Received, false), Some(S::Refused));
        assert_eq!(A::RequestSupplement.target(S::Received, false), Some(S::SupplementRequested));
        assert_eq!(A::SubmitSupplement.target(S::SupplementRequested, false), Some(S::Received));
        assert_eq!(A::SubmitSupplement.target(S::SupplementRequested, true), Some(S::Accepted));
        assert_eq!(A::Assign.target(S::Accepted, true), Some(S::Assigned));
        assert_eq!(A::Respond.target(S::Assigned, true), Some(S::Answered));
        assert_eq!(A::Publish.target(S::Answered, true), Some(S::Published));
        for terminal in [S::Refused, S::Published] {
            assert!(FeedbackAction::ALL.iter().all(|a| a.target(terminal, true).is_none()));
        }
        assert_eq!(A::Publish.target(S::Assigned, true), None, "publish only what is answered");
        assert_eq!(A::Refuse.target(S::Accepted, true), None, "no refusal after acceptance");
    }

    #[test]
    fn roles_and_capabilities_decide_who_acts() {
        let reception = FeedbackActor::Officer(vec![Capability::Reception]);
        let processing = FeedbackActor::Officer(vec![Capability::Processing]);
        let approval = FeedbackActor::Officer(vec![Capability::Approval]);
        assert_eq!(FeedbackAction::available(S::Received, false, &reception), vec![A::Accept, A::Refuse, A::RequestSupplement]);
        assert!(FeedbackAction::available(S::Received, false, &processing).is_empty());
        assert_eq!(FeedbackAction::available(S::Assigned, true, &processing), vec![A::Respond]);
        assert_eq!(FeedbackAction::available(S::Answered, true, &approval), vec![A::Publish]);
        assert_eq!(FeedbackAction::available(S::SupplementRequested, false, &FeedbackActor::Sender), vec![A::SubmitSupplement]);
        assert_eq!(FeedbackAction::available(S::Answered, true, &FeedbackActor::Sender), vec![]);
        assert_eq!(
            FeedbackAction::available(S::Accepted, true, &FeedbackActor::AgencyAdmin),
            vec![A::RequestSupplement, A::Assign, A::Respond]
        );
    }

    #[test]
    fn deadlines_skip_tet() {
        use crate::calendar::{Calendar, HolidayRules, WorkingHours};
        let calendar = Calendar::new(WorkingHours::default(), HolidayRules::default(), []);
        // Submitted on Wednesday 3 February 2027 at 09:00; Tết Đinh Mùi (6 February) closes the
        // offices from Friday 5 to Thursday 11 February under the default rules.
        let submitted = Utc.with_ymd_and_hms(2027, 2, 3, 2, 0, 0).unwrap();
        let d = deadlines(&calendar, submitted).unwrap();
        let local = |t: DateTime<Utc>| t.with_timezone(&crate::time::VN).date_naive();
        let day = |m: u32, d: u32| chrono::NaiveDate::from_ymd_opt(2027, m, d).unwrap();
        let off: Vec<u32> = (1..=16).filter(|n| !calendar.is_working(day(2, *n))).collect();
        assert_eq!(off, vec![5, 6, 7, 8, 9, 10, 11, 13, 14], "eve + 4 days, 2 compensatory days, the weekend");
        assert_eq!(local(d.reception_due), day(2, 12), "2 working days: Thursday 4 and Friday 12 February");
        assert_eq!(local(d.supplement_due), day(2, 17), "5 working days: 4, 12, 15, 16, 17 February");
        assert_eq!(local(d.answer_due), day(3, 3), "15 working days");
        // Overdue on the day after, not before.
        let evening = |m: u32, dd: u32| Utc.with_ymd_and_hms(2027, m, dd, 11, 0, 0).unwrap();
        assert!(!overdue(S::Assigned, &d, &Milestones::default(), evening(3, 2)).answer);
        assert!(overdue(S::Assigned, &d, &Milestones::default(), evening(3, 4)).answer);
    }

    #[test]
    fn missed_deadlines_are_flagged() {
        let t = |day: u32| Utc.with_ymd_and_hms(2026, 3, day, 3, 0, 0).unwrap();
        let d = Deadlines { reception_due: t(3), supplement_due: t(6), answer_due: t(20), publish_due: None };
        let fresh = Milestones::default();
        assert_eq!(overdue(S::Received, &d, &fresh, t(2)), Overdue::default());
        let o = overdue(S::Received, &d, &fresh, t(4));
        assert!(o.reception && !o.answer);
        let o = overdue(S::Assigned, &d, &Milestones { decided: Some(t(2)), ..fresh }, t(21));
        assert!(o.answer && !o.reception && o.any());
        let answered = Milestones { decided: Some(t(2)), answered: Some(t(19)), ..fresh };
        let with_publish = Deadlines { publish_due: Some(t(23)), ..d };
        assert!(!overdue(S::Answered, &with_publish, &answered, t(22)).any());
        assert!(overdue(S::Answered, &with_publish, &answered, t(24)).publish);
        assert!(!handled_on_time(S::Answered, &with_publish, &answered, t(24)));
        assert!(handled_on_time(S::Published, &with_publish, &Milestones { published: Some(t(21)), ..answered }, t(28)));
        assert!(!overdue(S::Refused, &d, &Milestones { decided: Some(t(2)), ..fresh }, t(25)).any());
    }

    mod lifecycle {
        use chrono::TimeZone;
        use proptest::prelude::*;

        use super::super::*;
        use crate::calendar::{Calendar, HolidayRules, WorkingHours};

        proptest! {
            /// Random action sequences: a refused or published item never changes, a milestone
            /// once reached is kept, the answer's publication deadline follows the answer, and
            /// an item is published only after it was answered.
            #[test]
            fn milestones_are_kept_and_final_statuses_stay(moves in prop::collection::vec((0usize..7, 1i64..5_000), 1..40)) {
                let calendar = Calendar::new(WorkingHours::default(), HolidayRules::default(), Vec::new());
                let mut now = Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap();
                let mut item = ItemTiming { status: FeedbackStatus::Received, accepted_at: None, milestones: Milestones::default(), publish_due: None };
                for (index, gap) in moves {
                    now += chrono::TimeDelta::minutes(gap);
                    let action = FeedbackAction::ALL[index];
                    let result = apply(&item, action, Some(&calendar), now);
                    if matches!(item.status, FeedbackStatus::Refused | FeedbackStatus::Published) {
                        prop_assert!(result.is_err(), "{action:?} changed a final item");
                        continue;
                    }
                    let Ok(next) = result else { continue };
                    let (before, after) = (item.milestones, next.milestones);
                    for (was, is) in [(before.decided, after.decided), (before.first_supplement, after.first_supplement), (before.published, after.published)] {
                        if was.is_some() {
                            prop_assert_eq!(was, is);
                        }
                    }
                    if let (Some(answered), Some(due)) = (after.answered, next.publish_due) {
                        prop_assert!(due > answered);
                    }
                    if next.status == FeedbackStatus::Published {
                        prop_assert!(after.answered.is_some() && after.published.is_some());
                    }
                    item = next;
                }
            }
        }
    }
}
