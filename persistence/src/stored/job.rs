//! What a job row keeps as JSON: the outcome of each item.

use serde::{Deserialize, Serialize};

/// What happened to one item of a job (a procedure of the catalogue sync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemOutcome {
    pub code: String,
    /// `created`, `updated`, `unchanged` or `failed`.
    pub outcome: String,
    pub version: Option<i32>,
    /// Why it failed, or what was noticed (unknown agency codes).
    pub note: Option<String>,
}
