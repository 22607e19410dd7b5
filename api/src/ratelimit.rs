//! Fixed-window request limits per client address (login, registration, anonymous feedback, the
//! public lookup and lists).
//!
//! On PostgreSQL, where several instances serve behind a proxy, the counters are rows of the
//! unlogged `rate_limits` table, counted in one statement per request, so that a limit holds for
//! the whole group. SQLite deployments are one process and count in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::app::AppError;
use crate::app::clock::Clock;
use crate::db::DbPool;

/// Where the counters live.
#[derive(Debug)]
pub enum RateLimiter {
    /// In this process (one instance).
    Local(LocalCounters),
    /// In the database, shared by every instance.
    Shared,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::Local(LocalCounters::default())
    }
}

impl RateLimiter {
    /// Counts one request of `client` in `bucket`, allowing `limit` per `window`.
    ///
    /// # Errors
    /// `rate_limited` with the seconds until the window ends when the limit is exceeded; database
    /// errors of the shared counters.
    pub async fn check(
        &self,
        pool: &DbPool,
        clock: &dyn Clock,
        bucket: &'static str,
        client: &str,
        limit: u32,
        window: Duration,
    ) -> Result<(), AppError> {
        match self {
            RateLimiter::Local(counters) => counters.check(bucket, client, limit, window).map_err(AppError::rate_limited),
            RateLimiter::Shared => {
                let now = crate::app::clock::stored(clock.now());
                let span = chrono::TimeDelta::from_std(window).unwrap_or(chrono::TimeDelta::MAX);
                let client = client.to_owned();
                let (hits, started) =
                    crate::db::run(pool, move |conn| Ok(persistence::repo::limits::count_hit(conn, bucket, &client, now, now - span)?))
                        .await?;
                if u32::try_from(hits).unwrap_or(u32::MAX) > limit {
                    let left = (started + span - now).num_seconds();
                    return Err(AppError::rate_limited(u64::try_from(left).unwrap_or(1).max(1)));
                }
                Ok(())
            }
        }
    }
}

/// Counters keyed by `bucket:client`, in this process.
#[derive(Debug, Default)]
pub struct LocalCounters {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LocalCounters {
    /// Counts one request of `client` in `bucket`, allowing `limit` per `window`.
    ///
    /// # Errors
    /// The seconds until the window ends when the limit is exceeded.
    pub fn check(&self, bucket: &str, client: &str, limit: u32, window: Duration) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = windows.entry(format!("{bucket}:{client}")).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            let left = window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_per_client_and_bucket() {
        let limiter = LocalCounters::default();
        let minute = Duration::from_secs(60);
        assert!(limiter.check("login", "a", 2, minute).is_ok());
        assert!(limiter.check("login", "a", 2, minute).is_ok());
        assert!(limiter.check("login", "a", 2, minute).is_err_and(|s| (1..=60).contains(&s)));
        assert!(limiter.check("login", "b", 2, minute).is_ok());
        assert!(limiter.check("lookup", "a", 2, minute).is_ok());
    }
}
