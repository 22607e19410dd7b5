//! What a frozen report snapshot keeps as JSON (and what the reporting system is sent): the
//! counts of report 06 for a window and agency subtree.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How statistic rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Agency,
    Field,
    Procedure,
    Channel,
    Day,
}

impl GroupBy {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agency => "agency",
            Self::Field => "field",
            Self::Procedure => "procedure",
            Self::Channel => "channel",
            Self::Day => "day",
        }
    }
}

/// Cases received (số hồ sơ nhận giải quyết).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedCounts {
    pub total: i64,
    pub online: i64,
    pub direct_postal: i64,
    pub carried_over: i64,
}

/// Cases resolved in the window (số hồ sơ đã giải quyết).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedCounts {
    pub total: i64,
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
}

/// Cases pending at the end of the window (số hồ sơ đang giải quyết).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCounts {
    pub total: i64,
    pub within: i64,
    pub overdue: i64,
}

/// One row of counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatisticsRow {
    pub key: String,
    pub label: String,
    pub received: ReceivedCounts,
    pub resolved: ResolvedCounts,
    pub pending: PendingCounts,
    pub withdrawn: i64,
    pub refused: i64,
    pub supplement_requested: i64,
}

/// Case counts for a window and agency subtree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statistics {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub agency_id: Option<String>,
    pub agency_name: Option<String>,
    pub group_by: GroupBy,
    pub rows: Vec<StatisticsRow>,
    pub total: StatisticsRow,
}

/// A periodic report: the template, its period and window, and the counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `06`, `weekly` or `monthly`.
    pub template: String,
    pub title: String,
    pub period: String,
    pub period_label: String,
    /// When the numbers were computed.
    pub generated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub statistics: Statistics,
}
