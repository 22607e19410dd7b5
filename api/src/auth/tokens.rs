//! Sessions' tokens and password checks, shared by the login routes and the portal login.

use std::time::Duration;

use chrono::TimeDelta;

use crate::app::AppError;
use crate::auth::password;
use crate::state::AppState;
use crate::views::TokenResponse;

/// The stored digest of a refresh token.
pub fn refresh_digest(token: &str) -> String {
    domain::audit::digest(token.as_bytes())
}

/// A configured lifetime as a time span (an hour when out of range).
pub fn ttl_delta(ttl: Duration) -> TimeDelta {
    TimeDelta::from_std(ttl).unwrap_or(TimeDelta::hours(1))
}

/// A signed access token for the session, with `refresh` beside it.
///
/// # Errors
/// Signing failures.
pub fn token_pair(
    state: &AppState,
    user_id: &str,
    role: &str,
    tv: i64,
    session_id: &str,
    refresh: Option<String>,
) -> Result<TokenResponse, AppError> {
    let ttl = state.config.access_token_ttl.as_secs();
    let access_token = state.keys.issue(user_id, session_id, role, tv, ttl).map_err(AppError::internal)?;
    Ok(TokenResponse { access_token, token_type: "Bearer".to_owned(), expires_in: ttl, refresh_token: refresh, scope: None })
}

/// Checks a password against a stored hash on the password threads (a dummy hash when the
/// account is unknown, so that both take the same time).
///
/// # Errors
/// The password threads are gone.
pub async fn verify_password(password: String, phc: Option<String>) -> Result<bool, AppError> {
    password::off_thread(move || match phc {
        Some(phc) => password::verify(&password, &phc),
        None => {
            password::verify_dummy(&password);
            false
        }
    })
    .await
    .map_err(AppError::internal)
}

/// Hashes a password on the password threads.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    password::off_thread(move || password::hash(&password)).await.map_err(AppError::internal)?.map_err(AppError::internal)
}
