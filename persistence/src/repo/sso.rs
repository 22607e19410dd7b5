//! Logins through the national portal in progress: each `state` is stored as a digest with its
//! nonce and used at most once, by whichever instance receives the callback.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::sso_states;
use crate::{AnyConnection, RepoError};

/// Remembers a login started now, valid until `expires_at` (and forgets long-expired ones).
///
/// # Errors
/// Database errors.
pub fn start(
    conn: &mut AnyConnection,
    state_hash: &str,
    nonce: &str,
    return_to: Option<&str>,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), RepoError> {
    crate::db::write_tx(conn, |conn| {
        diesel::delete(sso_states::table.filter(sso_states::expires_at.lt(now - chrono::TimeDelta::days(1)))).execute(conn)?;
        diesel::insert_into(sso_states::table)
            .values((
                sso_states::state_hash.eq(state_hash),
                sso_states::nonce.eq(nonce),
                sso_states::return_to.eq(return_to),
                sso_states::created_at.eq(now),
                sso_states::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Uses a state: its nonce and return address when it exists, has not expired and was not
/// used before; `None` otherwise (a forged, expired or replayed callback).
///
/// # Errors
/// Database errors.
pub fn consume(conn: &mut AnyConnection, state_hash: &str, now: NaiveDateTime) -> Result<Option<(String, Option<String>)>, RepoError> {
    crate::db::write_tx(conn, |conn| {
        let used = diesel::update(
            sso_states::table
                .filter(sso_states::state_hash.eq(state_hash))
                .filter(sso_states::used_at.is_null())
                .filter(sso_states::expires_at.gt(now)),
        )
        .set(sso_states::used_at.eq(Some(now)))
        .execute(conn)?;
        if used != 1 {
            return Ok(None);
        }
        Ok(sso_states::table
            .filter(sso_states::state_hash.eq(state_hash))
            .select((sso_states::nonce, sso_states::return_to))
            .first(conn)
            .optional()?)
    })
}
