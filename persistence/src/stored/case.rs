//! What a case row keeps as JSON: the applicant and the representative, and the documents
//! declared with the submission.

use domain::case::{CaseAction, EventAction};
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

/// `request_supplement`: what to supplement and by when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// Working days given to the applicant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_days: Option<u32>,
    /// The instant the applicant must supplement by (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplement_due_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `request_payment`: what to pay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

/// `confirm_payment`: the receipt number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentReceipt {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

/// `forward`: the officer assigned and the agency taking part (coordination).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_id: Option<String>,
}

/// `apologize`: the new due date asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Apology {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_due_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `resolve`: the decision, its number and signer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// `return_result`: how the result was handed over and to whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOver {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
}

/// The parameters of a case action kept with its event, one shape per action, from which the
/// case view and forms 02–05 read back what happened. The stored JSON is the variant's fields
/// (the event's `action` column says which variant it is); empty details are not stored, and
/// rows written before, which could hold any field under any action, read as the action's
/// fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EventDetails {
    /// The action keeps nothing beyond the event's note.
    #[default]
    None,
    RequestSupplement(SupplementRequest),
    RequestPayment(PaymentRequest),
    ConfirmPayment(PaymentReceipt),
    Forward(Assignment),
    Apologize(Apology),
    Resolve(Decision),
    ReturnResult(HandOver),
}

impl EventDetails {
    /// The stored text, `None` when there is nothing to keep.
    ///
    /// # Errors
    /// Serialisation failures (none for these types).
    pub fn to_column(&self) -> Result<Option<String>, crate::RepoError> {
        fn keep<T: Serialize + Default + PartialEq>(value: &T) -> Result<Option<String>, crate::RepoError> {
            if *value == T::default() { Ok(None) } else { super::write(value).map(Some) }
        }
        match self {
            EventDetails::None => Ok(None),
            EventDetails::RequestSupplement(d) => keep(d),
            EventDetails::RequestPayment(d) => keep(d),
            EventDetails::ConfirmPayment(d) => keep(d),
            EventDetails::Forward(d) => keep(d),
            EventDetails::Apologize(d) => keep(d),
            EventDetails::Resolve(d) => keep(d),
            EventDetails::ReturnResult(d) => keep(d),
        }
    }

    /// Reads the stored text of an event of `action`; unreadable or absent details read as
    /// empty ones of the action's shape.
    pub fn of_column(action: EventAction, text: Option<&str>) -> Self {
        fn read<T: serde::de::DeserializeOwned + Default>(text: Option<&str>) -> T {
            text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
        }
        match action.action() {
            Some(CaseAction::RequestSupplement) => EventDetails::RequestSupplement(read(text)),
            Some(CaseAction::RequestPayment) => EventDetails::RequestPayment(read(text)),
            Some(CaseAction::ConfirmPayment) => EventDetails::ConfirmPayment(read(text)),
            Some(CaseAction::Forward) => EventDetails::Forward(read(text)),
            Some(CaseAction::Apologize) => EventDetails::Apologize(read(text)),
            Some(CaseAction::Resolve) => EventDetails::Resolve(read(text)),
            Some(CaseAction::ReturnResult) => EventDetails::ReturnResult(read(text)),
            _ => EventDetails::None,
        }
    }
}
