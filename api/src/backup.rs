//! `motcua backup` and `motcua restore`: the database and the stored files in one archive.
//!
//! The archive is a tar file holding `MANIFEST` (format and backend), `database` (SQLite: a copy
//! written by `VACUUM INTO` while the server keeps running; PostgreSQL: `pg_dump
//! --format=custom`) and `files/<aa>/<sha256>`, every file of the local store (documents,
//! results, attachments, templates, report files). Restore checks each file against its name
//! (the SHA-256 of its content) before storing it, then replaces the database (SQLite: the file;
//! PostgreSQL: `pg_restore --clean`); it must run while the server is stopped. `pg_dump` and
//! `pg_restore` must be on the PATH (Debian package `postgresql-client`). A backup written before
//! the archive format (the database alone) still restores.
//!
//! The database is copied first, then the files: a file is stored before the row that names it
//! commits, so every file the copied database refers to is in the archive (files stored later
//! come along unreferenced, which is harmless).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use persistence::files::LocalStore;

use crate::files::FileStore;
use persistence::{AnyConnection, Backend};

const FORMAT: &str = "motcua-backup 1";

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn beside(target: &Path) -> Result<Self, String> {
        let dir = target.with_file_name(format!(".motcua-backup-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the database at `url` and the files of the local store under `files` to the archive
/// `target`, which must not exist.
///
/// # Errors
/// A message saying what failed.
pub fn backup(url: &str, files: &Path, target: &Path) -> Result<(), String> {
    if target.exists() {
        return Err(format!("{} already exists", target.display()));
    }
    let scratch = Scratch::beside(target)?;
    let database = scratch.0.join("database");
    let backend = match Backend::detect(url) {
        (Backend::Sqlite, _) => {
            let pool = persistence::build_pool(url, 1, false).map_err(|e| e.to_string())?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            persistence::db::sqlite_copy_to(&mut conn, &database).map_err(|e| e.to_string())?;
            "sqlite"
        }
        (Backend::Postgres, url) => {
            run(Command::new("pg_dump").args(["--format=custom", "--no-owner", "--file"]).arg(&database).arg(&url))?;
            "postgres"
        }
    };
    let staged = scratch.0.join("archive.tar");
    let file = std::fs::File::create(&staged).map_err(|e| e.to_string())?;
    let mut archive = tar::Builder::new(std::io::BufWriter::new(file));
    let manifest = format!("{FORMAT}\nbackend={backend}\n");
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    archive.append_data(&mut header, "MANIFEST", manifest.as_bytes()).map_err(|e| e.to_string())?;
    archive.append_path_with_name(&database, "database").map_err(|e| e.to_string())?;
    for (name, path) in LocalStore::new(files).files().map_err(|e| format!("cannot list {}: {e}", files.display()))? {
        archive.append_path_with_name(&path, format!("files/{}/{name}", &name[..2])).map_err(|e| e.to_string())?;
    }
    archive.into_inner().and_then(|w| w.into_inner().map_err(std::io::IntoInnerError::into_error)).map_err(|e| e.to_string())?;
    std::fs::rename(&staged, target).map_err(|e| e.to_string())
}

/// Replaces the database at `url` with the one in `source`, and stores its files in the local
/// store under `files`. Stop the server first.
///
/// # Errors
/// A message saying what failed; nothing is replaced when the archive is unreadable or a file
/// does not match its digest.
pub fn restore(url: &str, files: &Path, source: &Path) -> Result<(), String> {
    if !source.is_file() {
        return Err(format!("{} is not a file", source.display()));
    }
    if !is_archive(source)? {
        return restore_database(url, source);
    }
    let scratch = Scratch::beside(source)?;
    let database = scratch.0.join("database");
    let store = FileStore::local(files);
    let mut archive = tar::Archive::new(std::fs::File::open(source).map_err(|e| e.to_string())?);
    let (mut manifest, mut restored) = (None, 0_usize);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let name = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
        match name.as_str() {
            "MANIFEST" => {
                let mut text = String::new();
                entry.read_to_string(&mut text).map_err(|e| e.to_string())?;
                manifest = Some(text);
            }
            "database" => {
                entry.unpack(&database).map_err(|e| e.to_string())?;
            }
            other => {
                let digest = other.strip_prefix("files/").and_then(|rest| rest.split_once('/')).map(|(_, digest)| digest.to_owned());
                let Some(digest) = digest else { return Err(format!("unexpected entry {other}")) };
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
                let stored = store.put(&bytes).map_err(|e| e.to_string())?;
                if stored != digest {
                    return Err(format!("{other} does not match its digest"));
                }
                restored += 1;
            }
        }
    }
    if !manifest.as_deref().is_some_and(|m| m.starts_with(FORMAT)) || !database.is_file() {
        return Err("not a motcua backup: no manifest or no database".to_owned());
    }
    log::info!("{restored} files restored into {}", files.display());
    restore_database(url, &database)
}

/// Copies every file of the local store under `local` into `to` (the object store), checking
/// each against its digest; returns how many were copied. Files already there are skipped by
/// content. Run it once when moving an instance to the object store; it can run again safely.
///
/// # Errors
/// A message naming the file that failed.
pub fn move_files(local: &Path, to: &FileStore) -> Result<usize, String> {
    let files = LocalStore::new(local).files().map_err(|e| format!("cannot list {}: {e}", local.display()))?;
    for (name, path) in &files {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let stored = to.put(&bytes).map_err(|e| format!("{name}: {e}"))?;
        if &stored != name {
            return Err(format!("{} does not match its digest", path.display()));
        }
    }
    Ok(files.len())
}

/// Whether `path` is a tar archive (the `ustar` magic at offset 257).
fn is_archive(path: &Path) -> Result<bool, String> {
    let mut head = [0_u8; 262];
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let n = file.read(&mut head).map_err(|e| e.to_string())?;
    Ok(n == head.len() && &head[257..262] == b"ustar")
}

fn restore_database(url: &str, source: &Path) -> Result<(), String> {
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
