//! The motcua HTTP API: actix-web application, authentication, OpenAPI and the command line.
//!
//! Architecture invariant: this is the only crate that knows HTTP. Handlers turn requests into
//! calls of `domain` rules and `persistence` repositories, run database work on the blocking
//! pool (`db::run`), and map every failure to one [`error::AppError`].
//!
//! Reading order: `server` (how the app is assembled), `middleware`, `error`, `auth`, `routes`.

pub mod app;
pub mod auditing;
pub mod auth;
pub mod background;
pub mod backup;
pub mod bootstrap;
pub mod config;
pub mod db;
pub mod demo_procedures;
pub mod error;
pub mod files;
pub mod http;
pub mod i18n;
pub mod input;
pub mod logging;
pub mod lookup_batch;
pub mod lookup_cache;
pub mod metrics;
pub mod middleware;
pub mod names;
pub mod openapi;
pub mod pagination;
pub mod pdf;
pub mod ratelimit;
pub mod routes;
pub mod seed;
pub mod server;
pub mod state;
pub mod uploads;
pub mod views;

/// The OpenAPI document as YAML, exactly as committed in `openapi.yaml`.
pub fn openapi_yaml() -> String {
    openapi::yaml_1_1_safe(&server::openapi().to_yaml().unwrap_or_default())
}
