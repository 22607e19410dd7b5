//! Keyset pagination: `?limit=` (1–100, default 20) and an opaque `?cursor=`.

use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;

/// The paging parameters shared by every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The validated limit and the decoded position.
    ///
    /// # Errors
    /// `validation_failed` for a limit out of range or a cursor this server did not issue.
    pub fn resolve(&self) -> Result<(i64, Option<String>), AppError> {
        let limit = self.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(AppError::invalid("limit", "must be between 1 and 100"));
        }
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| AppError::invalid("cursor", "is not a cursor issued by this API"))?),
        };
        Ok((limit, after))
    }
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("k1:").map(str::to_owned)
}

/// Wraps a continuation key into an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("k1:{key}"))
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Paged<T> {
    /// Converts a repository page.
    pub fn from_page<R>(page: persistence::repo::Page<R>, convert: impl FnMut(R) -> T) -> Self {
        Paged { items: page.items.into_iter().map(convert).collect(), next_cursor: page.next_after.as_deref().map(encode_cursor) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let cursor = encode_cursor("0190-abc");
        let query = PageQuery { limit: Some(5), cursor: Some(cursor) };
        assert_eq!(query.resolve().ok(), Some((5, Some("0190-abc".to_owned()))));
        let forged = PageQuery { limit: None, cursor: Some("abc".into()) };
        assert!(forged.resolve().is_err());
        assert!(PageQuery { limit: Some(101), cursor: None }.resolve().is_err());
        assert!(PageQuery { limit: Some(0), cursor: None }.resolve().is_err());
    }
}
