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
