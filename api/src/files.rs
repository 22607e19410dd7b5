//! The content-addressed file store: bytes live under their SHA-256, never under a name a client
//! chose, so storing the same content twice stores it once and a name is a checksum.
//!
//! Two backends behind one interface: the local directory (`persistence::files`, the embedded
//! default) and a bucket of an S3-compatible object store (`integrations::objects`, what every
//! instance of a group shares). Every read checks the bytes against the digest they are stored
//! under. The interface is blocking: it is called in the transaction that names the file.

use std::sync::Arc;

use integrations::objects::{Bucket, ObjectStoreConfig};
use persistence::files::LocalStore;

/// A content-addressed store of files.
#[derive(Debug, Clone)]
pub enum FileStore {
    /// A directory on this machine.
    Local(LocalStore),
    /// A bucket of an S3-compatible object store.
    Object(Arc<Bucket>),
}

impl FileStore {
    /// A store under the local directory `root` (created on first write).
    pub fn local(root: impl Into<std::path::PathBuf>) -> Self {
        Self::Local(LocalStore::new(root))
    }

    /// A store in the bucket `config` names.
    ///
    /// # Errors
    /// An invalid configuration, or a client runtime that cannot start.
    pub fn object(config: &ObjectStoreConfig) -> std::io::Result<Self> {
        Ok(Self::Object(Arc::new(Bucket::connect(config)?)))
    }

    /// Stores `bytes`; returns their SHA-256 (lower-case hex).
    ///
    /// # Errors
    /// Store errors.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha256 = domain::audit::digest(bytes);
        match self {
            Self::Local(store) => store.put(&sha256, bytes)?,
            Self::Object(bucket) => bucket.put(&sha256, bytes)?,
        }
        Ok(sha256)
    }

    /// The bytes stored under `sha256`, if any, checked against it.
    ///
    /// # Errors
    /// Store errors other than "not found"; `InvalidData` when the bytes do not match.
    pub fn get(&self, sha256: &str) -> std::io::Result<Option<Vec<u8>>> {
        if !domain::files::is_content_name(sha256) {
            return Ok(None);
        }
        let found = match self {
            Self::Local(store) => store.get(sha256)?,
            Self::Object(bucket) => bucket.get(sha256)?,
        };
        match found {
            Some(bytes) if domain::audit::digest(&bytes) != sha256 => {
                Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("stored file {sha256} does not match its digest")))
            }
            found => Ok(found),
        }
    }

    /// Every stored digest, in no particular order.
    ///
    /// # Errors
    /// Store errors; a missing local directory is an empty store.
    pub fn list(&self) -> std::io::Result<Vec<String>> {
        match self {
            Self::Local(store) => Ok(store.files()?.into_iter().map(|(name, _)| name).collect()),
            Self::Object(bucket) => bucket.list(),
        }
    }

    /// Whether the store can be reached (for `/health/ready`).
    ///
    /// # Errors
    /// What failed.
    pub fn check(&self) -> std::io::Result<()> {
        match self {
            Self::Local(store) => std::fs::create_dir_all(store.root()),
            Self::Object(bucket) => bucket.check(),
        }
    }

    /// What the store is, for logs (no secrets).
    pub fn describe(&self) -> String {
        match self {
            Self::Local(store) => format!("local {}", store.root().display()),
            Self::Object(bucket) => bucket.describe().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_changed_in_the_store_is_refused_not_served() {
        let root = std::env::temp_dir().join(format!("motcua-files-{}", uuid::Uuid::new_v4().simple()));
        let store = FileStore::local(&root);
        let a = store.put(b"hello").unwrap_or_default();
        assert_eq!(store.get(&a).ok().flatten().as_deref(), Some(&b"hello"[..]));
        assert_eq!(store.list().unwrap_or_default(), std::slice::from_ref(&a));
        let _ = std::fs::write(root.join(&a[..2]).join(&a), b"jello");
        assert!(store.get(&a).is_err_and(|e| e.kind() == std::io::ErrorKind::InvalidData));
        assert!(store.get("../../etc/passwd").is_ok_and(|f| f.is_none()));
        let _ = std::fs::remove_dir_all(root);
    }
}
