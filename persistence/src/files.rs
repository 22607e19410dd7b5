//! The local directory of stored files: bytes live at `<root>/<aa>/<sha256>`, never under a name
//! a client chose. Writes go to a temporary file first and are renamed into place, so a reader
//! never sees half a file, and storing the same content twice stores it once.

use std::io::Write;
use std::path::{Path, PathBuf};

use domain::files::is_content_name;

/// A directory of files named by their SHA-256.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        is_content_name(sha256).then(|| self.root.join(&sha256[..2]).join(sha256))
    }

    /// Stores `bytes` under `sha256`, their digest, unless they are there already.
    ///
    /// # Errors
    /// File-system errors.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path_of(sha256).ok_or_else(|| std::io::Error::other("bad digest"))?;
        if path.is_file() {
            return Ok(());
        }
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        std::fs::create_dir_all(dir)?;
        let temp = dir.join(format!(".{sha256}.{}", uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &path)
    }

    /// The bytes stored under `sha256`, if any (unchecked: the caller checks the digest).
    ///
    /// # Errors
    /// File-system errors other than "not found".
    pub fn get(&self, sha256: &str) -> std::io::Result<Option<Vec<u8>>> {
        let Some(path) = self.path_of(sha256) else { return Ok(None) };
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every stored file: its digest and path (temporary files of unfinished writes left out).
    ///
    /// # Errors
    /// File-system errors; a missing root is an empty store.
    pub fn files(&self) -> std::io::Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        let shards = match std::fs::read_dir(&self.root) {
            Ok(shards) => shards,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for shard in shards {
            let shard = shard?.path();
            if !shard.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&shard)? {
                let path = file?.path();
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if self.path_of(&name).is_some_and(|expected| expected == path) {
                    out.push((name, path));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_stored_once_by_digest_and_foreign_names_are_refused() {
        let root = std::env::temp_dir().join(format!("motcua-files-{}", uuid::Uuid::new_v4().simple()));
        let store = LocalStore::new(&root);
        let a = domain::audit::digest(b"hello");
        assert_eq!(a, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        store.put(&a, b"hello").unwrap_or_default();
        store.put(&a, b"hello").unwrap_or_default();
        assert_eq!(store.get(&a).ok().flatten().as_deref(), Some(&b"hello"[..]));
        assert!(store.get("../../etc/passwd").ok().flatten().is_none());
        assert!(store.get(&"0".repeat(64)).ok().flatten().is_none());
        assert_eq!(store.files().unwrap_or_default().into_iter().map(|(name, _)| name).collect::<Vec<_>>(), std::slice::from_ref(&a));
        assert!(LocalStore::new(root.join("missing")).files().is_ok_and(|l| l.is_empty()));
        let _ = std::fs::remove_dir_all(root);
    }
}
