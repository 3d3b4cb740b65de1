//! The S3 driver: one object per storage path under `storage.s3.prefix` in one bucket, over
//! any S3-compatible API (AWS, Garage, MinIO, …), through the `object_store` crate.
//!
//! The client is built from Pier's configuration only ([`S3Storage::new`] uses
//! `AmazonS3Builder::new()`, never `from_env()`): no `AWS_*` variable changes the endpoint,
//! bucket, region or credentials. What the HTTP client does honour is in docs/storage.md
//! ("The S3 driver"). S3 has no append and no rename: uploads are multipart uploads plus a
//! tail object (`s3_upload.rs`); `put` buffers small objects and switches to a multipart
//! upload on the target key past [`PART_SIZE`], so nothing is visible before `commit`.

use super::s3_put::S3Put;
use super::s3_upload::S3Upload;
use super::{
    layout, ByteStream, Multipart, Storage, StorageError, StoragePath, StorageWriter, UploadState,
    UploadWriter,
};
use crate::config::S3Config;
use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::MultipartStore;
use object_store::path::Path;
use object_store::signer::{Method, Signer};
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, RetryConfig,
};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Size of every multipart part but the last (S3's least is 5 MiB). An upload's bytes
/// after its last full part (fewer than this) are kept in a tail object between requests.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// How long a presigned blob URL (`storage.s3.redirect`) stays valid.
pub const REDIRECT_SECONDS: u64 = 300;

#[derive(Clone)]
pub struct S3Storage {
    pub(super) inner: Arc<S3Inner>,
}

pub(super) struct S3Inner {
    pub store: AmazonS3,
    pub prefix: String,
    redirect: bool,
}

impl S3Inner {
    pub fn key(&self, p: &StoragePath) -> Path {
        if self.prefix.is_empty() {
            Path::from(p.as_str())
        } else {
            Path::from(format!("{}/{}", self.prefix, p.as_str()))
        }
    }

    fn unkey(&self, k: &Path) -> Option<StoragePath> {
        let k = k.as_ref();
        let rest = if self.prefix.is_empty() {
            k
        } else {
            k.strip_prefix(self.prefix.as_str())?.strip_prefix('/')?
        };
        StoragePath::from_listed(rest)
    }
}

/// Map an object store error; `NotFound` stays `NotFound`.
pub(super) fn remote<'a>(
    op: &'static str,
    path: &'a StoragePath,
) -> impl FnOnce(object_store::Error) -> StorageError + 'a {
    move |e| match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound(path.to_string()),
        e => StorageError::Remote {
            op,
            path: path.to_string(),
            message: e.to_string(),
        },
    }
}

impl S3Storage {
    /// A client for the configured bucket (validated by `StorageConfig::validate`).
    pub fn new(cfg: &S3Config) -> Result<S3Storage, String> {
        // reqwest is built without its own crypto provider; the workspace's rustls uses ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let options = ClientOptions::new()
            .with_allow_http(cfg.endpoint.starts_with("http://"))
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(120));
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region(&cfg.region)
            .with_access_key_id(&cfg.access_key_id)
            .with_secret_access_key(cfg.secret_access_key.expose())
            .with_virtual_hosted_style_request(!cfg.force_path_style)
            .with_retry(RetryConfig {
                // A few quick retries of transient failures, then the request fails
                // (object_store's default keeps trying for 3 minutes).
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
            })
            .with_client_options(options);
        if !cfg.endpoint.is_empty() {
            b = b.with_endpoint(cfg.endpoint.trim_end_matches('/'));
        }
        let store = b.build().map_err(|e| format!("storage.s3: {e}"))?;
        Ok(S3Storage {
            inner: Arc::new(S3Inner {
                store,
                prefix: cfg.prefix.trim_matches('/').to_string(),
                redirect: cfg.redirect,
            }),
        })
    }
}

#[async_trait]
impl Storage for S3Storage {
    async fn stat(&self, path: &StoragePath) -> Result<Option<u64>, StorageError> {
        match self.inner.store.head(&self.inner.key(path)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote("stat", path)(e)),
        }
    }

    async fn modified(
        &self,
        path: &StoragePath,
    ) -> Result<Option<std::time::SystemTime>, StorageError> {
        match self.inner.store.head(&self.inner.key(path)).await {
            Ok(meta) => Ok(Some(meta.last_modified.into())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote("stat", path)(e)),
        }
    }

    async fn read(
        &self,
        path: &StoragePath,
        offset: u64,
        len: Option<u64>,
    ) -> Result<ByteStream, StorageError> {
        let range = match len {
            Some(0) => {
                // S3 refuses an empty range; the object must still exist.
                return match self.stat(path).await? {
                    Some(_) => Ok(Box::pin(futures_util::stream::empty())),
                    None => Err(StorageError::NotFound(path.to_string())),
                };
            }
            Some(n) => Some(GetRange::Bounded(offset..offset.saturating_add(n))),
            None if offset > 0 => Some(GetRange::Offset(offset)),
            None => None,
        };
        let opts = GetOptions {
            range,
            ..GetOptions::default()
        };
        let got = self
            .inner
            .store
            .get_opts(&self.inner.key(path), opts)
            .await
            .map_err(remote("read", path))?;
        Ok(Box::pin(got.into_stream().map_err(std::io::Error::other)))
    }

    async fn put(&self, path: &StoragePath) -> Result<Box<dyn StorageWriter>, StorageError> {
        Ok(Box::new(S3Put::new(Arc::clone(&self.inner), path.clone())))
    }

    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<(), StorageError> {
        let (f, t) = (self.inner.key(from), self.inner.key(to));
        self.inner
            .store
            .copy(&f, &t)
            .await
            .map_err(remote("copy", from))
    }

    async fn delete(&self, path: &StoragePath) -> Result<(), StorageError> {
        match self.inner.store.delete(&self.inner.key(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(remote("delete", path)(e)),
        }
        let under: Vec<Path> = self
            .list(path)
            .await?
            .iter()
            .map(|p| self.inner.key(p))
            .collect();
        if under.is_empty() {
            return Ok(());
        }
        let stream = futures_util::stream::iter(under.into_iter().map(Ok)).boxed();
        let mut deleted = self.inner.store.delete_stream(stream);
        while let Some(r) = deleted.next().await {
            match r {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(remote("delete", path)(e)),
            }
        }
        Ok(())
    }

    async fn list(&self, prefix: &StoragePath) -> Result<Vec<StoragePath>, StorageError> {
        let key = self.inner.key(prefix);
        let metas: Vec<_> = self
            .inner
            .store
            .list(Some(&key))
            .try_collect()
            .await
            .map_err(remote("list", prefix))?;
        let mut out: Vec<StoragePath> = metas
            .iter()
            .filter_map(|m| self.inner.unkey(&m.location))
            .collect();
        out.sort();
        Ok(out)
    }

    async fn append(
        &self,
        id: &Uuid,
        state: &UploadState,
        target: Option<&StoragePath>,
    ) -> Result<Box<dyn UploadWriter>, StorageError> {
        let w = S3Upload::resume(Arc::clone(&self.inner), *id, state.clone(), target).await?;
        Ok(Box::new(w))
    }

    async fn forget(
        &self,
        id: &Uuid,
        old: &UploadState,
        new: &UploadState,
    ) -> Result<(), StorageError> {
        match &old.tail {
            Some(t) if new.tail.as_ref() != Some(t) => {
                self.delete(&layout::upload_tail(id, &t.id)).await
            }
            _ => Ok(()),
        }
    }

    async fn discard(&self, id: &Uuid, multipart: Option<&Multipart>) -> Result<(), StorageError> {
        if let Some(m) = multipart {
            let key = self.inner.key(&m.key);
            match self.inner.store.abort_multipart(&key, &m.id).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(remote("abort multipart", &m.key)(e)),
            }
        }
        self.delete(&layout::upload(id)).await
    }

    async fn redirect_url(&self, path: &StoragePath) -> Result<Option<String>, StorageError> {
        if !self.inner.redirect {
            return Ok(None);
        }
        let url = self
            .inner
            .store
            .signed_url(
                Method::GET,
                &self.inner.key(path),
                Duration::from_secs(REDIRECT_SECONDS),
            )
            .await
            .map_err(remote("presign", path))?;
        Ok(Some(url.to_string()))
    }
}

/// The S3 settings of the test engine (`integration-tests/tools/garage.sh start` prints
/// the `PIER_TEST_S3_*` variables), under `prefix`. For tests: an error names the
/// missing variable, and callers fail on it, never skip.
pub fn test_config(prefix: &str) -> Result<S3Config, String> {
    let var = |k: &str| {
        std::env::var(format!("PIER_TEST_S3_{k}")).map_err(|_| {
            format!(
                "PIER_TEST_S3_{k} is not set: start the test engine with \
                 `eval \"$(integration-tests/tools/garage.sh start DIR)\"`"
            )
        })
    };
    Ok(S3Config {
        endpoint: var("ENDPOINT")?,
        bucket: var("BUCKET")?,
        region: var("REGION")?,
        access_key_id: var("ACCESS_KEY_ID")?,
        secret_access_key: crate::config::Secret::new(var("SECRET_ACCESS_KEY")?),
        prefix: prefix.to_string(),
        force_path_style: true,
        redirect: false,
    })
}

/// Do this run's tests use S3 (`PIER_TEST_STORAGE=s3`)?
pub fn tests_use_s3() -> bool {
    std::env::var("PIER_TEST_STORAGE").is_ok_and(|v| v == "s3")
}

#[cfg(test)]
#[path = "s3_tests.rs"]
mod tests;
