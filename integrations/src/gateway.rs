//! JSON-over-HTTP gateways: the government reporting system, the national feedback system's
//! push, and the SMS, Zalo and e-mail relays. One `POST` of a JSON document with a bearer
//! token; a 2xx answer is success and may carry the receiver's reference.
//!
//! Payloads (domain.md gives no wire format for these systems; the shapes below are ours and
//! documented in the README so that a relay can adapt them):
//! - SMS: `{"to": "<phone>", "text": "…"}`; Zalo: `{"phone": "<phone>", "text": "…"}`;
//!   e-mail: `{"to": "<address>", "subject": "…", "text": "…"}`;
//! - reports: the frozen snapshot (see `motcua` README); feedback: the feedback document.
//!
//! Phone numbers and addresses travel in bodies only; nothing here logs them.

use std::time::Duration;

use serde_json::Value;

/// The SMS gateway's message to `phone`.
pub fn sms(phone: &str, text: &str) -> Value {
    serde_json::json!({"to": phone, "text": text})
}

/// The Zalo gateway's message to `phone`.
pub fn zalo(phone: &str, text: &str) -> Value {
    serde_json::json!({"phone": phone, "text": text})
}

/// The e-mail relay's message to `address`.
pub fn email(address: &str, subject: &str, text: &str) -> Value {
    serde_json::json!({"to": address, "subject": subject, "text": text})
}

/// A frozen report as the government reporting system receives it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportSubmission {
    /// Our snapshot id.
    pub id: String,
    /// `06`, `weekly` or `monthly`.
    pub template: String,
    pub period: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    /// The agency reported on; none for the whole province.
    pub agency_code: Option<String>,
    pub agency_name: Option<String>,
    pub group_by: String,
    pub frozen_at: chrono::DateTime<chrono::Utc>,
    /// The report's numbers, as frozen.
    pub report: Value,
}

/// Why a gateway call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// No answer in time.
    #[error("the gateway did not answer in time")]
    Timeout,
    /// Unreachable.
    #[error("the gateway is unreachable: {0}")]
    Unreachable(String),
    /// Answered with a status other than 2xx.
    #[error("the gateway answered HTTP {status}: {detail}")]
    Status { status: u16, detail: String },
}

impl GatewayError {
    /// The HTTP status behind the error, when one came back.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::Timeout | Self::Unreachable(_) => None,
        }
    }
}

/// One configured gateway.
#[derive(Clone)]
pub struct JsonGateway {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl std::fmt::Debug for JsonGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonGateway").field("url", &self.url).finish_non_exhaustive()
    }
}

/// The receiver's reference in a JSON answer: `reference`, `id`, `message_id` or `ma_bao_cao`.
fn reference(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    ["reference", "id", "message_id", "ma_bao_cao", "MaBaoCao"].iter().find_map(|key| match value.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

impl JsonGateway {
    /// A gateway at `url` (the full endpoint) with an optional bearer `token`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(url: &str, token: Option<String>, timeout: Duration) -> Result<Self, GatewayError> {
        let http = reqwest::Client::builder().timeout(timeout).build().map_err(|e| GatewayError::Unreachable(e.to_string()))?;
        Ok(Self { http, url: url.to_owned(), token })
    }

    /// POSTs `body`; returns the receiver's reference when it gave one.
    ///
    /// # Errors
    /// See [`GatewayError`].
    pub async fn post(&self, body: &Value) -> Result<Option<String>, GatewayError> {
        let text = self.send(self.http.post(&self.url).json(body)).await?;
        Ok(reference(&text))
    }

    /// GETs the endpoint; returns its JSON answer (`null` when it is not JSON).
    ///
    /// # Errors
    /// See [`GatewayError`].
    pub async fn get(&self) -> Result<Value, GatewayError> {
        let text = self.send(self.http.get(&self.url)).await?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends with the bearer token; the body of a 2xx answer.
    async fn send(&self, mut request: reqwest::RequestBuilder) -> Result<String, GatewayError> {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let failed =
            |e: reqwest::Error| if e.is_timeout() { GatewayError::Timeout } else { GatewayError::Unreachable(e.without_url().to_string()) };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let text = response.text().await.map_err(failed)?;
        if !status.is_success() {
            // Only the start of the answer: enough to diagnose, never a whole echoed message.
            let detail: String = text.chars().take(200).collect();
            return Err(GatewayError::Status { status: status.as_u16(), detail });
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_come_from_the_usual_fields() {
        assert_eq!(reference(r#"{"reference":"BC-1"}"#), Some("BC-1".into()));
        assert_eq!(reference(r#"{"id":42}"#), Some("42".into()));
        assert_eq!(reference(r#"{"ma_bao_cao":" X "}"#), Some("X".into()));
        assert_eq!(reference("OK"), None);
        assert_eq!(reference(r#"{"id":""}"#), None);
    }
}
