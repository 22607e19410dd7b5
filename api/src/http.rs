//! HTTP helpers shared by the route modules: responses, conditional requests and the choice
//! of a representation. Route modules use these instead of each other.

use actix_web::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

/// `201 Created` with a `Location` header and a JSON body.
pub fn created<T: serde::Serialize>(location: String, body: &T) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created().insert_header((actix_web::http::header::LOCATION, location)).json(body)
}

/// The `If-Match` header of a request, if any (read before moving work off the request).
pub fn if_match_header(req: &actix_web::HttpRequest) -> Option<String> {
    req.headers().get(actix_web::http::header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Whether the request's `If-None-Match` lists `current` (answer 304).
pub fn not_modified(req: &actix_web::HttpRequest, current: &str) -> bool {
    req.headers()
        .get(actix_web::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == current))
}

/// Whether the caller asked for `short` (by `format`) or `media` (by `Accept`).
pub fn wants(req: &HttpRequest, format: Option<&str>, media: &str, short: &str) -> bool {
    if let Some(format) = format {
        return format == short;
    }
    req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains(media))
}

/// A CSV file to save, named `name`.csv.
pub fn csv_response(body: Vec<u8>, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")))
        .body(body)
}

/// A PDF shown inline, named `name`.pdf.
pub fn pdf_response(bytes: Vec<u8>, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/pdf"))
        .insert_header((CONTENT_DISPOSITION, format!("inline; filename=\"{name}.pdf\"")))
        .body(bytes)
}

/// How to answer: `format=json|pdf|csv` wins over `Accept`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` or `pdf` (forms); `json`, `csv` or `pdf` (the register). Default from `Accept`.
    pub format: Option<String>,
}

fn csv_escape(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// CSV for spreadsheets: UTF-8 with a byte-order mark, CRLF lines, formula-like cells defused.
pub fn to_csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str(&header.iter().map(|h| csv_escape(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|c| csv_escape(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}
