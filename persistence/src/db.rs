//! Connections, the pool, migrations and write transactions for both backends.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::migration::MigrationSource;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, MultiConnection, QueryableByName};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// One connection to either backend; repositories are written once against it.
#[derive(MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL, the production engine.
    Postgresql(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// The SQLite migrations, embedded in the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
/// The PostgreSQL migrations, embedded in the binary.
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// A pool of [`AnyConnection`]s.
pub type Pool = r2d2::Pool<AnyManager>;
/// A connection checked out of the pool.
pub type PooledConn = r2d2::PooledConnection<AnyManager>;

/// Which engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// Anything else: a file path, optionally prefixed `sqlite://`.
    Sqlite,
}

impl Backend {
    /// Chooses the backend for `url` and returns the URL the driver expects.
    pub fn detect(url: &str) -> (Backend, String) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            (Backend::Sqlite, path.to_owned())
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

impl AnyConnection {
    /// The backend of this connection.
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Postgresql(_) => Backend::Postgres,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Opens connections for the pool, reporting the real cause when one fails.
#[derive(Debug, Clone)]
pub struct AnyManager {
    backend: Backend,
    url: String,
}

impl AnyManager {
    /// A manager for `url` (see [`Backend::detect`]).
    pub fn new(url: &str) -> Self {
        let (backend, url) = Backend::detect(url);
        Self { backend, url }
    }
}

impl ManageConnection for AnyManager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        Ok(match self.backend {
            Backend::Postgres => AnyConnection::Postgresql(PgConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?),
            Backend::Sqlite => AnyConnection::Sqlite(SqliteConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?),
        })
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        use diesel::r2d2::R2D2Connection;
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// Per-connection settings: SQLite pragmas are not persistent, so each connection sets them.
#[derive(Debug)]
struct ConnSetup {
    /// The SQLite writer's connection ([`build_writer_pool`]).
    writer: bool,
}

impl CustomizeConnection<AnyConnection, r2d2::Error> for ConnSetup {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        match conn {
            // busy_timeout first: the other pragmas may already need the lock.
            AnyConnection::Sqlite(c) => c
                .batch_execute(concat!(
                    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; ",
                    // The server's checkpointer copies the WAL back long before this; a
                    // connection that commits checkpoints by itself only when it falls behind.
                    "PRAGMA wal_autocheckpoint = 10000;"
                ))
                .and_then(|()| {
                    // The writer runs each write of a group commit in a savepoint of its own
                    // ([`write_group`]), and SQLite keeps the pages a savepoint changes in a
                    // statement journal, which goes to a temporary file once it passes 64 KiB
                    // (one case's intake does): a write system call per page changed, about a
                    // fifth of the writer's time. In memory, it is a copy. The writer sorts
                    // nothing large (reads go through the other connections), so temporary
                    // tables in memory too are small.
                    if self.writer { c.batch_execute("PRAGMA temp_store = MEMORY") } else { Ok(()) }
                })
                .map_err(r2d2::Error::QueryError),
            AnyConnection::Postgresql(c) => c.batch_execute("SET TIME ZONE 'UTC'").map_err(r2d2::Error::QueryError),
        }
    }
}

/// Why the pool could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The database could not be opened.
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] r2d2::Error),
    /// A statement at start-up failed.
    #[error("cannot prepare the database: {0}")]
    Setup(#[from] diesel::result::Error),
    /// The migrations failed.
    #[error("migrations failed: {0}")]
    Migrations(String),
    /// The pool could not be created.
    #[error("cannot build the pool: {0}")]
    Pool(String),
}

/// Opens the database at `url`, switches SQLite to WAL, applies pending migrations when
/// `migrate` is set, and builds a pool of `max_size` connections.
pub fn build_pool(url: &str, max_size: u32, migrate: bool) -> Result<Pool, PoolError> {
    pool_of(url, max_size, migrate, false)
}

/// The connection of SQLite's single writer (a pool of one, without migrations): like
/// [`build_pool`]'s, with its statement journals and temporary tables in memory.
///
/// # Errors
/// See [`PoolError`].
pub fn build_writer_pool(url: &str) -> Result<Pool, PoolError> {
    pool_of(url, 1, false, true)
}

fn pool_of(url: &str, max_size: u32, migrate: bool, writer: bool) -> Result<Pool, PoolError> {
    let manager = AnyManager::new(url);
    if manager.backend == Backend::Sqlite
        && let Some(parent) = std::path::Path::new(&manager.url).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| PoolError::Pool(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut first = manager.connect()?;
    if let AnyConnection::Sqlite(c) = &mut first {
        // WAL is persistent in the file; set it once on a single connection (stack.md §3.5.1).
        c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")?;
    }
    if migrate {
        run_migrations(&mut first)?;
        // A migration (or a bulk load) may have left the case counters to be rebuilt.
        crate::repo::stats::ensure_built(&mut first).map_err(|e| PoolError::Pool(format!("case statistics: {e}")))?;
    }
    drop(first);
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(std::time::Duration::from_secs(10))
        // A broken connection is noticed by `has_broken` when it returns; pinging on every
        // checkout would add a round trip to every request.
        .test_on_check_out(false)
        .connection_customizer(Box::new(ConnSetup { writer }))
        .build(manager)
        .map_err(|e| PoolError::Pool(e.to_string()))
}

/// Applies every pending migration; returns how many ran.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, PoolError> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        AnyConnection::Postgresql(c) => {
            // Several instances may start at once: serialise their migrations.
            c.batch_execute("SELECT pg_advisory_lock(7262001)")?;
            let result = c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len());
            c.batch_execute("SELECT pg_advisory_unlock(7262001)")?;
            result
        }
    };
    applied.map_err(|e| PoolError::Migrations(e.to_string()))
}

/// Whether every embedded migration has been applied.
pub fn migrations_complete(conn: &mut AnyConnection) -> Result<bool, String> {
    let pending = match conn {
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => c.has_pending_migration(PG_MIGRATIONS),
    };
    pending.map(|p| !p).map_err(|e| e.to_string())
}

/// The version names of the embedded migrations of a backend, in order.
pub fn migration_versions(backend: Backend) -> Vec<String> {
    let source = match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => PG_MIGRATIONS,
    };
    let migrations = match MigrationSource::<diesel::sqlite::Sqlite>::migrations(&source) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    migrations.iter().map(|m| m.name().to_string()).collect()
}

/// Runs `f` in a write transaction.
///
/// On SQLite the outermost one starts with `BEGIN IMMEDIATE`, taking the write lock up front so
/// that a read-then-write never fails on lock upgrade (busy_timeout covers the wait). On
/// PostgreSQL it is a plain transaction; repositories that read-then-write lock their rows with
/// `FOR UPDATE`. Nested calls become savepoints.
pub fn write_tx<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let sqlite_outermost = match conn {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth().map_err(E::from)?.is_none()
        }
        AnyConnection::Postgresql(_) => false,
    };
    if !sqlite_outermost {
        return conn.transaction(f);
    }
    if let AnyConnection::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = f(conn);
    if let AnyConnection::Sqlite(c) = conn {
        match &result {
            Ok(_) => {
                if let Err(commit_error) = AnsiTransactionManager::commit_transaction(c) {
                    // A failed COMMIT leaves the transaction open on SQLite; close it.
                    let _ = AnsiTransactionManager::rollback_transaction(c);
                    return Err(E::from(commit_error));
                }
            }
            Err(_) => AnsiTransactionManager::rollback_transaction(c)?,
        }
    }
    result
}

#[derive(QueryableByName)]
struct CheckpointRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    checkpointed: i32,
}

/// SQLite: copies what the WAL holds back into the database file without waiting for readers
/// or the writer (`PRAGMA wal_checkpoint(PASSIVE)`), so that the writer's next transaction can
/// start the WAL over. Run off the writer's path, it keeps the copy and its two `fsync`s out of
/// the commits (a commit that checkpointed took 6–9 ms, against well under 1 ms). Returns the
/// frames in the WAL and how many of them are in the database file; `None` on PostgreSQL.
///
/// # Errors
/// Database errors.
pub fn checkpoint(conn: &mut AnyConnection) -> Result<Option<(i32, i32)>, diesel::result::Error> {
    let AnyConnection::Sqlite(c) = conn else { return Ok(None) };
    let row: CheckpointRow = diesel::RunQueryDsl::get_result(diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)"), c)?;
    Ok(Some((row.log, row.checkpointed)))
}

/// Group commit: runs `jobs` in one write transaction and commits once. Each job is to open a
/// savepoint of its own (a [`write_tx`] inside a transaction is one), so that a job that fails
/// undoes its own writes only; a job that panics has its savepoints rolled back here and the
/// others go on. Returns what each job that did not panic returned, in order, and the outcome
/// of the transaction: the jobs' writes are durable only when it is `Ok`.
///
/// On SQLite a commit writes every page the transaction changed to the WAL, and the pages that
/// every write changes (the last leaf of each table and index appended to) are written once
/// for all the jobs instead of once each.
///
/// A job alone runs outside any transaction here: its own [`write_tx`] is the transaction,
/// and its commit's outcome is in what it returns (the outcome returned here is then `Ok`); if
/// it panics, the panic reaches the caller and the connection is left in its transaction.
pub fn write_group<J, S>(conn: &mut AnyConnection, mut jobs: Vec<J>) -> (Vec<S>, Result<(), diesel::result::Error>)
where
    J: FnOnce(&mut AnyConnection) -> S,
{
    if jobs.len() == 1
        && let Some(job) = jobs.pop()
    {
        return (vec![job(conn)], Ok(()));
    }
    let mut settled = Vec::with_capacity(jobs.len());
    let outcome = write_tx(conn, |c| {
        let outer = transaction_depth(c)?;
        for job in jobs {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut *c))) {
                Ok(s) => settled.push(s),
                // The job's savepoints are still open (diesel closes them on return, not on
                // unwind): roll them back, which undoes its writes.
                Err(_) => {
                    while transaction_depth(c)? > outer {
                        crate::per_backend!(&mut *c, |c| AnsiTransactionManager::rollback_transaction(c))?;
                    }
                }
            }
        }
        Ok::<_, diesel::result::Error>(())
    });
    (settled, outcome)
}

/// How many transactions and savepoints are open on `conn`.
fn transaction_depth(conn: &mut AnyConnection) -> Result<u32, diesel::result::Error> {
    crate::per_backend!(conn, |c| AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth())
        .map(|d| d.map_or(0, std::num::NonZeroU32::get))
}

/// Two PostgreSQL writes sent as one statement, `WITH first AS (A) B`: a data-modifying
/// statement in `WITH` runs with the same snapshot as the main one, so two writes that do not
/// read each other's rows (a case and its pending counter cells, say) cost one round trip
/// instead of two. Kept prepared when both parts are; the two parts must not be `Chained`.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub struct Chained<A, B>(pub A, pub B);

impl<A, B> diesel::query_builder::QueryFragment<diesel::pg::Pg> for Chained<A, B>
where
    A: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
    B: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> diesel::QueryResult<()> {
        out.push_sql("WITH first AS (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(") ");
        self.1.walk_ast(out.reborrow())
    }
}

impl<A, B> diesel::RunQueryDsl<PgConnection> for Chained<A, B> {}

/// Compiles the same block once per concrete connection, for the few statements the
/// multi-backend type cannot express (`ON CONFLICT`, `FOR UPDATE`).
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// Inserts `rows` into `table`: one row (the common case) as a single-row insert, which the
/// connection keeps prepared (diesel prepares multi-row inserts anew each time), more as one
/// multi-row insert.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $rows {
            [row] => $crate::per_backend!($conn, |c| diesel::insert_into($table).values(row).execute(c)),
            rows => $crate::per_backend!($conn, |c| diesel::insert_into($table).values(rows).execute(c)),
        }
    };
}

/// Refreshes the planner's statistics (after a bulk load).
///
/// # Errors
/// Database errors.
pub fn analyze(conn: &mut AnyConnection) -> Result<(), diesel::result::Error> {
    per_backend!(conn, |c| c.batch_execute("ANALYZE"))
}

/// Writes a consistent copy of an SQLite database to `target` while others keep using it
/// (`VACUUM INTO` reads one snapshot). Not available on PostgreSQL (use `pg_dump`).
///
/// # Errors
/// On PostgreSQL, or when SQLite cannot write the copy.
pub fn sqlite_copy_to(conn: &mut AnyConnection, target: &std::path::Path) -> Result<(), diesel::result::Error> {
    let AnyConnection::Sqlite(c) = conn else {
        return Err(diesel::result::Error::QueryBuilderError("an online copy is an SQLite operation; use pg_dump on PostgreSQL".into()));
    };
    let quoted = target.to_string_lossy().replace('\'', "''");
    c.batch_execute(&format!("VACUUM INTO '{quoted}'"))
}

/// Runs a backend-specific statement for maintenance and tests.
pub fn execute_raw(conn: &mut AnyConnection, sql: &str) -> Result<(), diesel::result::Error> {
    conn.batch_execute(sql)
}
