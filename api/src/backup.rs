//! `motcua backup` and `motcua restore`.
//!
//! SQLite: `VACUUM INTO` writes a consistent copy while the server keeps running (it reads one
//! snapshot). Restore replaces the database file and must run while the server is stopped.
//! PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean`, which must be on the PATH
//! (Debian package `postgresql-client`).

use std::path::Path;
use std::process::Command;

use persistence::{AnyConnection, Backend};

/// Writes a consistent copy of the database at `url` to `target`, which must not exist.
///
/// # Errors
/// A message saying what failed.
pub fn backup(url: &str, target: &Path) -> Result<(), String> {
    if target.exists() {
        return Err(format!("{} already exists", target.display()));
    }
    match Backend::detect(url) {
        (Backend::Sqlite, _) => {
            let pool = persistence::build_pool(url, 1, false).map_err(|e| e.to_string())?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            persistence::db::sqlite_copy_to(&mut conn, target).map_err(|e| e.to_string())
        }
        (Backend::Postgres, url) => run(Command::new("pg_dump").args(["--format=custom", "--no-owner", "--file"]).arg(target).arg(&url)),
    }
}

/// Replaces the database at `url` with the backup `source`. Stop the server first.
///
/// # Errors
/// A message saying what failed.
pub fn restore(url: &str, source: &Path) -> Result<(), String> {
    if !source.is_file() {
        return Err(format!("{} is not a file", source.display()));
    }
    match Backend::detect(url) {
        (Backend::Sqlite, path) => {
            // Check that the backup opens and holds our schema before replacing anything.
            {
                let pool = persistence::build_pool(&source.to_string_lossy(), 1, false).map_err(|e| e.to_string())?;
                let mut conn: persistence::PooledConn = pool.get().map_err(|e| e.to_string())?;
                let conn: &mut AnyConnection = &mut conn;
                persistence::db::migrations_complete(conn).map_err(|e| format!("not a motcua backup: {e}"))?;
            }
            let staged = format!("{path}.restoring");
            std::fs::copy(source, &staged).map_err(|e| e.to_string())?;
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
            std::fs::rename(&staged, &path).map_err(|e| e.to_string())
        }
        (Backend::Postgres, url) => run(Command::new("pg_restore")
            .args(["--clean", "--if-exists", "--no-owner", "--single-transaction", "--dbname"])
            .arg(&url)
            .arg(source)),
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().map_err(|e| format!("cannot run {program}: {e}"))?;
    if output.status.success() { Ok(()) } else { Err(format!("{program} failed: {}", String::from_utf8_lossy(&output.stderr).trim())) }
}
