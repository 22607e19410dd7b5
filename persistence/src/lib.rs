//! motcua storage: the schema, repositories and transactions, on SQLite and PostgreSQL alike.
//!
//! Architecture invariant: this is the only crate that knows SQL. Repository functions are
//! synchronous, take `&mut AnyConnection` (so that a caller can compose several in one
//! transaction) and return [`RepoError`]; backend differences stay inside [`per_backend!`].

pub mod column;
pub mod db;
pub mod error;
pub mod files;
pub mod repo;
pub mod schema;
pub mod stored;
pub mod timestamp;

pub use db::{AnyConnection, Backend, Pool, PooledConn, build_pool, build_writer_pool, write_group, write_tx};
pub use error::{ConflictKind, RepoError};

/// The driver's error type, for callers of [`write_tx`] whose error type must absorb it.
pub use diesel::result::Error as DbError;

/// The current instant at the precision both backends store (microseconds), as stored (UTC).
pub fn now() -> chrono::NaiveDateTime {
    domain::time::to_storage_precision(chrono::Utc::now()).naive_utc()
}

/// A new time-ordered id (UUIDv7) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
