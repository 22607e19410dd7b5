//! The bodies the tests read, as a client generated from `openapi.yaml` would see them: typed,
//! with the fields the scenarios check (unknown fields are ignored, as clients do). A body that
//! does not parse fails the test with the response text. A field that no scenario reads is still
//! declared when clients depend on it: the body must carry it to parse.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// `application/problem+json` (RFC 9457).
#[derive(Debug, Clone, Deserialize)]
pub struct Problem {
    pub status: u16,
    pub code: String,
    pub title: String,
    pub detail: String,
    pub instance: String,
    #[serde(default)]
    pub invalid_params: Vec<InvalidParam>,
    #[serde(default)]
    pub allowed_actions: Vec<String>,
}

impl Problem {
    /// The names of the invalid parameters, in order.
    pub fn param_names(&self) -> Vec<&str> {
        self.invalid_params.iter().map(|p| p.name.as_str()).collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
}

/// A keyset-paged list.
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Any created resource with an id (agencies, accounts).
#[derive(Debug, Clone, Deserialize)]
pub struct Created {
    pub id: String,
}

/// A token pair.
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

/// An account (also `GET /me`).
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub role_label: String,
    pub agency_id: Option<String>,
    pub capabilities: Vec<String>,
    pub phone: Option<String>,
    pub active: bool,
}

/// An agency.
#[derive(Debug, Clone, Deserialize)]
pub struct Agency {
    pub id: String,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_id: Option<String>,
    pub active: bool,
}

/// One grant or revocation in an agency's role ledger.
#[derive(Debug, Clone, Deserialize)]
pub struct LedgerEntry {
    pub action: String,
    pub role: String,
    pub capabilities: Vec<String>,
    pub subject_username: Option<String>,
    pub actor_username: Option<String>,
    pub reason: Option<String>,
}

/// A version of a procedure.
#[derive(Debug, Clone, Deserialize)]
pub struct Procedure {
    pub code: String,
    pub version: i32,
    pub name: String,
    pub status: String,
    pub current: bool,
    pub online_level: String,
    pub online_level_legacy: Option<u8>,
    pub channels: Vec<String>,
    pub decision_ref: Option<String>,
}

/// One entry of a procedure's version list.
#[derive(Debug, Clone, Deserialize)]
pub struct ProcedureVersion {
    pub version: i32,
    pub status: String,
    pub current: bool,
    pub latest: bool,
    pub name: String,
}

/// The workflow of a procedure at an agency.
#[derive(Debug, Clone, Deserialize)]
pub struct Workflow {
    pub version: i32,
    pub origin: String,
    pub total_hours: i64,
    pub steps: Vec<WorkflowStep>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowStep {
    pub capability: String,
}

/// A frequently asked question of a procedure.
#[derive(Debug, Clone, Deserialize)]
pub struct Faq {
    pub id: String,
    pub question: String,
    pub answer: String,
}

/// An entry of the audit trail.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditEntry {
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
}

/// A case as staff and its owner see it.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub code: String,
    pub agency_id: String,
    pub channel: String,
    pub source: String,
    pub status: String,
    pub status_code: u8,
    pub current_step: Option<String>,
    pub step_due_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub original_due_at: Option<DateTime<Utc>>,
    pub timeliness: Option<String>,
    pub supplement_count: i32,
    pub available_actions: Vec<String>,
    /// Only on the view of one case.
    pub supplement_requests: Option<Vec<SupplementRequest>>,
    pub payments: Option<Vec<Payment>>,
    pub result: Option<CaseResult>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SupplementRequest {
    pub items: Vec<String>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub supplied_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Payment {
    pub items: Vec<String>,
    pub receipt: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseResult {
    pub decision_number: Option<String>,
    pub method: Option<String>,
    pub returned_at: Option<DateTime<Utc>>,
}

/// One event of a case's history.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseEvent {
    pub seq: i32,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
}

/// The public lookup of a case.
#[derive(Debug, Clone, Deserialize)]
pub struct Lookup {
    pub code: String,
    pub status: String,
    pub status_code: u8,
    pub completion: String,
}

/// A stored file of a case.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseDocument {
    pub id: String,
    pub kind: String,
    pub content_type: String,
}

/// A feedback item as staff and its sender see it.
#[derive(Debug, Clone, Deserialize)]
pub struct Feedback {
    pub code: String,
    pub status: String,
    pub status_label: String,
    pub agency_id: String,
    pub related_case_code: Option<String>,
    pub content: String,
    pub contact: Contact,
    pub deadlines: FeedbackDeadlines,
    pub overdue: FeedbackOverdue,
    pub answer: Option<String>,
    pub useful: Option<bool>,
    pub available_actions: Vec<String>,
}

/// The sender of a feedback item.
#[derive(Debug, Clone, Deserialize)]
pub struct Contact {
    pub full_name: String,
}

/// The deadlines of a feedback item.
#[derive(Debug, Clone, Deserialize)]
pub struct FeedbackDeadlines {
    pub reception_due_at: DateTime<Utc>,
    pub supplement_due_at: DateTime<Utc>,
    pub answer_due_at: DateTime<Utc>,
    pub publish_due_at: Option<DateTime<Utc>>,
}

/// Which deadlines of a feedback item have passed.
#[derive(Debug, Clone, Deserialize)]
pub struct FeedbackOverdue {
    pub answer: bool,
    pub any: bool,
}

/// A published feedback item, as the public sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct PublicFeedback {
    pub code: String,
    pub title: String,
    pub answer: Option<String>,
    pub agency_name: String,
    pub useful: Option<bool>,
}
