//! Running synchronous diesel work off the async executor.

use actix_web::web;
use persistence::{AnyConnection, Pool};

use crate::error::AppError;

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
///
/// The writes are carried out by a thread of their own, which takes the slot for each group of
/// writes queued meanwhile and commits them together (group commit): up to a batch, each in a
/// savepoint of its own, in one transaction (see [`persistence::write_group`]); each caller is
/// answered after that commit. The thread goes from one group to the next without waiting on
/// the async runtime: when the slot went to the next waiting request's task instead, the writer
/// stood idle until an executor thread got round to that task and handed its group to a
/// blocking thread (measured: the slot held 84% of an intake run whose writes were always
/// queued). A commit writes every page it changed to the WAL: the pages that every write
/// changes (the last leaf of each table and index appended to) are written once per group
/// instead of once per write (measured: 20 writes a commit at 32 intake connections).
#[derive(Clone)]
pub struct DbPool {
    pool: Pool,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
    writer: Option<Writer>,
}

/// The SQLite writer slot, its connection (a pool of one) and the queue of the thread that
/// carries out the requests' writes ([`serve_writes`]; it ends when the last clone is dropped).
#[derive(Clone)]
struct Writer {
    slot: std::sync::Arc<tokio::sync::Semaphore>,
    connection: Pool,
    jobs: std::sync::mpsc::Sender<Job>,
    /// Writes and commits so far: their ratio is the mean group size.
    counts: std::sync::Arc<WriteCounts>,
}

/// The SQLite writer's work so far.
#[derive(Debug, Default)]
pub struct WriteCounts {
    /// Writes carried out (committed or rolled back).
    pub writes: std::sync::atomic::AtomicU64,
    /// Transactions they took.
    pub commits: std::sync::atomic::AtomicU64,
    /// Microseconds the writer slot was held (requests' groups and background work): the
    /// writer's occupancy. Near the elapsed time, the one writer is what limits writes.
    pub held_micros: std::sync::atomic::AtomicU64,
    /// Of those, microseconds spent in the writes and their commits (the rest is taking the
    /// writer's connection and answering the callers).
    pub working_micros: std::sync::atomic::AtomicU64,
}

impl WriteCounts {
    fn add(counter: &std::sync::atomic::AtomicU64, since: std::time::Instant) {
        let micros = u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
        counter.fetch_add(micros, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A queued write: runs its work on the writer's connection (in a savepoint when others share
/// the transaction) and returns what tells its caller once the transaction's outcome is known.
type Job = Box<dyn FnOnce(&mut AnyConnection) -> Settle + Send>;
/// Answers a write's caller with its result, given the outcome of the commit.
type Settle = Box<dyn FnOnce(&Result<(), AppError>) + Send>;

impl DbPool {
    /// Wraps `pool`; `writer` is the one-connection pool of SQLite's writes (`None` on
    /// PostgreSQL, whose writers run side by side), whose thread commits up to `write_batch`
    /// queued writes together.
    ///
    /// # Errors
    /// When the writer's thread cannot be started.
    pub fn new(pool: Pool, writer: Option<Pool>, write_batch: usize) -> std::io::Result<Self> {
        let permits = usize::try_from(pool.max_size()).unwrap_or(1).max(1);
        let writer = match writer {
            Some(connection) => {
                let (jobs, queue) = std::sync::mpsc::channel();
                let writer = Writer {
                    slot: std::sync::Arc::new(tokio::sync::Semaphore::new(1)),
                    connection,
                    jobs,
                    counts: std::sync::Arc::default(),
                };
                let (slot, connection, counts) = (writer.slot.clone(), writer.connection.clone(), writer.counts.clone());
                let batch = write_batch.max(1);
                std::thread::Builder::new()
                    .name("motcua-sqlite-writer".into())
                    .spawn(move || serve_writes(&queue, &slot, &connection, &counts, batch))?;
                Some(writer)
            }
            None => None,
        };
        Ok(Self { pool, gate: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)), writer })
    }
}

/// The SQLite writer's thread: takes the writes queued by then (up to `batch`) each time it
/// has the slot, and commits them together, until every sender is gone.
fn serve_writes(
    queue: &std::sync::mpsc::Receiver<Job>,
    slot: &tokio::sync::Semaphore,
    connection: &Pool,
    counts: &WriteCounts,
    batch: usize,
) {
    use std::sync::atomic::Ordering::Relaxed;
    while let Ok(first) = queue.recv() {
        // In turn with background work ([`DbPool::background`]), which waits on the same slot.
        let Ok(_slot) = wait_for(slot.acquire()) else { return };
        let held = std::time::Instant::now();
        let mut jobs = vec![first];
        jobs.extend(std::iter::from_fn(|| queue.try_recv().ok()).take(batch - 1));
        counts.writes.fetch_add(jobs.len() as u64, Relaxed);
        counts.commits.fetch_add(1, Relaxed);
        // A job that panics is rolled back alone (see [`persistence::write_group`]); anything
        // else that panics here drops the group's answers, which their callers see as an
        // error, and the thread goes on with the next group.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let working = std::time::Instant::now();
            let mut conn = match connection.get() {
                Ok(conn) => conn,
                Err(e) => {
                    log::error!("SQLite writes were not carried out: {e}");
                    return;
                }
            };
            let (settles, committed) = persistence::write_group(&mut conn, jobs);
            WriteCounts::add(&counts.working_micros, working);
            let committed = committed.map_err(AppError::from);
            for settle in settles {
                settle(&committed);
            }
        }));
        if ran.is_err() {
            log::error!("SQLite writes were not carried out: the writer panicked");
        }
        WriteCounts::add(&counts.held_micros, held);
    }
}

impl DbPool {
    /// The SQLite writer's writes and transactions so far (`None` on PostgreSQL).
    pub fn write_counts(&self) -> Option<&WriteCounts> {
        self.writer.as_ref().map(|w| &*w.counts)
    }

    /// Runs background write work `f` (chainers, folders, schedulers) on the calling thread,
    /// on SQLite with the writer's connection and holding its slot meanwhile, in turn with the
    /// writer's thread (on PostgreSQL with a pooled connection). `None` when no connection can
    /// be had.
    pub fn background<T>(&self, f: impl FnOnce(&mut AnyConnection) -> T) -> Option<T> {
        let Some(writer) = &self.writer else {
            let mut conn = self.pool.get().ok()?;
            return Some(f(&mut conn));
        };
        // In turn with the requests' writes: the slot is handed to the longest waiter, so a
        // thread that only took it when it happened to be free never got it under sustained
        // intake (measured: the outbox dispatcher delivered 1,500 of 15,700 messages written
        // during an 8 s intake run).
        let _slot = wait_for(writer.slot.acquire()).ok()?;
        let held = std::time::Instant::now();
        let mut conn = writer.connection.get().ok()?;
        let out = f(&mut conn);
        WriteCounts::add(&writer.counts.working_micros, held);
        WriteCounts::add(&writer.counts.held_micros, held);
        Some(out)
    }
}

/// Waits on the calling thread for `future` (a semaphore's, which needs no runtime), parking
/// the thread until it is woken.
fn wait_for<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
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
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let _permit = pool.gate.acquire().await.map_err(AppError::internal)?;
    let connections = pool.pool.clone();
    web::block(move || {
        let mut conn = connections.get().map_err(persistence::RepoError::from)?;
        f(&mut conn)
    })
    .await
    .map_err(AppError::internal)?
}

/// Runs a short read `f` at once on the calling thread when the database is SQLite and a
/// connection is free, else like [`run`]. An SQLite point read costs tens of microseconds,
/// less than handing it to the blocking pool and back (measured: 15k lookups/s through the
/// pool against the server's 99k/s for a health check); PostgreSQL waits on the network, so
/// it always goes through the pool.
///
/// # Errors
/// As [`run`].
pub async fn read<T, F>(pool: &DbPool, backend: persistence::Backend, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
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

/// Runs `f` in a write transaction (see [`persistence::write_tx`]): on SQLite on the writer's
/// thread, with the writes queued meanwhile; on PostgreSQL on the blocking pool.
///
/// # Errors
/// As [`run`]; the transaction is rolled back on any error.
pub async fn write<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let Some(writer) = &pool.writer else { return run(pool, move |conn| persistence::write_tx(conn, f)).await };
    let (answer, result) = tokio::sync::oneshot::channel::<Result<T, AppError>>();
    let job: Job = Box::new(move |conn| {
        if answer.is_closed() {
            // Its caller is gone (the request was dropped while queued): nothing is written
            // that nobody is told of.
            return Box::new(|_| ());
        }
        let result = persistence::write_tx(conn, f);
        Box::new(move |committed| {
            let _ = answer.send(match (result, committed) {
                (Ok(_), Err(e)) => Err(e.clone()),
                (result, _) => result,
            });
        })
    });
    // Sent to the writer's thread, which answers once the group the write went into committed.
    writer.jobs.send(job).map_err(|_| AppError::internal("the SQLite writer has stopped"))?;
    result.await.unwrap_or_else(|_| Err(AppError::internal("the write was not carried out")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool on a new SQLite database in a directory of its own (to remove), whose writer's
    /// thread commits up to `batch` writes together.
    fn sqlite_pool(batch: usize) -> (DbPool, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("motcua-db-{}", uuid::Uuid::new_v4().simple()));
        let url = dir.join("test.db").to_string_lossy().into_owned();
        let pool = DbPool::new(
            persistence::build_pool(&url, 4, true).expect("pool"),
            Some(persistence::build_writer_pool(&url).expect("writer")),
            batch,
        )
        .expect("writer thread");
        (pool, dir)
    }

    /// A background thread (a scheduler, say) gets the SQLite writer in its turn while
    /// requests keep it busy.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn background_work_gets_the_writer_under_sustained_writes() {
        let (pool, dir) = sqlite_pool(1);
        let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let mut writers = Vec::new();
        for _ in 0..8 {
            let (pool, running) = (pool.clone(), running.clone());
            writers.push(tokio::spawn(async move {
                while running.load(std::sync::atomic::Ordering::Relaxed) {
                    // Each write holds the writer a while: the slot always has waiters.
                    write(&pool, |_| {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        Ok(())
                    })
                    .await
                    .expect("write");
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let background = pool.clone();
        let waited = tokio::task::spawn_blocking(move || background.background(|_| ()).is_some());
        let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), waited).await;
        running.store(false, std::sync::atomic::Ordering::Relaxed);
        for writer in writers {
            writer.await.expect("writer task");
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(outcome.expect("the background work did not get the writer in 10 s").expect("thread"));
    }

    /// A write that panics is answered with an error and undone, and the writer's thread goes
    /// on with the next writes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_panics_leaves_the_writer_running() {
        let (pool, dir) = sqlite_pool(8);
        let sql = |statement: &'static str| {
            move |conn: &mut AnyConnection| match conn {
                AnyConnection::Sqlite(c) => diesel::connection::SimpleConnection::batch_execute(c, statement).map_err(AppError::internal),
                AnyConnection::Postgresql(_) => unreachable!("an SQLite test"),
            }
        };
        write(&pool, sql("CREATE TABLE t (n INTEGER)")).await.expect("create");
        let panicking = || {
            write(&pool, move |conn| -> Result<(), AppError> {
                sql("INSERT INTO t VALUES (1)")(conn)?;
                panic!("a bug in a write");
            })
        };
        // Alone in its group, then in a group with another write.
        assert!(panicking().await.is_err(), "the panicking write is answered with an error");
        let (panicked, after) = tokio::join!(panicking(), write(&pool, sql("INSERT INTO t VALUES (2)")));
        assert!(panicked.is_err(), "the panicking write is answered with an error");
        after.expect("a write beside it");
        write(&pool, sql("INSERT INTO t VALUES (3)")).await.expect("a later write");
        let rows: Vec<i32> = run(&pool, |conn| {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                n: i32,
            }
            let rows: Vec<Row> = match conn {
                AnyConnection::Sqlite(c) => diesel::sql_query("SELECT n FROM t ORDER BY n").load(c).map_err(AppError::internal)?,
                AnyConnection::Postgresql(_) => unreachable!("an SQLite test"),
            };
            Ok(rows.into_iter().map(|r| r.n).collect())
        })
        .await
        .expect("read");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(rows, vec![2, 3], "the panicking write's insert is undone, the others kept");
    }
}
