//! Cases (hồ sơ): statuses and their national codes, actions, the state machine of
//! domain.md §14.3, case codes (§2.2) and the on-time judgement (§7.5).

pub mod intake;
pub mod lifecycle;

use chrono::{DateTime, NaiveDate, Utc};

use crate::role::wire_enum;
use crate::{AgencyCode, Capability, ValidationError};

wire_enum! {
    /// Where a case stands (TrangThaiHoSo).
    CaseStatus {
        /// 1 Mới đăng ký: submitted online, awaiting reception.
        Submitted = "submitted", "Mới đăng ký", "Submitted";
        /// 2 Được tiếp nhận.
        Accepted = "accepted", "Được tiếp nhận", "Accepted";
        /// 3 Không được tiếp nhận.
        Refused = "refused", "Không được tiếp nhận", "Refused";
        /// 4 Đang xử lý.
        Processing = "processing", "Đang xử lý", "Processing";
        /// 5 Yêu cầu bổ sung giấy tờ (the clock pauses).
        SupplementRequested = "supplement_requested", "Yêu cầu bổ sung giấy tờ", "Supplement requested";
        /// 6 Yêu cầu thực hiện nghĩa vụ tài chính.
        AwaitingPayment = "awaiting_payment", "Chờ thực hiện nghĩa vụ tài chính", "Awaiting payment";
        /// 7 Công dân yêu cầu rút hồ sơ.
        Withdrawn = "withdrawn", "Đã rút hồ sơ", "Withdrawn";
        /// 8 Dừng xử lý.
        Stopped = "stopped", "Dừng xử lý", "Stopped";
        /// 9 Đã xử lý xong: the result awaits hand-over.
        Resolved = "resolved", "Đã xử lý xong", "Resolved";
        /// 10 Đã trả kết quả.
        Returned = "returned", "Đã trả kết quả", "Result returned";
    }
}

/// What an event of a case's history records: the online submission that opens it (`submit`),
/// or one of the [`CaseAction`]s (a counter intake opens the history with `accept`).
pub type EventAction = crate::HistoryAction<CaseAction>;

impl EventAction {
    /// The label shown to users.
    pub fn label(self) -> crate::Label {
        match self {
            EventAction::Submit => crate::Label { vi: "Nộp hồ sơ", en: "Submit" },
            EventAction::Act(action) => action.label(),
        }
    }
}

impl CaseStatus {
    /// The national status code (1–10) used by the national portal and the reports.
    pub fn code(self) -> u8 {
        match self {
            CaseStatus::Submitted => 1,
            CaseStatus::Accepted => 2,
            CaseStatus::Refused => 3,
            CaseStatus::Processing => 4,
            CaseStatus::SupplementRequested => 5,
            CaseStatus::AwaitingPayment => 6,
            CaseStatus::Withdrawn => 7,
            CaseStatus::Stopped => 8,
            CaseStatus::Resolved => 9,
            CaseStatus::Returned => 10,
        }
    }

    /// Whether nothing can happen to the case any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, CaseStatus::Refused | CaseStatus::Withdrawn | CaseStatus::Stopped | CaseStatus::Returned)
    }

    /// Whether processing has finished (the due date no longer runs).
    pub fn is_finished(self) -> bool {
        matches!(self, CaseStatus::Resolved | CaseStatus::Returned)
    }

    /// The degree of completion the public lookup shows (Art. 5.2.d): `received`,
    /// `processing`, `waiting_for_applicant`, `result_ready`, `returned` or `closed`.
    pub fn completion(self) -> &'static str {
        match self {
            CaseStatus::Submitted | CaseStatus::Accepted => "received",
            CaseStatus::Processing => "processing",
            CaseStatus::SupplementRequested | CaseStatus::AwaitingPayment => "waiting_for_applicant",
            CaseStatus::Resolved => "result_ready",
            CaseStatus::Returned => "returned",
            CaseStatus::Refused | CaseStatus::Withdrawn | CaseStatus::Stopped => "closed",
        }
    }
}

wire_enum! {
    /// The only ways to change a case (api.md §3.5).
    CaseAction {
        Accept = "accept", "Tiếp nhận", "Accept";
        Refuse = "refuse", "Từ chối tiếp nhận", "Refuse";
        RequestSupplement = "request_supplement", "Yêu cầu bổ sung", "Request a supplement";
        SubmitSupplement = "submit_supplement", "Nộp bổ sung", "Submit the supplement";
        Forward = "forward", "Chuyển xử lý", "Forward";
        SendBack = "send_back", "Trả lại bước trước", "Send back";
        RequestPayment = "request_payment", "Yêu cầu nộp phí, lệ phí", "Request payment";
        ConfirmPayment = "confirm_payment", "Xác nhận đã nộp phí", "Confirm payment";
        Apologize = "apologize", "Xin lỗi và hẹn lại", "Apologise and reschedule";
        Stop = "stop", "Dừng xử lý", "Stop";
        Withdraw = "withdraw", "Rút hồ sơ", "Withdraw";
        Resolve = "resolve", "Hoàn thành xử lý", "Resolve";
        ReturnResult = "return_result", "Trả kết quả", "Return the result";
    }
}

/// What a finished supplement does to the clock (domain.md §7.4; configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SupplementMode {
    /// The clock was paused; processing resumes and the due date moves by the paused time.
    #[default]
    PauseAndExtend,
    /// The case returns to `accepted` and the whole processing time starts again.
    Restart,
}

/// Who asks for an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The applicant who owns the case.
    Applicant,
    /// An officer in scope, with these capabilities.
    Officer(Vec<Capability>),
}

/// An action that does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{action}` does not apply to a case in status `{from}`")]
pub struct TransitionError {
    pub from: CaseStatus,
    pub action: CaseAction,
}

impl CaseAction {
    /// The status `self` leads to from `from`, or why not. Total over every pair.
    ///
    /// # Errors
    /// [`TransitionError`] when the action does not apply in `from`.
    pub fn target(self, from: CaseStatus, mode: SupplementMode) -> Result<CaseStatus, TransitionError> {
        use CaseAction as A;
        use CaseStatus as S;
        let to = match (self, from) {
            (A::Accept, S::Submitted) => S::Accepted,
            (A::Refuse, S::Submitted | S::SupplementRequested) => S::Refused,
            (A::RequestSupplement, S::Submitted) => S::Submitted,
            (A::RequestSupplement, S::Accepted | S::Processing) => S::SupplementRequested,
            (A::SubmitSupplement, S::Submitted) => S::Submitted,
            (A::SubmitSupplement, S::SupplementRequested) => match mode {
                SupplementMode::PauseAndExtend => S::Processing,
                SupplementMode::Restart => S::Accepted,
            },
            (A::Forward, S::Accepted | S::Processing) | (A::SendBack, S::Processing) => S::Processing,
            (A::RequestPayment, S::Processing) => S::AwaitingPayment,
            (A::ConfirmPayment, S::AwaitingPayment) => S::Processing,
            (A::Apologize, s @ (S::Accepted | S::Processing | S::SupplementRequested | S::AwaitingPayment)) => s,
            (A::Stop, S::Accepted | S::Processing | S::SupplementRequested | S::AwaitingPayment) => S::Stopped,
            (A::Withdraw, S::Submitted | S::Accepted | S::Processing | S::SupplementRequested | S::AwaitingPayment) => S::Withdrawn,
            (A::Resolve, S::Accepted | S::Processing | S::AwaitingPayment) => S::Resolved,
            (A::ReturnResult, S::Resolved) => S::Returned,
            _ => return Err(TransitionError { from, action: self }),
        };
        Ok(to)
    }

    /// Like [`CaseAction::target`], knowing whether a supplement request is outstanding: a
    /// supplement can only be submitted in answer to one, and a second request before the first
    /// is answered is refused.
    ///
    /// # Errors
    /// [`TransitionError`] when the action does not apply.
    pub fn apply(self, from: CaseStatus, supplement_pending: bool, mode: SupplementMode) -> Result<CaseStatus, TransitionError> {
        let refused = Err(TransitionError { from, action: self });
        match self {
            CaseAction::SubmitSupplement if !supplement_pending => refused,
            CaseAction::RequestSupplement if supplement_pending => refused,
            _ => self.target(from, mode),
        }
    }

    /// Whether the action needs a reason (refusal, supplement, stop, withdrawal, apology).
    pub fn requires_reason(self) -> bool {
        matches!(self, CaseAction::Refuse | CaseAction::RequestSupplement | CaseAction::Stop | CaseAction::Withdraw | CaseAction::Apologize)
    }

    /// Whether the action moves the case into a workflow step, which then runs against its own
    /// due instant (acceptance, forwarding, sending back).
    pub fn enters_step(self) -> bool {
        matches!(self, CaseAction::Accept | CaseAction::Forward | CaseAction::SendBack)
    }

    /// Whether the action hands the file from one desk to the next: a row of the process
    /// control sheet (form 05). Besides the step moves, resolving hands it to the result desk
    /// and returning hands it to the applicant.
    pub fn hands_over(self) -> bool {
        self.enters_step() || matches!(self, CaseAction::Resolve | CaseAction::ReturnResult)
    }

    /// Whether the applicant may take the action on their own case.
    pub fn by_applicant(self) -> bool {
        matches!(self, CaseAction::SubmitSupplement | CaseAction::Withdraw)
    }

    /// The officer capabilities that allow the action (any one of them), in `from`.
    pub fn capabilities(self, from: CaseStatus) -> &'static [Capability] {
        use Capability as C;
        match self {
            CaseAction::Accept | CaseAction::Refuse => &[C::Reception],
            CaseAction::RequestSupplement if from == CaseStatus::Submitted => &[C::Reception],
            CaseAction::RequestSupplement | CaseAction::Forward | CaseAction::SendBack | CaseAction::RequestPayment | CaseAction::Stop => {
                &[C::Processing]
            }
            // Supplements and withdrawals brought to the counter are entered by reception.
            CaseAction::SubmitSupplement | CaseAction::Withdraw | CaseAction::ConfirmPayment => &[C::Reception, C::ResultReturn],
            CaseAction::Apologize => &[C::Processing, C::Approval],
            CaseAction::Resolve => &[C::Approval],
            CaseAction::ReturnResult => &[C::ResultReturn],
        }
    }

    /// Whether `actor` may take the action in `from` (the transition itself aside).
    pub fn allowed_for(self, actor: &Actor, from: CaseStatus) -> bool {
        match actor {
            Actor::Applicant => self.by_applicant(),
            Actor::Officer(capabilities) => self.capabilities(from).iter().any(|c| capabilities.contains(c)),
        }
    }

    /// The actions `actor` may take on a case in `from`.
    pub fn available(from: CaseStatus, supplement_pending: bool, actor: &Actor, mode: SupplementMode) -> Vec<CaseAction> {
        CaseAction::ALL.iter().copied().filter(|a| a.apply(from, supplement_pending, mode).is_ok() && a.allowed_for(actor, from)).collect()
    }
}

wire_enum! {
    /// What a file of a case is.
    DocumentKind {
        /// A document of the application (thành phần hồ sơ).
        Application = "application", "Thành phần hồ sơ", "Application document";
        /// A document supplied after a supplement request.
        Supplement = "supplement", "Hồ sơ bổ sung", "Supplement";
        /// The result of the procedure (kết quả giải quyết).
        Result = "result", "Kết quả giải quyết", "Result";
    }
}

/// Why a file cannot be added to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentRefusal {
    /// The caller may not add this kind of file.
    NotAllowed,
    /// The case is closed (finished, or resolved and the file is not its result).
    Closed,
}

/// Whether `actor` may add a file of `kind` to a case in `status`: the applicant adds
/// application and supplement documents; officers add any kind, the result only with processing,
/// approval or result return (the result guard of Art. 19.4 reads it); nothing is added to a
/// closed case, and a resolved case takes only its result.
///
/// # Errors
/// The [`DocumentRefusal`].
pub fn may_add_document(actor: &Actor, kind: DocumentKind, status: CaseStatus) -> Result<(), DocumentRefusal> {
    let allowed = match (actor, kind) {
        (Actor::Applicant, DocumentKind::Application | DocumentKind::Supplement) => true,
        (Actor::Applicant, DocumentKind::Result) => false,
        (Actor::Officer(capabilities), DocumentKind::Result) => {
            capabilities.iter().any(|c| matches!(c, Capability::Processing | Capability::Approval | Capability::ResultReturn))
        }
        (Actor::Officer(capabilities), _) => !capabilities.is_empty(),
    };
    if !allowed {
        return Err(DocumentRefusal::NotAllowed);
    }
    if status.is_terminal() || (status == CaseStatus::Resolved && kind != DocumentKind::Result) {
        return Err(DocumentRefusal::Closed);
    }
    Ok(())
}

wire_enum! {
    /// The applicant's satisfaction with the service (Circular 01/2018 Chapter III).
    Satisfaction {
        VerySatisfied = "very_satisfied", "Rất hài lòng", "Very satisfied";
        Satisfied = "satisfied", "Hài lòng", "Satisfied";
        Unsatisfied = "unsatisfied", "Không hài lòng", "Unsatisfied";
    }
}

/// Whether a case in `status` can be rated by its applicant: only once its result was returned.
pub fn may_rate(status: CaseStatus) -> bool {
    status == CaseStatus::Returned
}

/// A case code (mã số hồ sơ): `{agency code}-{yyMMdd}-{sequence}`, e.g.
/// `000.00.53.H48-220921-0099` (domain.md §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseCode(String);

impl CaseCode {
    /// The code of the `sequence`-th case of `agency` received on local date `date`, with the
    /// sequence zero-padded to `width` digits (4 for provinces, 6–7 for ministries).
    ///
    /// # Errors
    /// When the sequence is 0 or does not fit the width, or the width is outside 3–9.
    pub fn new(agency: &AgencyCode, date: NaiveDate, sequence: u64, width: usize) -> Result<Self, ValidationError> {
        if !(3..=9).contains(&width) {
            return Err(ValidationError::new("sequence_width", "must be between 3 and 9"));
        }
        let digits = sequence.to_string();
        if sequence == 0 || digits.len() > width {
            return Err(ValidationError::new("sequence", format!("must be between 1 and {}", "9".repeat(width))));
        }
        Ok(Self(format!("{}-{}-{:0>width$}", agency.as_str(), date.format("%y%m%d"), digits)))
    }

    /// Parses a code as clients and the public lookup send it.
    ///
    /// # Errors
    /// When the code has another shape.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new("code", "must look like `000.00.00.H14-261128-0001`");
        let mut parts = value.trim().rsplitn(3, '-');
        let (Some(sequence), Some(date), Some(agency)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        AgencyCode::parse(agency).map_err(|_| bad())?;
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if date.len() != 6
            || !digits(date)
            || NaiveDate::parse_from_str(&format!("20{date}"), "%Y%m%d").is_err()
            || !(3..=9).contains(&sequence.len())
            || !digits(sequence)
        {
            return Err(bad());
        }
        Ok(Self(value.trim().to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

wire_enum! {
    /// How a case stands against its due date (domain.md §7.5).
    Timeliness {
        /// Finished before the due date.
        Early = "early", "Trước hạn", "Early";
        /// Finished on the due date.
        OnTime = "on_time", "Đúng hạn", "On time";
        /// Finished after the due date.
        Late = "late", "Quá hạn", "Late";
        /// Pending, due date not passed.
        Within = "within", "Trong hạn", "Within the deadline";
        /// Pending, due date passed.
        Overdue = "overdue", "Quá hạn", "Overdue";
    }
}

/// The judgement of the periodic report: dates compared by day (Asia/Ho_Chi_Minh). A finished
/// case is early, on time or late against its due date (on time without one); a pending case
/// is within its deadline or overdue at `as_of`.
pub fn report_timeliness(due: Option<NaiveDate>, finished: Option<NaiveDate>, as_of: NaiveDate) -> Timeliness {
    match (finished, due) {
        (Some(_), None) => Timeliness::OnTime,
        (Some(done), Some(due)) if done < due => Timeliness::Early,
        (Some(done), Some(due)) if done == due => Timeliness::OnTime,
        (Some(_), Some(_)) => Timeliness::Late,
        (None, Some(due)) if due < as_of => Timeliness::Overdue,
        (None, _) => Timeliness::Within,
    }
}

/// The judgement of one workflow step (form 05): handed on at `done` (or still open at `now`)
/// against the step's due instant; early when handed on a day before the due day or earlier
/// (dates in Asia/Ho_Chi_Minh).
pub fn step_timeliness(due: DateTime<Utc>, done: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Timeliness {
    let day = |t: DateTime<Utc>| t.with_timezone(&crate::time::VN).date_naive();
    match done {
        Some(done) if done > due => Timeliness::Late,
        Some(done) if day(done) < day(due) => Timeliness::Early,
        Some(_) => Timeliness::OnTime,
        None if now > due => Timeliness::Overdue,
        None => Timeliness::Within,
    }
}

/// The judgement of a case in `status` as of `as_of` (dates in Asia/Ho_Chi_Minh): none for a
/// case never received or closed without a result; otherwise [`report_timeliness`].
pub fn case_timeliness(
    status: CaseStatus,
    received: bool,
    due: Option<NaiveDate>,
    finished: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Option<Timeliness> {
    if !received || (status.is_terminal() && !status.is_finished()) {
        return None;
    }
    Some(report_timeliness(due, if status.is_finished() { finished } else { None }, as_of))
}

/// The judgement of the national index (766, indicator 2.1): instants, with the time spent
/// waiting for supplements subtracted, and more than one supplement request is late.
pub fn national_on_time(due: DateTime<Utc>, finished: DateTime<Utc>, supplement_seconds: i64, supplement_requests: u32) -> bool {
    if supplement_requests > 1 {
        return false;
    }
    finished - chrono::TimeDelta::seconds(supplement_seconds.max(0)) <= due
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODE: SupplementMode = SupplementMode::PauseAndExtend;

    #[test]
    fn who_adds_which_file_and_when() {
        use DocumentKind as K;
        let clerk = Actor::Officer(vec![Capability::Reception]);
        let approver = Actor::Officer(vec![Capability::Approval]);
        assert_eq!(may_add_document(&Actor::Applicant, K::Supplement, CaseStatus::SupplementRequested), Ok(()));
        assert_eq!(may_add_document(&Actor::Applicant, K::Result, CaseStatus::Processing), Err(DocumentRefusal::NotAllowed));
        assert_eq!(may_add_document(&clerk, K::Result, CaseStatus::Processing), Err(DocumentRefusal::NotAllowed));
        assert_eq!(may_add_document(&clerk, K::Application, CaseStatus::Accepted), Ok(()));
        assert_eq!(may_add_document(&Actor::Officer(Vec::new()), K::Application, CaseStatus::Accepted), Err(DocumentRefusal::NotAllowed));
        assert_eq!(may_add_document(&approver, K::Result, CaseStatus::Resolved), Ok(()));
        assert_eq!(may_add_document(&approver, K::Application, CaseStatus::Resolved), Err(DocumentRefusal::Closed));
        assert_eq!(may_add_document(&approver, K::Result, CaseStatus::Returned), Err(DocumentRefusal::Closed));
        assert!(may_rate(CaseStatus::Returned) && !may_rate(CaseStatus::Resolved));
    }

    #[test]
    fn events_are_named_and_labelled_by_their_action() {
        use crate::WireName;
        let named = |name: &str| EventAction::from_wire_name(name);
        assert_eq!(named("submit").map(|a| a.label().vi), Some("Nộp hồ sơ"));
        assert_eq!(named("refuse").map(|a| a.label().vi), Some("Từ chối tiếp nhận"));
        assert_eq!(named("refuse").and_then(EventAction::action), Some(CaseAction::Refuse));
        assert_eq!(named("dance"), None);
        for action in CaseAction::ALL {
            assert_eq!(named(action.as_str()), Some(EventAction::Act(*action)), "{action} reads back");
        }
    }

    #[test]
    fn every_status_has_its_national_code() {
        let codes: Vec<u8> = CaseStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, (1..=10).collect::<Vec<u8>>());
    }

    #[test]
    fn the_state_machine_follows_section_14_3() {
        use CaseAction as A;
        use CaseStatus as S;
        let path = [
            A::Accept,
            A::Forward,
            A::RequestSupplement,
            A::SubmitSupplement,
            A::RequestPayment,
            A::ConfirmPayment,
            A::Resolve,
            A::ReturnResult,
        ];
        let mut status = S::Submitted;
        for action in path {
            status = action.target(status, MODE).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(status, S::Returned);
        assert_eq!(A::SubmitSupplement.target(S::SupplementRequested, SupplementMode::Restart), Ok(S::Accepted));
        assert_eq!(A::Refuse.target(S::SupplementRequested, MODE), Ok(S::Refused), "supplement deadline expired");
        assert_eq!(A::Apologize.target(S::Processing, MODE), Ok(S::Processing));
        for terminal in [S::Refused, S::Withdrawn, S::Stopped, S::Returned] {
            assert!(terminal.is_terminal());
            for action in A::ALL {
                assert!(action.target(terminal, MODE).is_err(), "{action} from {terminal}");
            }
        }
        assert_eq!(A::Resolve.target(S::Submitted, MODE), Err(TransitionError { from: S::Submitted, action: A::Resolve }));
        assert!(A::Withdraw.target(S::Resolved, MODE).is_err());
    }

    #[test]
    fn available_actions_depend_on_the_actor() {
        use CaseAction as A;
        let reception = Actor::Officer(vec![Capability::Reception]);
        assert_eq!(
            CaseAction::available(CaseStatus::Submitted, false, &reception, MODE),
            vec![A::Accept, A::Refuse, A::RequestSupplement, A::Withdraw]
        );
        assert_eq!(CaseAction::available(CaseStatus::Submitted, true, &Actor::Applicant, MODE), vec![A::SubmitSupplement, A::Withdraw]);
        assert_eq!(
            CaseAction::available(CaseStatus::SupplementRequested, true, &Actor::Applicant, MODE),
            vec![A::SubmitSupplement, A::Withdraw]
        );
        assert_eq!(CaseAction::available(CaseStatus::Processing, false, &Actor::Applicant, MODE), vec![A::Withdraw]);
        let approver = Actor::Officer(vec![Capability::Approval]);
        assert_eq!(CaseAction::available(CaseStatus::Processing, false, &approver, MODE), vec![A::Apologize, A::Resolve]);
        assert!(CaseAction::available(CaseStatus::Returned, false, &approver, MODE).is_empty());
        assert!(A::SubmitSupplement.apply(CaseStatus::Submitted, false, MODE).is_err());
        assert!(A::RequestSupplement.apply(CaseStatus::Processing, true, MODE).is_err());
        assert!(A::Refuse.requires_reason() && !A::Accept.requires_reason());
    }

    #[test]
    fn case_codes_are_built_and_parsed() {
        let agency = AgencyCode::parse("000.00.53.H48").unwrap_or_else(|e| panic!("{e}"));
        let date = NaiveDate::from_ymd_opt(2022, 9, 21).unwrap_or_default();
        let code = CaseCode::new(&agency, date, 99, 4).map(|c| c.as_str().to_owned());
        assert_eq!(code.as_deref(), Ok("000.00.53.H48-220921-0099"));
        assert!(CaseCode::new(&agency, date, 10_000, 4).is_err());
        assert!(CaseCode::new(&agency, date, 0, 4).is_err());
        assert_eq!(CaseCode::new(&agency, date, 12, 7).map(|c| c.as_str().to_owned()).as_deref(), Ok("000.00.53.H48-220921-0000012"));
        assert!(CaseCode::parse("000.00.53.H48-220921-0099").is_ok());
        for bad in ["", "000.00.53.H48-220921", "000.00.53.H48-221321-0099", "x-220921-0099", "000.00.53.H48-220921-00a9"] {
            assert!(CaseCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timeliness_by_date_and_by_instant() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap_or_default();
        assert_eq!(report_timeliness(Some(d(10)), Some(d(9)), d(30)), Timeliness::Early);
        assert_eq!(report_timeliness(Some(d(10)), Some(d(10)), d(30)), Timeliness::OnTime);
        assert_eq!(report_timeliness(Some(d(10)), Some(d(11)), d(30)), Timeliness::Late);
        assert_eq!(report_timeliness(None, Some(d(11)), d(30)), Timeliness::OnTime);
        assert_eq!(report_timeliness(Some(d(10)), None, d(10)), Timeliness::Within);
        assert_eq!(report_timeliness(Some(d(10)), None, d(11)), Timeliness::Overdue);
        let t = |h: i64| DateTime::<Utc>::from_timestamp(1_790_000_000 + h * 3600, 0).unwrap_or_default();
        assert!(national_on_time(t(10), t(12), 3 * 3600, 1), "supplement time is subtracted");
        assert!(!national_on_time(t(10), t(12), 3600, 1));
        assert!(!national_on_time(t(10), t(5), 0, 2), "two supplement requests are late");
    }
}
