//! Fixed-window request limits per client address for the public endpoints.
//!
//! Limits are kept per process: behind a load balancer each instance allows its share, which
//! bounds abuse without a shared store. Account lockout, which must hold across instances, is
//! kept in the database instead (see `auth::login`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counters keyed by `bucket:client`.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
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
        let limiter = RateLimiter::default();
        let minute = Duration::from_secs(60);
        assert!(limiter.check("login", "a", 2, minute).is_ok());
        assert!(limiter.check("login", "a", 2, minute).is_ok());
        assert!(limiter.check("login", "a", 2, minute).is_err_and(|s| (1..=60).contains(&s)));
        assert!(limiter.check("login", "b", 2, minute).is_ok());
        assert!(limiter.check("lookup", "a", 2, minute).is_ok());
    }
}
