//! The application layer: the use cases of the platform as plain functions, called by the HTTP
//! handlers (`crate::routes`) and by the background jobs alike.
//!
//! Architecture invariant: nothing here imports actix-web, utoipa or validator, and nothing here
//! imports a route module (`make check-layers` fails otherwise). A use case takes a connection
//! (or the pool), the application context ([`crate::state::AppState`]: clock, settings, caches,
//! integration targets) and a typed command, and returns a typed result or an [`AppError`].
//! The rules of the regulation are `domain` functions that the use cases call.

pub mod accounts;
pub mod calendar;
pub mod cases;
pub mod clock;
pub mod error;
pub mod evaluations;
pub mod feedback;
pub mod jobs;
pub mod outbox;
pub mod procedures;
pub mod reports;
pub mod scope;

pub use error::AppError;

/// 412 unless `expected` (an `If-Match` value) is absent, `*`, or lists `current`.
///
/// # Errors
/// `precondition_failed`.
pub fn check_if_match(expected: Option<&str>, current: &str) -> Result<(), AppError> {
    match expected {
        Some(tags) if tags.trim() != "*" && tags.split(',').all(|t| t.trim() != current) => Err(AppError::precondition_failed()),
        _ => Ok(()),
    }
}
