//! What a case row keeps as JSON: the applicant and the representative, and the documents
//! declared with the submission.

use serde::{Deserialize, Serialize};

/// The applicant or the representative (chủ hồ sơ, người được ủy quyền), as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// `citizen`, `enterprise`, `agency` or `organisation`.
    pub kind: String,
    pub full_name: String,
    /// `cccd`, `cmnd`, `tax_code`, `passport` or `other`.
    pub id_type: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// A document declared with the submission, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredDocument {
    /// The `code` of a required document of the procedure.
    pub requirement_code: String,
    pub name: String,
    pub originals: i32,
    pub copies: i32,
}

/// The parameters of a case action kept with its event, from which the case view, forms 02–05
/// and the evaluation read back what happened. Each action fills the fields it takes; absent
/// and empty ones are not stored, and rows written before read as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetails {
    /// `request_supplement`: what to supplement; `request_payment`: what to pay.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// `request_supplement`: working days given to the applicant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_days: Option<u32>,
    /// `request_supplement`: the instant the applicant must supplement by (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplement_due_at: Option<chrono::DateTime<chrono::Utc>>,
    /// `forward`: the officer assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
    /// `forward`: the agency taking part (coordination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_id: Option<String>,
    /// `apologize`: the new due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_due_at: Option<chrono::DateTime<chrono::Utc>>,
    /// `resolve`: the decision, its number and signer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// `return_result`: how the result was handed over and to whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// `confirm_payment`: the receipt number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

impl EventDetails {
    /// The stored text, `None` when there is nothing to keep.
    ///
    /// # Errors
    /// Serialisation failures (none for this type).
    pub fn to_column(&self) -> Result<Option<String>, crate::RepoError> {
        if *self == Self::default() { Ok(None) } else { super::write(self).map(Some) }
    }

    /// Reads the stored text; unreadable or absent details read as none.
    pub fn of_column(text: Option<&str>) -> Self {
        text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
    }
}
