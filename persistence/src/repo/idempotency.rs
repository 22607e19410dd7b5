//! Stored responses of `Idempotency-Key` requests, shared by every server instance.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::idempotency_keys;
use crate::{AnyConnection, ConflictKind, RepoError};

/// A response recorded for replay.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status_code: i32,
    /// JSON object of header name → value.
    pub headers: String,
    pub body: Vec<u8>,
}

/// What to do with a request that carries a key.
#[derive(Debug, Clone)]
pub enum Claim {
    /// First use: the caller runs the request and then calls [`complete`] or [`release`].
    Fresh,
    /// Same key, same request, finished: send this again.
    Replay(StoredResponse),
    /// Same key, different request.
    Mismatch,
    /// Same key, same request, still running elsewhere.
    InProgress,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    request_hash: String,
    status_code: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<Vec<u8>>,
    created_at: NaiveDateTime,
}

/// Claims `key` for `scope` (the caller's identity). Keys older than `expires_before` are
/// forgotten; an unfinished claim older than `stale_before` (its server died) is taken over.
pub fn claim(
    conn: &mut AnyConnection,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: NaiveDateTime,
    expires_before: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> Result<Claim, RepoError> {
    let result = crate::write_tx(conn, |conn| -> Result<Claim, RepoError> {
        let existing: Option<KeyRow> = idempotency_keys::table.find((scope, key)).select(KeyRow::as_select()).first(conn).optional()?;
        if let Some(row) = existing {
            let expired = row.created_at < expires_before;
            let stale = row.status_code.is_none() && row.created_at < stale_before;
            if !expired && !stale {
                if row.request_hash != request_hash {
                    return Ok(Claim::Mismatch);
                }
                return Ok(match (row.status_code, row.response_body) {
                    (Some(status_code), body) => Claim::Replay(StoredResponse {
                        status_code,
                        headers: row.response_headers.unwrap_or_default(),
                        body: body.unwrap_or_default(),
                    }),
                    (None, _) => Claim::InProgress,
                });
            }
            diesel::delete(idempotency_keys::table.find((scope, key))).execute(conn)?;
        }
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::scope.eq(scope),
                idempotency_keys::key.eq(key),
                idempotency_keys::request_hash.eq(request_hash),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(Claim::Fresh)
    });
    match result {
        // Another instance inserted the same key between our read and our insert.
        Err(RepoError::Conflict(ConflictKind::IdempotencyKeyInUse | ConflictKind::Other)) => Ok(Claim::InProgress),
        other => other,
    }
}

/// Records the response of a claimed key.
pub fn complete(conn: &mut AnyConnection, scope: &str, key: &str, response: &StoredResponse) -> Result<(), RepoError> {
    diesel::update(idempotency_keys::table.find((scope, key)))
        .set((
            idempotency_keys::status_code.eq(Some(response.status_code)),
            idempotency_keys::response_headers.eq(Some(&response.headers)),
            idempotency_keys::response_body.eq(Some(&response.body)),
            idempotency_keys::completed_at.eq(Some(crate::now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets a claimed key whose request failed on the server side, so that a retry runs again.
pub fn release(conn: &mut AnyConnection, scope: &str, key: &str) -> Result<(), RepoError> {
    diesel::delete(idempotency_keys::table.find((scope, key))).execute(conn)?;
    Ok(())
}

/// Deletes keys created before `before`; returns how many.
pub fn purge(conn: &mut AnyConnection, before: NaiveDateTime) -> Result<usize, RepoError> {
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before))).execute(conn)?)
}
