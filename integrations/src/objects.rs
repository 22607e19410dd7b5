//! Stored files in an S3-compatible object store (Garage, MinIO, AWS S3, …), through the Apache
//! Arrow `object_store` crate: one bucket, keys `<prefix>/<aa>/<sha256>`. The client is blocking
//! (callers run in the database's blocking threads); it runs on a small runtime of its own.

/// Where an S3-compatible object store is and how to sign in.
#[derive(Clone)]
pub struct ObjectStoreConfig {
    /// `http(s)://host:port` of the S3 API.
    pub endpoint: String,
    pub bucket: String,
    /// Keys are `<prefix>/<aa>/<sha256>`; empty for the bucket's root.
    pub prefix: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for ObjectStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreConfig")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// An S3 bucket and the runtime its client runs on.
pub struct Bucket {
    store: object_store::aws::AmazonS3,
    prefix: String,
    runtime: tokio::runtime::Runtime,
    description: String,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl Bucket {
    /// A client of the bucket `config` names.
    ///
    /// # Errors
    /// An invalid configuration, or a runtime that cannot start.
    pub fn connect(config: &ObjectStoreConfig) -> std::io::Result<Self> {
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&config.endpoint)
            .with_allow_http(config.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .build()
            .map_err(std::io::Error::other)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("motcua-files").enable_all().build()?;
        let description = format!("s3 {}/{}/{}", config.endpoint, config.bucket, config.prefix);
        Ok(Bucket { store, prefix: config.prefix.trim_matches('/').to_owned(), runtime, description })
    }

    /// What the bucket is, for logs (no secrets).
    pub fn describe(&self) -> &str {
        &self.description
    }

    fn key(&self, sha256: &str) -> object_store::path::Path {
        let key = format!("{}/{sha256}", &sha256[..2]);
        if self.prefix.is_empty() {
            object_store::path::Path::from(key)
        } else {
            object_store::path::Path::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Stores `bytes` under `sha256` unless an object is there already.
    ///
    /// # Errors
    /// Object-store errors.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        use object_store::ObjectStore;
        let key = self.key(sha256);
        self.runtime.block_on(async {
            match self.store.head(&key).await {
                Ok(_) => return Ok(()),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(std::io::Error::other(e)),
            }
            self.store.put(&key, bytes.to_vec().into()).await.map(|_| ()).map_err(std::io::Error::other)
        })
    }

    /// The object stored under `sha256`, if any (unchecked: the caller checks the digest).
    ///
    /// # Errors
    /// Object-store errors other than "not found".
    pub fn get(&self, sha256: &str) -> std::io::Result<Option<Vec<u8>>> {
        use object_store::ObjectStore;
        let key = self.key(sha256);
        self.runtime.block_on(async {
            match self.store.get(&key).await {
                Ok(found) => found.bytes().await.map(|b| Some(b.to_vec())).map_err(std::io::Error::other),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(std::io::Error::other(e)),
            }
        })
    }

    /// Every stored digest under the prefix.
    ///
    /// # Errors
    /// Object-store errors.
    pub fn list(&self) -> std::io::Result<Vec<String>> {
        use futures_util::TryStreamExt;
        use object_store::ObjectStore;
        let prefix = (!self.prefix.is_empty()).then(|| object_store::path::Path::from(self.prefix.as_str()));
        let metas: Vec<object_store::ObjectMeta> =
            self.runtime.block_on(self.store.list(prefix.as_ref()).try_collect()).map_err(std::io::Error::other)?;
        Ok(metas
            .into_iter()
            .filter_map(|m| m.location.filename().filter(|n| domain::files::is_content_name(n)).map(str::to_owned))
            .collect())
    }

    /// Whether the bucket answers (a listing of its root).
    ///
    /// # Errors
    /// What failed.
    pub fn check(&self) -> std::io::Result<()> {
        use object_store::ObjectStore;
        self.runtime
            .block_on(self.store.list_with_delimiter(None))
            .map(|_| ())
            .map_err(|e| std::io::Error::other(format!("{}: {e}", self.description)))
    }
}
