//! Repositories: one module per aggregate, functions over `&mut AnyConnection`.

pub mod agencies;
pub mod audit;
pub mod calendar;
pub mod case_sequences;
pub mod cases;
pub mod evaluations;
pub mod faqs;
pub mod feedback;
pub mod idempotency;
pub mod jobs;
pub mod ledger;
pub mod limits;
pub mod outbox;
pub mod procedures;
pub mod reconciliation;
pub mod reports;
pub mod sessions;
pub mod sso;
pub mod stats;
pub mod templates;
pub mod users;
pub mod workflows;

/// A page of rows and the key to continue after the last one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows, at most the requested limit.
    pub items: Vec<T>,
    /// The id of the last row when more rows follow.
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows, using `key` for the continuation.
    pub fn from_overfetch(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next_after = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&key)
        } else {
            None
        };
        Page { items: rows, next_after }
    }
}
