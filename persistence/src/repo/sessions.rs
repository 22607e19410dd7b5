//! Login sessions and their rotating refresh tokens.
//!
//! An access token names its session; the session row is what logout and disable revoke, so a
//! revoked token stops working at once although the JWT itself has not expired. Refresh tokens
//! are stored as SHA-256 digests and used once: presenting a used one revokes the whole session
//! (it was stolen or replayed).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::repo::users::UserRow;
use crate::schema::{refresh_tokens, sessions, users};
use crate::{AnyConnection, RepoError};

/// A stored session.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens, treat_none_as_default_value = false)]
struct RefreshRow {
    token_hash: String,
    session_id: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

/// Opens a session for `user_id` valid until `expires_at`, with a first refresh token when
/// `refresh_hash` is given (integration clients get none).
pub fn create(
    conn: &mut AnyConnection,
    user_id: &str,
    expires_at: NaiveDateTime,
    refresh_hash: Option<&str>,
) -> Result<SessionRow, RepoError> {
    let now = crate::now();
    let row = SessionRow { id: crate::new_id(), user_id: user_id.to_owned(), created_at: now, expires_at, revoked_at: None };
    diesel::insert_into(sessions::table).values(&row).execute(conn)?;
    if let Some(hash) = refresh_hash {
        insert_refresh(conn, &row.id, hash, expires_at)?;
    }
    Ok(row)
}

fn insert_refresh(conn: &mut AnyConnection, session_id: &str, hash: &str, expires_at: NaiveDateTime) -> Result<(), RepoError> {
    let row =
        RefreshRow { token_hash: hash.to_owned(), session_id: session_id.to_owned(), created_at: crate::now(), expires_at, used_at: None };
    diesel::insert_into(refresh_tokens::table).values(&row).execute(conn)?;
    Ok(())
}

/// The account behind a live session, or `None` when the session is revoked, expired or
/// unknown, with the materialised path of its agency. Callers also compare the account's
/// `token_version` and `active` flag.
pub fn authenticate(
    conn: &mut AnyConnection,
    session_id: &str,
    now: NaiveDateTime,
) -> Result<Option<(UserRow, Option<String>)>, RepoError> {
    use crate::schema::agencies;
    Ok(sessions::table
        .inner_join(users::table)
        .left_join(agencies::table.on(users::agency_id.eq(agencies::id.nullable())))
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((UserRow::as_select(), agencies::path.nullable()))
        .first(conn)
        .optional()?)
}

/// The outcome of presenting a refresh token.
pub enum Rotation {
    /// The token was valid; it is now used and `new_hash` replaces it.
    Rotated { user: Box<UserRow>, session_id: String },
    /// Unknown, expired, revoked or replayed (a replay revokes the session).
    Refused,
}

/// Uses the refresh token with digest `hash` and stores `new_hash` in its place. Must run in
/// [`crate::write_tx`].
pub fn rotate(conn: &mut AnyConnection, hash: &str, new_hash: &str, now: NaiveDateTime) -> Result<Rotation, RepoError> {
    let token: Option<RefreshRow> = match conn {
        AnyConnection::Postgresql(c) => {
            refresh_tokens::table.find(hash).select(RefreshRow::as_select()).for_update().first(c).optional()?
        }
        AnyConnection::Sqlite(c) => refresh_tokens::table.find(hash).select(RefreshRow::as_select()).first(c).optional()?,
    };
    let Some(token) = token else {
        return Ok(Rotation::Refused);
    };
    if token.used_at.is_some() {
        revoke(conn, &token.session_id, now)?;
        return Ok(Rotation::Refused);
    }
    if token.expires_at <= now {
        return Ok(Rotation::Refused);
    }
    let Some((user, _)) = authenticate(conn, &token.session_id, now)? else {
        return Ok(Rotation::Refused);
    };
    if !user.active {
        return Ok(Rotation::Refused);
    }
    diesel::update(refresh_tokens::table.find(hash)).set(refresh_tokens::used_at.eq(Some(now))).execute(conn)?;
    insert_refresh(conn, &token.session_id, new_hash, token.expires_at)?;
    Ok(Rotation::Rotated { user: Box::new(user), session_id: token.session_id })
}

/// Revokes one session.
pub fn revoke(conn: &mut AnyConnection, session_id: &str, now: NaiveDateTime) -> Result<(), RepoError> {
    diesel::update(sessions::table.find(session_id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}

/// Revokes every session of an account.
pub fn revoke_all(conn: &mut AnyConnection, user_id: &str, now: NaiveDateTime) -> Result<usize, RepoError> {
    Ok(diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(Some(now)))
        .execute(conn)?)
}
