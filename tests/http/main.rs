//! Black-box tests of the HTTP API over a real socket, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// One test per backend, so that a failure says which backend failed: `backend_test! { async fn
/// name(backend: Backend) { … } }` defines the scenario `name` and the tests `name::sqlite` and
/// `name::postgres`. The PostgreSQL one passes with a note when `TEST_PG_URL` is unset (as in
/// `make test-sqlite`); `make test` always sets it.
macro_rules! backend_test {
    ($(#[doc = $doc:literal])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        $(#[doc = $doc])*
        async fn $name($backend: crate::support::Backend) $body

        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::support::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if crate::support::postgres_configured() {
                    super::$name(crate::support::Backend::Postgres).await;
                } else {
                    eprintln!("skipped: TEST_PG_URL is unset");
                }
            }
        }
    };
}

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
mod hardening;
mod idempotency;
mod notifications;
mod objects;
mod outbox;
mod procedures;
mod processes;
mod reports;
mod snapshots;
mod sso;
mod statistics;
mod support;
mod templates;
mod types;
mod users;
