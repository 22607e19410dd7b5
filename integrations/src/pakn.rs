//! The national feedback (PAKN) system (domain.md §11.2–11.3): local feedback and its answers
//! are pushed; feedback the national system assigned to the province is pulled.
//!
//! Wire names follow the PAKN entity of domain.md §11.3 (`TieuDe`, `NoiDung`, `HoTen`,
//! `SoDienThoai`, `Email`, `DiaChi`, `NgayGui`, `TrangThai`, `NoiDungTraLoi`, `CongKhai`) plus
//! `MaPAKN` (our code) and `MaPAKNQuocGia` (the national id); dates are `yyyyMMddHHmmss` in
//! Vietnam time. Push: `POST {base}{push_path}` with one item. Pull: `GET {base}{pull_path}`
//! answering a JSON array (or `{"data": [...]}`) of assigned items.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::gateway::{GatewayError, JsonGateway};
use crate::national::portal::portal_date;

/// A feedback item as we push it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackSnapshot {
    pub code: String,
    /// The national id, when the item came from the national system.
    pub external_id: Option<String>,
    pub title: String,
    pub content: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub submitted_at: DateTime<Utc>,
    /// Our status (`received`, …, `answered`, `published`).
    pub status: String,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub agency_name: String,
}

/// The national document of a snapshot.
pub fn to_national(item: &FeedbackSnapshot) -> Value {
    json!({
        "MaPAKN": item.code,
        "MaPAKNQuocGia": item.external_id,
        "TieuDe": item.title,
        "NoiDung": item.content,
        "HoTen": item.full_name,
        "SoDienThoai": item.phone.clone().unwrap_or_default(),
        "Email": item.email.clone().unwrap_or_default(),
        "DiaChi": item.address.clone().unwrap_or_default(),
        "NgayGui": portal_date(item.submitted_at),
        "TrangThai": item.status,
        "NoiDungTraLoi": item.answer.clone().unwrap_or_default(),
        "NgayTraLoi": item.answered_at.map(portal_date).unwrap_or_default(),
        "CongKhai": item.status == "published",
        "DonViXuLy": item.agency_name,
    })
}

/// An item assigned to the province on the national system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedFeedback {
    /// The national id (idempotency key).
    pub external_id: String,
    pub title: String,
    pub content: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// The agency code it is assigned to, when given (`MaDonVi`).
    pub agency_code: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
}

fn field(item: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| match item.get(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y%m%d%H%M%S").ok()?;
    domain::time::VN.from_local_datetime(&naive).single().map(|d| d.with_timezone(&Utc))
}

/// Reads one assigned item; `None` when it lacks an id, a title or a content.
pub fn assigned(item: &Value) -> Option<AssignedFeedback> {
    Some(AssignedFeedback {
        external_id: field(item, &["MaPAKNQuocGia", "Id", "id"])?,
        title: field(item, &["TieuDe", "title"])?,
        content: field(item, &["NoiDung", "content"])?,
        full_name: field(item, &["HoTen", "full_name"]).unwrap_or_default(),
        phone: field(item, &["SoDienThoai", "phone"]),
        email: field(item, &["Email", "email"]),
        address: field(item, &["DiaChi", "address"]),
        agency_code: field(item, &["MaDonVi", "agency_code"]),
        submitted_at: field(item, &["NgayGui"]).as_deref().and_then(parse_date),
    })
}

/// The national PAKN system.
pub struct PaknClient {
    push: JsonGateway,
    pull: JsonGateway,
}

impl PaknClient {
    /// A client of the system at `base` (push to `push_path`, pull from `pull_path`).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: &str, push_path: &str, pull_path: &str, token: Option<String>, timeout: Duration) -> Result<Self, GatewayError> {
        let base = base.trim_end_matches('/');
        Ok(Self {
            push: JsonGateway::new(&format!("{base}{push_path}"), token.clone(), timeout)?,
            pull: JsonGateway::new(&format!("{base}{pull_path}"), token, timeout)?,
        })
    }

    /// Pushes one item; returns the national reference when given.
    ///
    /// # Errors
    /// See [`GatewayError`].
    pub async fn push(&self, item: &FeedbackSnapshot) -> Result<Option<String>, GatewayError> {
        self.push.post(&to_national(item)).await
    }

    /// The items assigned to the province (those lacking an id, title or content are skipped).
    ///
    /// # Errors
    /// See [`GatewayError`]; an answer that is not a list is a `Status` error with 200.
    pub async fn pull(&self) -> Result<Vec<AssignedFeedback>, GatewayError> {
        let body = self.pull.get().await?;
        let items = match &body {
            Value::Array(items) => items.clone(),
            Value::Object(_) => body.get("data").and_then(Value::as_array).cloned().unwrap_or_default(),
            _ => return Err(GatewayError::Status { status: 200, detail: "not a list".into() }),
        };
        Ok(items.iter().filter_map(assigned).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_items_need_an_id_a_title_and_a_content() {
        let item = json!({"MaPAKNQuocGia": "QG-1", "TieuDe": "Đường hỏng", "NoiDung": "…", "HoTen": "A", "NgayGui": "20261128080000"});
        let read = assigned(&item).unwrap_or_else(|| panic!("readable"));
        assert_eq!(read.external_id, "QG-1");
        assert_eq!(read.submitted_at.map(|d| d.to_rfc3339()), Some("2026-11-28T01:00:00+00:00".into()));
        assert_eq!(assigned(&json!({"TieuDe": "x", "NoiDung": "y"})), None);
        let pushed =
            to_national(&FeedbackSnapshot { code: "PAKN-261128-0001".into(), status: "published".into(), ..FeedbackSnapshot::default() });
        assert_eq!((pushed["MaPAKN"].as_str(), pushed["CongKhai"].as_bool()), (Some("PAKN-261128-0001"), Some(true)));
    }
}
