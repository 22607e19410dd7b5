//! Running synchronous diesel work off the async executor.

use actix_web::web;
use persistence::{AnyConnection, Pool};

use crate::error::ApiError;

/// The connection pool with a gate in front of it: at most as many requests enter the blocking
/// thread pool for database work as there are connections, the rest wait asynchronously.
/// Without it, a burst of requests starts one blocking thread each, and they all spin on the
/// pool's lock (measured: a third of the lookup throughput at 64 connections).
///
/// On SQLite, write transactions also queue for a single in-process writer slot: SQLite admits
/// one writer at a time anyway, and writers that collide inside SQLite wait in its busy handler,
/// which sleeps in growing steps (measured: intake at a third of its rate under 32 writers).
#[derive(Clone)]
pub struct DbPool {
    pool: Pool,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
    writer: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

impl DbPool {
    /// Wraps `pool` of a database on `backend`.
    pub fn new(pool: Pool, backend: persistence::Backend) -> Self {
        let permits = usize::try_from(pool.max_size()).unwrap_or(1).max(1);
        let writer = (backend == persistence::Backend::Sqlite).then(|| std::sync::Arc::new(tokio::sync::Semaphore::new(1)));
        Self { pool, gate: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)), writer }
    }
}

impl DbPool {
    /// Runs background write work `f` (chainers, folders, schedulers) on the calling thread
    /// with a pooled connection, holding the SQLite writer slot meanwhile so that it does not
    /// collide with request writers inside SQLite's busy handler. `None` when no connection
    /// can be had.
    pub fn background<T>(&self, f: impl FnOnce(&mut AnyConnection) -> T) -> Option<T> {
        let _slot = match &self.writer {
            Some(writer) => loop {
                match writer.clone().try_acquire_owned() {
                    Ok(permit) => break Some(permit),
                    Err(tokio::sync::TryAcquireError::Closed) => return None,
                    Err(tokio::sync::TryAcquireError::NoPermits) => std::thread::sleep(std::time::Duration::from_millis(1)),
                }
            },
            None => None,
        };
        let mut conn = self.pool.get().ok()?;
        Some(f(&mut conn))
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

/// Runs a short read `f` at once on the calling thread when the database is SQLite and a
/// connection is free, else like [`run`]. An SQLite point read costs tens of microseconds,
/// less than handing it to the blocking pool and back (measured: 15k lookups/s through the
/// pool against the server's 99k/s for a health check); PostgreSQL waits on the network, so
/// it always goes through the pool.
///
/// # Errors
/// As [`run`].
pub async fn read<T, F>(pool: &DbPool, backend: persistence::Backend, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    if backend == persistence::Backend::Sqlite
        && let Ok(_permit) = pool.gate.try_acquire()
        && let Some(mut conn) = pool.pool.try_get()
    {
        return f(&mut conn);
    }
    run(pool, f).await
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
    let _writer = match &pool.writer {
        Some(writer) => Some(writer.acquire().await.map_err(ApiError::internal)?),
        None => None,
    };
    run(pool, move |conn| persistence::write_tx(conn, f)).await
}
