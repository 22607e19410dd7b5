//! The application state shared by every worker: the pool, configuration, keys and counters.
//! It is also the use cases' context (clock, settings, caches, integration targets).

use std::sync::Arc;

use persistence::Backend;

use crate::app::AppError;
use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;

/// Everything a handler may need, cloned cheaply per worker.
#[derive(Clone)]
pub struct AppState {
    /// Database connections.
    pub pool: crate::db::DbPool,
    /// Which engine the pool talks to.
    pub backend: Backend,
    /// Settings of this process.
    pub config: Arc<Config>,
    /// Token signing and verification keys.
    pub keys: Arc<JwtKeys>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Per-client request limits of the public endpoints.
    pub limiter: Arc<RateLimiter>,
    /// Procedure version and agency names.
    pub names: Arc<crate::names::Names>,
    /// Coalesced lookups (PostgreSQL only).
    pub lookup_batch: Option<Arc<crate::lookup_batch::LookupBatcher>>,
    /// Recent public lookup answers.
    pub lookups: Arc<crate::lookup_cache::LookupCache>,
    /// Uploaded files, by content hash, under the data directory.
    pub files: crate::files::FileStore,
    /// The national portal's authorization server (login through the portal), when configured.
    pub sso: Option<Arc<integrations::oidc::OidcClient>>,
    /// Clients of the systems the outbox delivers to.
    pub deliverers: crate::app::outbox::Deliverers,
    /// The states of this process's background threads (`/health/ready`, `/metrics`).
    pub background: Arc<crate::background::Health>,
    /// The generated default holidays (the overrides are read from the database per use).
    pub holidays: Arc<domain::calendar::DefaultHolidays>,
    /// Where the use cases read "now" (the system clock; a fixed one in tests).
    pub clock: Arc<dyn crate::app::clock::Clock>,
}

impl AppState {
    /// Counts one request of `client` in `bucket` against `limit` per `window` (see
    /// [`RateLimiter`]).
    ///
    /// # Errors
    /// `rate_limited` beyond the limit; database errors of shared counters.
    pub async fn limit(&self, bucket: &'static str, client: &str, limit: u32, window: std::time::Duration) -> Result<(), AppError> {
        self.limiter.check(&self.pool, self.clock.as_ref(), bucket, client, limit, window).await
    }

    /// The current instant at the stored precision (UTC), from [`AppState::clock`].
    pub fn now(&self) -> chrono::NaiveDateTime {
        crate::app::clock::stored(self.clock.now())
    }
}
