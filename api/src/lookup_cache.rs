//! A short-lived cache of public lookup answers (api.md §3.6).
//!
//! The public lookup is the most requested endpoint and its answer is the same for everyone, so
//! each instance keeps the rendered answer (found or not) for a few seconds. Changes made
//! through this instance drop the entry at once; other instances show them within the TTL.
//! Nothing here decides anything: it only repeats what the database said a moment ago.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::i18n::Lang;

/// At most this many entries: past it expired answers are dropped, and if that is not enough
/// the cache starts over (bounds memory under scans of random codes: about 25 MB).
const MAX_ENTRIES: usize = 50_000;

/// A rendered answer: status code and JSON body.
#[derive(Debug, Clone)]
pub struct Cached {
    pub status: u16,
    pub body: actix_web::web::Bytes,
}

/// The cache; a TTL of zero disables it.
#[derive(Debug)]
pub struct LookupCache {
    ttl: Duration,
    entries: RwLock<HashMap<(String, bool), (Instant, Cached)>>,
}

impl LookupCache {
    /// A cache keeping answers for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: RwLock::new(HashMap::new()) }
    }

    /// The fresh answer for `code` in `lang`, if any.
    pub fn get(&self, code: &str, lang: Lang) -> Option<Cached> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(&(code.to_owned(), lang == Lang::En)).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, cached)| cached.clone())
    }

    /// Keeps `answer` for `code` in `lang`.
    pub fn put(&self, code: &str, lang: Lang, answer: Cached) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.shrink_to(MAX_ENTRIES);
        }
        entries.insert((code.to_owned(), lang == Lang::En), (Instant::now(), answer));
    }

    /// Drops every answer for `code` (after a change through this instance).
    pub fn forget(&self, code: &str) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.remove(&(code.to_owned(), false));
        entries.remove(&(code.to_owned(), true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_expire_are_forgotten_and_a_zero_ttl_disables() {
        let cache = LookupCache::new(Duration::from_millis(50));
        let answer = Cached { status: 200, body: actix_web::web::Bytes::from_static(b"{}") };
        cache.put("c", Lang::Vi, answer.clone());
        assert!(cache.get("c", Lang::Vi).is_some());
        assert!(cache.get("c", Lang::En).is_none(), "per language");
        cache.forget("c");
        assert!(cache.get("c", Lang::Vi).is_none());
        cache.put("c", Lang::Vi, answer.clone());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("c", Lang::Vi).is_none(), "expired");
        let off = LookupCache::new(Duration::ZERO);
        off.put("c", Lang::Vi, answer);
        assert!(off.get("c", Lang::Vi).is_none());
    }
}
