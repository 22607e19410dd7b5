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
/// The slot comes with a connection of its own that every write uses: its page cache holds
/// the pages that each write changes (the last leaf of every index appended to), where a
/// connection taken from the pool would first read back from the WAL what the other
/// connections had written since it last ran.
#[derive(Clone)]
pub struct DbPool {
    pool: Pool,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
    writer: Option<Writer>,
}

/// The SQLite writer slot and its connection (a pool of one).
#[derive(Clone)]
struct Writer {
    slot: std::sync::Arc<tokio::sync::Semaphore>,
    connection: Pool,
}

impl DbPool {
    /// Wraps `pool`; `writer` is the one-connection pool of SQLite's writes (`None` on
    /// PostgreSQL, whose writers run side by side).
    pub fn new(pool: Pool, writer: Option<Pool>) -> Self {
        let permits = usize::try_from(pool.max_size()).unwrap_or(1).max(1);
        let writer = writer.map(|connection| Writer { slot: std::sync::Arc::new(tokio::sync::Semaphore::new(1)), connection });
        Self { pool, gate: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)), writer }
    }
}

impl DbPool {
    /// Runs background write work `f` (chainers, folders, schedulers) on the calling thread
    /// with a pooled connection, holding the SQLite writer slot meanwhile so that it does not
    /// collide with request writers inside SQLite's busy handler. `None` when no connection
    /// can be had.
    pub fn background<T>(&self, f: impl FnOnce(&mut AnyConnection) -> T) -> Option<T> {
        let Some(writer) = &self.writer else {
            let mut conn = self.pool.get().ok()?;
            return Some(f(&mut conn));
        };
        let _slot = loop {
            match writer.slot.clone().try_acquire_owned() {
                Ok(permit) => break permit,
                Err(tokio::sync::TryAcquireError::Closed) => return None,
                Err(tokio::sync::TryAcquireError::NoPermits) => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        };
        let mut conn = writer.connection.get().ok()?;
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
    on_blocking_thread(pool.pool.clone(), f).await
}

/// Runs `f` with a connection of `connections` on the blocking thread pool.
async fn on_blocking_thread<T, F>(connections: Pool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    web::block(move || {
        let mut conn = connections.get().map_err(persistence::RepoError::from)?;
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
    let Some(writer) = &pool.writer else { return run(pool, move |conn| persistence::write_tx(conn, f)).await };
    let _slot = writer.slot.acquire().await.map_err(ApiError::internal)?;
    on_blocking_thread(writer.connection.clone(), move |conn| persistence::write_tx(conn, f)).await
}
