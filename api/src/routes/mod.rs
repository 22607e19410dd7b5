//! HTTP handlers, one module per area. Each handler carries its `#[utoipa::path]`, so the
//! router and the OpenAPI document are built from the same registrations (`crate::server`).

pub mod agencies;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod evaluations;
pub mod faqs;
pub mod feedback;
pub mod forms;
pub mod health;
pub mod integrations;
pub mod procedures;
pub mod reports;
pub mod sso;
pub mod statistics;
pub mod templates;
pub mod users;
pub mod views;

/// `201 Created` with a `Location` header and a JSON body.
pub fn created<T: serde::Serialize>(location: String, body: &T) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created().insert_header((actix_web::http::header::LOCATION, location)).json(body)
}

/// The `If-Match` header of a request, if any (read before moving work off the request).
pub fn if_match_header(req: &actix_web::HttpRequest) -> Option<String> {
    req.headers().get(actix_web::http::header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// 412 unless `expected` (an `If-Match` value) is absent, `*`, or lists `current`.
///
/// # Errors
/// `precondition_failed`.
pub fn check_if_match(expected: Option<&str>, current: &str) -> Result<(), crate::error::ApiError> {
    match expected {
        Some(tags) if tags.trim() != "*" && tags.split(',').all(|t| t.trim() != current) => {
            Err(crate::error::ApiError::precondition_failed())
        }
        _ => Ok(()),
    }
}

/// Whether the request's `If-None-Match` lists `current` (answer 304).
pub fn not_modified(req: &actix_web::HttpRequest, current: &str) -> bool {
    req.headers()
        .get(actix_web::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == current))
}
