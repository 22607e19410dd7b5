//! HTTP handlers, one module per area. Each handler carries its `#[utoipa::path]`, so the
//! router and the OpenAPI document are built from the same registrations (`crate::server`).

pub mod agencies;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod faqs;
pub mod health;
pub mod integrations;
pub mod procedures;
pub mod templates;
pub mod users;
pub mod views;

/// `201 Created` with a `Location` header and a JSON body.
pub fn created<T: serde::Serialize>(location: String, body: &T) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created().insert_header((actix_web::http::header::LOCATION, location)).json(body)
}
