//! The national procedure database (CSDL quốc gia về TTHC): `LayDanhSachTTHC` (paged list),
//! `LayThuTuc` (detail) and `LayDanhMucCoQuan` (agencies), mapped to neutral values
//! (domain.md §3.2).
//!
//! Mapping is strict where our rules need it (a code, a name, a known time unit) and lenient
//! elsewhere (numbers as strings, absent lists): an item that cannot be mapped is reported,
//! and the others still import.

use domain::calendar::{DurationUnit, ProcessingTime};
use domain::procedure::{Channel, OnlineLevel, ProcedureCode};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::adapter::{AdapterClient, AdapterError};

/// A fee of the national record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFee {
    pub code: Option<String>,
    /// VND.
    pub amount: i64,
    pub description: String,
}

/// A required document of the national record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogDocument {
    pub code: String,
    pub name: String,
    pub originals: i32,
    pub copies: i32,
    pub mandatory: bool,
    /// The form template's name and address, when the record has one.
    pub template: Option<(String, String)>,
}

/// A procedure as the national database describes it, in our terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogProcedure {
    pub code: ProcedureCode,
    /// The national root (`1.001193`).
    pub national_code: String,
    pub name: String,
    pub sector: String,
    pub field_code: String,
    pub field_name: String,
    pub online_level: OnlineLevel,
    pub channels: Vec<Channel>,
    pub processing_time: ProcessingTime,
    pub online_processing_time: Option<ProcessingTime>,
    pub fees: Vec<CatalogFee>,
    pub documents: Vec<CatalogDocument>,
    /// (code, name) of the result, when there is one.
    pub result: Option<(Option<String>, String)>,
    /// (number, title).
    pub legal_basis: Vec<(String, String)>,
    /// Agency identifier codes (`MADONVI`).
    pub agency_codes: Vec<String>,
    /// The record's version: `PHIENBAN` when given, else a digest of the record.
    pub source_version: String,
}

/// An agency of the national catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogAgency {
    pub code: String,
    pub name: String,
    pub level: Option<String>,
}

/// Why a record could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct MapError {
    pub field: String,
    pub reason: String,
}

fn map_error(field: &str, reason: impl Into<String>) -> MapError {
    MapError { field: field.to_owned(), reason: reason.into() }
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(value: &Value, key: &str) -> Option<f64> {
    match value.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(['.', ','], "").parse().ok(),
        _ => None,
    }
}

fn list<'a>(value: &'a Value, key: &str) -> Vec<&'a Value> {
    match value.get(key) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    }
}

#[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "bounded and rounded before the cast")]
fn to_u32(value: f64) -> Option<u32> {
    (value.is_finite() && (0.0..=1.0e7).contains(&value)).then(|| value.round() as u32)
}

/// `DONVITINH` → our unit: "Ngày làm việc", "Ngày", "Giờ".
fn unit_of(label: &str) -> Option<DurationUnit> {
    let folded = domain::text::fold(label);
    if folded.contains("gio") {
        Some(DurationUnit::WorkingHour)
    } else if folded.contains("lam viec") {
        Some(DurationUnit::WorkingDay)
    } else if folded.starts_with("ngay") {
        Some(DurationUnit::CalendarDay)
    } else {
        None
    }
}

fn channel_of(kenh: &str) -> Option<Channel> {
    match kenh.trim() {
        "1" => Some(Channel::Counter),
        "2" => Some(Channel::Online),
        "3" => Some(Channel::Postal),
        _ => None,
    }
}

/// Maps one `LayThuTuc` record.
///
/// # Errors
/// When a field our rules need is missing or malformed.
pub fn map_procedure(raw: &Value) -> Result<CatalogProcedure, MapError> {
    let code_text = text(raw, "MATTHC").ok_or_else(|| map_error("MATTHC", "missing"))?;
    let code = ProcedureCode::parse(&code_text, "MATTHC").map_err(|e| map_error("MATTHC", e.reason))?;
    let national_code = code_text.split('.').take(2).collect::<Vec<_>>().join(".");
    let name = text(raw, "TENTTHC").ok_or_else(|| map_error("TENTTHC", "missing"))?;
    let field = list(raw, "LINHVUCTHUCHIEN").into_iter().next().ok_or_else(|| map_error("LINHVUCTHUCHIEN", "missing"))?;
    let field_code = text(field, "MALINHVUC").ok_or_else(|| map_error("LINHVUCTHUCHIEN.MALINHVUC", "missing"))?;
    let field_name = text(field, "TENLINHVUC").unwrap_or_else(|| field_code.clone());
    let sector = text(raw, "TENNGANH").unwrap_or_else(|| field_name.clone());

    let mut channels = Vec::new();
    let mut by_channel: Vec<(Channel, ProcessingTime)> = Vec::new();
    let mut fees = Vec::new();
    for way in list(raw, "CACHTHUCTHUCHIEN") {
        let channel =
            text(way, "KENH").and_then(|k| channel_of(&k)).ok_or_else(|| map_error("CACHTHUCTHUCHIEN.KENH", "must be 1, 2 or 3"))?;
        if !channels.contains(&channel) {
            channels.push(channel);
        }
        for time in list(way, "THOIGIAN") {
            let value = number(time, "THOIGIANGIAIQUYET")
                .and_then(to_u32)
                .ok_or_else(|| map_error("THOIGIAN.THOIGIANGIAIQUYET", "not a number"))?;
            let unit_label = text(time, "DONVITINH").unwrap_or_else(|| "Ngày làm việc".to_owned());
            let unit = unit_of(&unit_label).ok_or_else(|| map_error("THOIGIAN.DONVITINH", format!("unknown unit `{unit_label}`")))?;
            let processing = ProcessingTime::new(value, unit).map_err(|e| map_error("THOIGIAN.THOIGIANGIAIQUYET", e.reason))?;
            by_channel.push((channel, processing));
            if fees.is_empty() {
                for fee in list(time, "PHILEPHI") {
                    let amount = number(fee, "SOTIEN").unwrap_or(0.0);
                    #[expect(clippy::cast_possible_truncation, reason = "rounded VND amounts")]
                    let amount = if amount.is_finite() && amount >= 0.0 { amount.round() as i64 } else { 0 };
                    fees.push(CatalogFee {
                        code: text(fee, "MAPHILEPHI"),
                        amount,
                        description: text(fee, "MOTA").unwrap_or_else(|| "Phí, lệ phí".to_owned()),
                    });
                }
            }
        }
    }
    let direct = by_channel.iter().find(|(c, _)| *c != Channel::Online).or(by_channel.first()).map(|(_, t)| *t);
    let processing_time = direct.ok_or_else(|| map_error("CACHTHUCTHUCHIEN.THOIGIAN", "no processing time"))?;
    let online_processing_time = by_channel.iter().find(|(c, _)| *c == Channel::Online).map(|(_, t)| *t).filter(|t| *t != processing_time);

    let online_level = match text(raw, "MUCDO") {
        Some(level) => OnlineLevel::parse_with_legacy(&level).map_err(|e| map_error("MUCDO", e.reason))?,
        None if channels.contains(&Channel::Online) => OnlineLevel::Partial,
        None => OnlineLevel::Info,
    };
    if online_level == OnlineLevel::Info {
        channels.retain(|c| *c != Channel::Online);
    }
    if channels.is_empty() {
        channels.push(Channel::Counter);
    }

    let mut documents = Vec::new();
    for group in list(raw, "THANHPHANHOSO") {
        let papers = if group.get("GIAYTO").is_some() { list(group, "GIAYTO") } else { vec![group] };
        for paper in papers {
            let Some(name) = text(paper, "TENGIAYTO") else { continue };
            let code = text(paper, "MAGIAYTO").unwrap_or_else(|| format!("GT{:02}", documents.len() + 1));
            let template = match (text(paper, "TENMAUDON"), text(paper, "URL")) {
                (Some(n), Some(u)) => Some((n, u)),
                (None, Some(u)) => Some((name.clone(), u)),
                _ => None,
            };
            documents.push(CatalogDocument {
                code,
                name,
                originals: number(paper, "SOBANCHINH").and_then(to_u32).and_then(|n| i32::try_from(n).ok()).unwrap_or(1),
                copies: number(paper, "SOBANSAO").and_then(to_u32).and_then(|n| i32::try_from(n).ok()).unwrap_or(0),
                mandatory: !matches!(text(paper, "BATBUOC").as_deref(), Some("0" | "false" | "False")),
                template,
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    documents.retain(|d| seen.insert(d.code.clone()));
    let result = list(raw, "KETQUATHUCHIEN").into_iter().find_map(|r| text(r, "TENKETQUA").map(|name| (text(r, "MAKETQUA"), name)));
    let legal_basis = list(raw, "CANCUPHAPLY")
        .into_iter()
        .filter_map(|l| {
            let number = text(l, "SOVANBAN")?;
            Some((number.clone(), text(l, "TENVANBAN").unwrap_or(number)))
        })
        .collect();
    let agency_codes = list(raw, "COQUANTHUCHIEN").into_iter().filter_map(|a| text(a, "MADONVI")).collect();
    let source_version = text(raw, "PHIENBAN").unwrap_or_else(|| {
        let bytes = serde_json::to_vec(raw).unwrap_or_default();
        hex::encode(&Sha256::digest(&bytes)[..8])
    });
    Ok(CatalogProcedure {
        code,
        national_code,
        name,
        sector,
        field_code,
        field_name,
        online_level,
        channels,
        processing_time,
        online_processing_time,
        fees,
        documents,
        result,
        legal_basis,
        agency_codes,
        source_version,
    })
}

/// The national catalogue, through the adapter.
pub struct CatalogClient {
    adapter: AdapterClient,
    page_size: u32,
}

impl CatalogClient {
    /// A client over `adapter`, listing `page_size` codes per request.
    pub fn new(adapter: AdapterClient, page_size: u32) -> Self {
        Self { adapter, page_size: page_size.max(1) }
    }

    /// Every procedure code of the province: `LayDanhSachTTHC`, page by page (`trang`,
    /// `sobanghi`) until a page comes back short.
    ///
    /// # Errors
    /// Adapter failures; a result that is not a list is a protocol error.
    pub async fn list_codes(&self) -> Result<Vec<String>, AdapterError> {
        let mut codes = Vec::new();
        for page in 1..=10_000_u32 {
            let mut params = Map::new();
            params.insert("trang".into(), json!(page));
            params.insert("sobanghi".into(), json!(self.page_size));
            let result = self.adapter.share("LayDanhSachTTHC", params).await?;
            let items = result.as_array().ok_or_else(|| AdapterError::Protocol("LayDanhSachTTHC: result is not a list".into()))?;
            codes.extend(items.iter().filter_map(|i| text(i, "MATTHC")));
            if items.len() < usize::try_from(self.page_size).unwrap_or(usize::MAX) {
                break;
            }
        }
        Ok(codes)
    }

    /// The raw `LayThuTuc` record of `code`.
    ///
    /// # Errors
    /// Adapter failures; an empty result is a protocol error.
    pub async fn fetch(&self, code: &str) -> Result<Value, AdapterError> {
        let mut params = Map::new();
        params.insert("maTTHC".into(), json!(code));
        let result = self.adapter.share("LayThuTuc", params).await?;
        let record = match result {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            record @ Value::Object(_) => record,
            _ => return Err(AdapterError::Protocol(format!("LayThuTuc {code}: no record"))),
        };
        Ok(record)
    }

    /// The agency catalogue (`LayDanhMucCoQuan`).
    ///
    /// # Errors
    /// Adapter failures.
    pub async fn agencies(&self) -> Result<Vec<CatalogAgency>, AdapterError> {
        let result = self.adapter.share("LayDanhMucCoQuan", Map::new()).await?;
        let items = result.as_array().ok_or_else(|| AdapterError::Protocol("LayDanhMucCoQuan: result is not a list".into()))?;
        Ok(items
            .iter()
            .filter_map(|i| {
                Some(CatalogAgency { code: text(i, "MADONVI")?, name: text(i, "TENDONVI").unwrap_or_default(), level: text(i, "CAPDONVI") })
            })
            .collect())
    }
}
