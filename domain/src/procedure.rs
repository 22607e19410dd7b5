//! Administrative procedures (thủ tục hành chính): codes, online-service levels, the
//! publication lifecycle of Art. 9–10 and electronic workflows of Art. 11.

use crate::calendar::{DurationUnit, ProcessingTime};
use crate::role::wire_enum;
use crate::{Capability, Role, ValidationError};

/// A procedure code: `1.001193.000.00.00.H14` (national root localised to a province), the
/// short local form `2.002621.H14`, or the national root alone `1.001193` (domain.md §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcedureCode(String);

impl ProcedureCode {
    /// Parses a code; `field` names the input in the error.
    ///
    /// # Errors
    /// When the code has another shape.
    pub fn parse(value: &str, field: &'static str) -> Result<Self, ValidationError> {
        let value = value.trim();
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let suffix = |s: &str| s.len() == 3 && s.as_bytes().first().is_some_and(u8::is_ascii_uppercase) && digits(&s[1..], 2);
        let parts: Vec<&str> = value.split('.').collect();
        let root_ok = parts.len() >= 2 && matches!(parts[0], "1" | "2" | "3") && digits(parts[1], 6);
        let ok = root_ok
            && match parts.len() {
                2 => true,
                3 => suffix(parts[2]),
                6 => digits(parts[2], 3) && digits(parts[3], 2) && digits(parts[4], 2) && suffix(parts[5]),
                _ => false,
            };
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new(field, "must look like `1.001193.000.00.00.H14`, `2.002621.H14` or `1.001193`"))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

wire_enum! {
    /// How much of a procedure can be done online (Decree 42/2022; legacy levels 4/3/2).
    OnlineLevel {
        /// Dịch vụ công trực tuyến toàn trình (legacy level 4).
        Full = "full", "Toàn trình", "Full online service";
        /// Dịch vụ công trực tuyến một phần (legacy level 3).
        Partial = "partial", "Một phần", "Partial online service";
        /// Information only (legacy level 2 and below).
        Info = "info", "Cung cấp thông tin", "Information only";
    }
}

impl OnlineLevel {
    /// Parses the wire name or a legacy level (`4`, `3`, `2`, `1`).
    ///
    /// # Errors
    /// For any other value.
    pub fn parse_with_legacy(value: &str) -> Result<Self, ValidationError> {
        match value.trim() {
            "4" => Ok(OnlineLevel::Full),
            "3" => Ok(OnlineLevel::Partial),
            "2" | "1" => Ok(OnlineLevel::Info),
            other => OnlineLevel::parse(other, "online_level"),
        }
    }

    /// The legacy level number stored by older systems.
    pub fn legacy(self) -> u8 {
        match self {
            OnlineLevel::Full => 4,
            OnlineLevel::Partial => 3,
            OnlineLevel::Info => 2,
        }
    }
}

wire_enum! {
    /// A way to submit a case (Art. 13, 26).
    Channel {
        /// At the one-stop counter (trực tiếp).
        Counter = "counter", "Trực tiếp", "At the counter";
        /// Online (trực tuyến).
        Online = "online", "Trực tuyến", "Online";
        /// By public postal service (bưu chính công ích).
        Postal = "postal", "Qua bưu chính công ích", "By post";
    }
}

wire_enum! {
    /// Where a procedure version stands in the publication lifecycle (Art. 9–10).
    PublicationStatus {
        /// Being written.
        Draft = "draft", "Dự thảo", "Draft";
        /// Proposed by the agency for publication.
        Proposed = "proposed", "Đề xuất", "Proposed";
        /// Reviewed by the People's Committee office.
        Reviewed = "reviewed", "Đã thẩm định", "Reviewed";
        /// Tested and verified by the operator.
        Verified = "verified", "Đã kiểm tra", "Verified";
        /// Published on the portal.
        Published = "published", "Đã công bố", "Published";
        /// Taken off the portal.
        Withdrawn = "withdrawn", "Đã thu hồi", "Withdrawn";
        /// Abolished: never served again.
        Abolished = "abolished", "Đã bãi bỏ", "Abolished";
    }
}

wire_enum! {
    /// A step of the publication lifecycle.
    PublicationAction {
        /// draft → proposed (agency administrator).
        Propose = "propose", "Đề xuất công bố", "Propose";
        /// proposed → reviewed (supervisor of the People's Committee office).
        Review = "review", "Thẩm định", "Review";
        /// reviewed → verified (system administrator).
        Verify = "verify", "Kiểm tra", "Verify";
        /// verified → published, with the decision reference (system administrator).
        Publish = "publish", "Công bố", "Publish";
        /// published → withdrawn (system administrator).
        Withdraw = "withdraw", "Thu hồi", "Withdraw";
        /// any → abolished (system administrator).
        Abolish = "abolish", "Bãi bỏ", "Abolish";
    }
}

impl PublicationAction {
    /// The status an action moves to from `from`, or `None` when it does not apply.
    pub fn target(self, from: PublicationStatus) -> Option<PublicationStatus> {
        use PublicationAction as A;
        use PublicationStatus as S;
        match (self, from) {
            (A::Propose, S::Draft) => Some(S::Proposed),
            (A::Review, S::Proposed) => Some(S::Reviewed),
            (A::Verify, S::Reviewed) => Some(S::Verified),
            (A::Publish, S::Verified) => Some(S::Published),
            (A::Withdraw, S::Published) => Some(S::Withdrawn),
            (A::Abolish, s) if s != S::Abolished => Some(S::Abolished),
            _ => None,
        }
    }

    /// The roles that may take the action.
    pub fn roles(self) -> &'static [Role] {
        match self {
            PublicationAction::Propose => &[Role::AgencyAdmin, Role::SystemAdmin],
            PublicationAction::Review => &[Role::Supervisor],
            PublicationAction::Verify | PublicationAction::Publish | PublicationAction::Withdraw | PublicationAction::Abolish => {
                &[Role::SystemAdmin]
            }
        }
    }

    /// The actions `role` may take on a version in `status`.
    pub fn available(status: PublicationStatus, role: Role) -> Vec<PublicationAction> {
        PublicationAction::ALL.iter().copied().filter(|a| a.target(status).is_some() && a.roles().contains(&role)).collect()
    }
}

/// One step of an electronic workflow (quy trình điện tử).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowStep {
    /// Unique within the workflow, e.g. `tiep_nhan`.
    pub key: String,
    pub name: String,
    pub capability: Capability,
    /// The agency that performs the step, when not the receiving one.
    pub agency_id: Option<String>,
    /// The step's share of the processing time, in working hours.
    pub duration_hours: u32,
}

/// Working hours a processing time amounts to (a working or calendar day counts 8 hours).
pub fn processing_hours(time: ProcessingTime) -> u64 {
    match time.unit() {
        DurationUnit::WorkingHour => u64::from(time.value()),
        DurationUnit::WorkingDay | DurationUnit::CalendarDay => u64::from(time.value()) * 8,
    }
}

/// Checks a workflow: not empty, unique non-empty keys, starting with `reception` and ending
/// with `result_return`, and a total duration within the processing time.
///
/// # Errors
/// The first rule broken, naming the offending step.
pub fn validate_workflow(steps: &[WorkflowStep], processing_time: ProcessingTime) -> Result<(), ValidationError> {
    let (Some(first), Some(last)) = (steps.first(), steps.last()) else {
        return Err(ValidationError::new("steps", "must not be empty"));
    };
    if first.capability != Capability::Reception {
        return Err(ValidationError::new("steps", "the first step must have the capability `reception`"));
    }
    if last.capability != Capability::ResultReturn {
        return Err(ValidationError::new("steps", "the last step must have the capability `result_return`"));
    }
    let mut keys = std::collections::HashSet::new();
    for step in steps {
        let key_ok = (1..=64).contains(&step.key.len()) && step.key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !key_ok || !keys.insert(step.key.as_str()) {
            return Err(ValidationError::new(
                "steps",
                format!("step key `{}` must be unique, 1-64 characters of a-z, 0-9, _ or -", step.key),
            ));
        }
        if step.name.trim().is_empty() {
            return Err(ValidationError::new("steps", format!("step `{}` needs a name", step.key)));
        }
    }
    let total: u64 = steps.iter().map(|s| u64::from(s.duration_hours)).sum();
    let allowed = processing_hours(processing_time);
    if total > allowed {
        return Err(ValidationError::new(
            "steps",
            format!("the steps take {total} working hours, more than the processing time ({allowed})"),
        ));
    }
    Ok(())
}

/// The workflow of a procedure without one: reception, processing, approval and result return,
/// sharing the processing time (reception and return get an hour each when it allows).
pub fn default_workflow(processing_time: ProcessingTime) -> Vec<WorkflowStep> {
    let total = u32::try_from(processing_hours(processing_time)).unwrap_or(u32::MAX);
    let edge = if total >= 4 { 1 } else { 0 };
    let middle = total - 2 * edge;
    let approval = middle / 4;
    let step = |key: &str, name: &str, capability, duration_hours| WorkflowStep {
        key: key.into(),
        name: name.into(),
        capability,
        agency_id: None,
        duration_hours,
    };
    vec![
        step("tiep_nhan", "Tiếp nhận hồ sơ", Capability::Reception, edge),
        step("xu_ly", "Thẩm định, xử lý hồ sơ", Capability::Processing, middle - approval),
        step("phe_duyet", "Phê duyệt kết quả", Capability::Approval, approval),
        step("tra_ket_qua", "Trả kết quả", Capability::ResultReturn, edge),
    ]
}

/// Where a case goes in its workflow: the step after `current` (after reception when the case
/// has just been accepted and has no step yet), or `to` when the officer names one.
///
/// # Errors
/// `to_step` naming no step of the workflow.
pub fn next_step<'a>(
    steps: &'a [WorkflowStep],
    current: Option<&str>,
    to: Option<&str>,
) -> Result<Option<&'a WorkflowStep>, ValidationError> {
    if let Some(key) = to {
        return steps
            .iter()
            .find(|s| s.key == key)
            .map(Some)
            .ok_or_else(|| ValidationError::new("to_step", format!("`{key}` is not a step of this workflow")));
    }
    let index = match current.and_then(|key| steps.iter().position(|s| s.key == key)) {
        Some(i) => i + 1,
        // No step yet: the case has just been received, so it leaves reception.
        None => steps.iter().position(|s| s.capability != Capability::Reception).unwrap_or(steps.len()),
    };
    Ok(steps.get(index))
}

/// The step before `current` (where a case sent back goes), never before the first step after
/// reception.
pub fn previous_step<'a>(steps: &'a [WorkflowStep], current: Option<&str>) -> Option<&'a WorkflowStep> {
    let index = current.and_then(|key| steps.iter().position(|s| s.key == key))?;
    let first = steps.iter().position(|s| s.capability != Capability::Reception).unwrap_or(0);
    steps.get(index.saturating_sub(1).max(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_move_through_the_workflow_steps() {
        let steps = default_workflow(ProcessingTime::new(5, DurationUnit::WorkingDay).expect("time"));
        let key = |s: Option<&WorkflowStep>| s.map(|s| s.key.clone());
        assert_eq!(key(next_step(&steps, None, None).expect("next")), Some("xu_ly".into()), "accepted cases leave reception");
        assert_eq!(key(next_step(&steps, Some("xu_ly"), None).expect("next")), Some("phe_duyet".into()));
        assert_eq!(key(next_step(&steps, Some("tra_ket_qua"), None).expect("next")), None);
        assert_eq!(key(next_step(&steps, Some("xu_ly"), Some("tra_ket_qua")).expect("named")), Some("tra_ket_qua".into()));
        assert!(next_step(&steps, None, Some("nowhere")).is_err());
        assert_eq!(key(previous_step(&steps, Some("phe_duyet"))), Some("xu_ly".into()));
        assert_eq!(key(previous_step(&steps, Some("xu_ly"))), Some("xu_ly".into()), "never back to reception");
        assert_eq!(key(previous_step(&steps, None)), None);
    }

    #[test]
    fn procedure_codes_of_every_form_parse() {
        for ok in ["1.001193.000.00.00.H14", "2.002621.H14", "1.001193", "3.000123.000.00.00.G17"] {
            assert!(ProcedureCode::parse(ok, "code").is_ok(), "{ok}");
        }
        for bad in ["", "1.001193.000.00.H14", "4.001193", "1.01193", "1.001193.h14", "1.001193.000.00.00.H1", "x.001193"] {
            assert!(ProcedureCode::parse(bad, "code").is_err(), "{bad}");
        }
    }

    #[test]
    fn legacy_levels_map_to_the_new_names() {
        assert_eq!(OnlineLevel::parse_with_legacy("4"), Ok(OnlineLevel::Full));
        assert_eq!(OnlineLevel::parse_with_legacy("3"), Ok(OnlineLevel::Partial));
        assert_eq!(OnlineLevel::parse_with_legacy("2"), Ok(OnlineLevel::Info));
        assert_eq!(OnlineLevel::parse_with_legacy("partial"), Ok(OnlineLevel::Partial));
        assert!(OnlineLevel::parse_with_legacy("5").is_err());
        assert_eq!(OnlineLevel::Full.legacy(), 4);
    }

    #[test]
    fn the_publication_lifecycle_runs_in_order_by_role() {
        use PublicationAction as A;
        use PublicationStatus as S;
        assert_eq!(A::Propose.target(S::Draft), Some(S::Proposed));
        assert_eq!(A::Publish.target(S::Reviewed), None);
        assert_eq!(A::Abolish.target(S::Published), Some(S::Abolished));
        assert_eq!(A::Abolish.target(S::Abolished), None);
        assert_eq!(PublicationAction::available(S::Proposed, Role::Supervisor), vec![A::Review]);
        assert_eq!(PublicationAction::available(S::Verified, Role::SystemAdmin), vec![A::Publish, A::Abolish]);
        assert!(PublicationAction::available(S::Draft, Role::Officer).is_empty());
    }

    #[test]
    fn workflows_are_checked() {
        let time = ProcessingTime::new(5, DurationUnit::WorkingDay).unwrap_or_else(|_| unreachable!());
        let steps = default_workflow(time);
        assert_eq!(steps.iter().map(|s| s.duration_hours).sum::<u32>(), 40);
        assert!(validate_workflow(&steps, time).is_ok());
        assert!(validate_workflow(&[], time).is_err());
        let mut long = steps.clone();
        long[1].duration_hours = 100;
        assert!(validate_workflow(&long, time).is_err());
        let mut reordered = steps.clone();
        reordered.swap(0, 1);
        assert!(validate_workflow(&reordered, time).is_err());
        let mut duplicate = steps.clone();
        duplicate[2].key = "xu_ly".into();
        assert!(validate_workflow(&duplicate, time).is_err());
        let short = ProcessingTime::new(2, DurationUnit::WorkingHour).unwrap_or_else(|_| unreachable!());
        assert!(validate_workflow(&default_workflow(short), short).is_ok());
    }
}
