//! Limits that hold across instances: request counters per fixed window, and failed logins per
//! user name and client address.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use crate::schema::{login_failures, rate_limits};
use crate::{AnyConnection, RepoError};

/// A name or address as its column keeps it (`VARCHAR(128)`): longer ones are cut, alike on
/// every read and write.
fn key(text: &str) -> String {
    text.chars().take(128).collect()
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = Integer)]
    hits: i32,
    #[diesel(sql_type = Timestamp)]
    window_start: NaiveDateTime,
}

/// Counts one request of `client` in `bucket` at `now`, in one statement: a window that started
/// at or before `expired_at` starts again at `now`. Returns the requests counted in the current
/// window (this one included) and when the window started.
///
/// # Errors
/// Database errors.
pub fn count_hit(
    conn: &mut AnyConnection,
    bucket: &str,
    client: &str,
    now: NaiveDateTime,
    expired_at: NaiveDateTime,
) -> Result<(i32, NaiveDateTime), RepoError> {
    const UPSERT: &str = "INSERT INTO rate_limits (bucket, client, window_start, hits) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (bucket, client) DO UPDATE SET \
         hits = CASE WHEN rate_limits.window_start <= $4 THEN 1 ELSE rate_limits.hits + 1 END, \
         window_start = CASE WHEN rate_limits.window_start <= $4 THEN $3 ELSE rate_limits.window_start END \
         RETURNING hits, window_start";
    let client = key(client);
    let hit: Hit = crate::per_backend!(conn, |c| diesel::sql_query(UPSERT)
        .bind::<Text, _>(bucket)
        .bind::<Text, _>(&client)
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(expired_at)
        .get_result(c))?;
    Ok((hit.hits, hit.window_start))
}

/// Forgets windows that started before `before`.
///
/// # Errors
/// Database errors.
pub fn purge_hits(conn: &mut AnyConnection, before: NaiveDateTime) -> Result<usize, RepoError> {
    Ok(diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(before))).execute(conn)?)
}

/// Until when `username` may not log in from `client`, if it is locked at `now`.
///
/// # Errors
/// Database errors.
pub fn locked_until(
    conn: &mut AnyConnection,
    username: &str,
    client: &str,
    now: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, RepoError> {
    let (username, client) = (key(username), key(client));
    let until: Option<Option<NaiveDateTime>> =
        login_failures::table.find((&username, &client)).select(login_failures::locked_until).first(conn).optional()?;
    Ok(until.flatten().filter(|u| *u > now))
}

/// Records a failed login of `username` from `client` at `now` (call in a write transaction),
/// counted by [`domain::lockout::after_failure`]. Returns the lock, if this failure set one.
///
/// # Errors
/// Database errors.
pub fn record_failure(
    conn: &mut AnyConnection,
    username: &str,
    client: &str,
    now: NaiveDateTime,
    forget_before: NaiveDateTime,
    threshold: i32,
    lock_until: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, RepoError> {
    use login_failures::dsl as f;
    let (username, client) = (key(username), key(client));
    let (username, client) = (username.as_str(), client.as_str());
    let previous: Option<(i32, NaiveDateTime)> =
        f::login_failures.find((username, client)).select((f::failures, f::last_failure_at)).first(conn).optional()?;
    let (failures, locked) = domain::lockout::after_failure(previous, forget_before, threshold, lock_until);
    let row =
        (f::username.eq(username), f::client.eq(client), f::failures.eq(failures), f::last_failure_at.eq(now), f::locked_until.eq(locked));
    crate::per_backend!(conn, |c| diesel::insert_into(f::login_failures)
        .values(row)
        .on_conflict((f::username, f::client))
        .do_update()
        .set((f::failures.eq(failures), f::last_failure_at.eq(now), f::locked_until.eq(locked)))
        .execute(c))?;
    Ok(locked)
}

/// Forgets the failures of `username` from `client` (after a successful login).
///
/// # Errors
/// Database errors.
pub fn clear_failures(conn: &mut AnyConnection, username: &str, client: &str) -> Result<(), RepoError> {
    diesel::delete(login_failures::table.find((key(username), key(client)))).execute(conn)?;
    Ok(())
}

/// Forgets failures and locks that ended before `before`.
///
/// # Errors
/// Database errors.
pub fn purge_failures(conn: &mut AnyConnection, before: NaiveDateTime) -> Result<usize, RepoError> {
    Ok(diesel::delete(
        login_failures::table
            .filter(login_failures::last_failure_at.lt(before))
            .filter(login_failures::locked_until.is_null().or(login_failures::locked_until.lt(before))),
    )
    .execute(conn)?)
}
