//! Running synchronous diesel work off the async executor.

use actix_web::web;
use persistence::{AnyConnection, Pool};

use crate::error::ApiError;

/// The connection pool with a gate in front of it: at most as many requests enter the blocking
/// thread pool for database work as there are connections, the rest wait asynchronously.
/// Without it, a burst of requests starts one blocking thread each, and they all spin on the
/// pool's lock (measured: a third of the lookup throughput at 64 connections).
#[derive(Clone)]
pub struct DbPool {
    pool: Pool,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
}

impl DbPool {
    /// Wraps `pool`.
    pub fn new(pool: Pool) -> Self {
        let permits = usize::try_from(pool.max_size()).unwrap_or(1).max(1);
        Self { pool, gate: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)) }
    }
}

impl std::ops::Deref for DbPool {
    type Target = Pool;

    fn deref(&self) -> &Pool {
        &self.pool
    }
}

impl std::fmt::Debug for DbPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbPool").field("available_permits", &self.gate.available_permits()).finish_non_exhaustive()
    }
}

/// Runs `f` with a pooled connection on the blocking thread pool.
///
/// # Errors
/// Whatever `f` returns, `unavailable` when no connection can be had, `internal` when `f` panics.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let _permit = pool.gate.acquire().await.map_err(ApiError::internal)?;
    let pool = pool.pool.clone();
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
pub async fn write<T, F>(pool: &DbPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| persistence::write_tx(conn, f)).await
}
