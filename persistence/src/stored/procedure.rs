//! What a procedure version keeps as JSON: its content, and the steps of a stored workflow.

use chrono::NaiveDate;
use domain::calendar::{DurationUnit, ProcessingTime};
use serde::{Deserialize, Serialize};

/// A field (lĩnh vực) of the sector classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRef {
    pub code: String,
    pub name: String,
}

/// A duration with its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSpec {
    pub value: i64,
    pub unit: TimeUnit,
}

/// The unit of a processing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    WorkingDay,
    CalendarDay,
    WorkingHour,
}

impl TimeSpec {
    /// The domain value; `field` names the input in errors.
    ///
    /// # Errors
    /// Negative or too large values.
    pub fn to_domain(self, field: &'static str) -> Result<ProcessingTime, domain::ValidationError> {
        let unit = match self.unit {
            TimeUnit::WorkingDay => DurationUnit::WorkingDay,
            TimeUnit::CalendarDay => DurationUnit::CalendarDay,
            TimeUnit::WorkingHour => DurationUnit::WorkingHour,
        };
        let value = u32::try_from(self.value).map_err(|_| domain::ValidationError::new(field, "must not be negative"))?;
        ProcessingTime::new(value, unit).map_err(|e| domain::ValidationError::new(field, e.reason))
    }

    /// The stored form of a domain value.
    pub fn of(time: ProcessingTime) -> Self {
        let unit = match time.unit() {
            DurationUnit::WorkingDay => TimeUnit::WorkingDay,
            DurationUnit::CalendarDay => TimeUnit::CalendarDay,
            DurationUnit::WorkingHour => TimeUnit::WorkingHour,
        };
        Self { value: i64::from(time.value()), unit }
    }
}

/// A fee or charge (phí, lệ phí), in VND.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub code: Option<String>,
    pub amount: i64,
    pub description: String,
}

/// A document the applicant submits (thành phần hồ sơ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredDocument {
    pub code: String,
    pub name: String,
    pub originals: i32,
    pub copies: i32,
    pub mandatory: bool,
}

/// The result of the procedure (kết quả thực hiện).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultSpec {
    pub code: Option<String>,
    pub name: Option<String>,
    /// `false` for procedures that end without a result document.
    pub has_result: bool,
}

/// A legal basis (căn cứ pháp lý).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalBasis {
    pub number: String,
    pub title: String,
}

/// The content of a procedure version, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcedureContent {
    pub national_code: Option<String>,
    pub name: String,
    pub sector: String,
    pub field: FieldRef,
    pub levels: Vec<String>,
    pub agency_ids: Vec<String>,
    pub online_level: String,
    #[serde(default)]
    pub channels: Vec<String>,
    pub processing_time: TimeSpec,
    pub online_processing_time: Option<TimeSpec>,
    pub cutoff_time: Option<String>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    #[serde(default)]
    pub required_documents: Vec<RequiredDocument>,
    pub result: ResultSpec,
    #[serde(default)]
    pub legal_basis: Vec<LegalBasis>,
    pub form_schema: Option<serde_json::Value>,
    pub effective_from: Option<NaiveDate>,
}

impl ProcedureContent {
    /// The processing time that applies on a channel: the online time, when there is one, for
    /// online submissions.
    ///
    /// # Errors
    /// A stored time out of range.
    pub fn processing_time_for(&self, online: bool) -> Result<ProcessingTime, domain::ValidationError> {
        let spec = if online { self.online_processing_time.unwrap_or(self.processing_time) } else { self.processing_time };
        spec.to_domain("processing_time")
    }
}

/// A step of a stored electronic workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowStep {
    pub key: String,
    pub name: String,
    /// `reception`, `processing`, `approval` or `result_return`.
    pub capability: String,
    pub agency_id: Option<String>,
    pub duration_hours: i64,
}
