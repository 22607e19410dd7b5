//! Running synchronous diesel work off the async executor.

use actix_web::web;
use persistence::{AnyConnection, Pool};

use crate::error::ApiError;

/// Runs `f` with a pooled connection on the blocking thread pool.
///
/// # Errors
/// Whatever `f` returns, `unavailable` when no connection can be had, `internal` when `f` panics.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(persistence::RepoError::from)?;
        f(&mut conn)
    })
    .await
    .map_err(ApiError::internal)?
}

/// Runs `f` in a write transaction (see [`persistence::write_tx`]) on the blocking pool.
///
/// # Errors
/// As [`run`]; the transaction is rolled back on any error.
pub async fn write<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| persistence::write_tx(conn, f)).await
}
