//! Black-box tests of the HTTP API over a real socket, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod auth;
mod calendar;
mod cases;
mod catalog_sync;
mod docs;
mod errors;
mod fake_portal;
mod feedback;
mod forms;
mod idempotency;
mod notifications;
mod outbox;
mod procedures;
mod processes;
mod reports;
mod sso;
mod statistics;
mod support;
mod templates;
mod users;
