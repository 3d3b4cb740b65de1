//! A [`Storage`] decorator that times every driver call into
//! `pier_registry_storage_operation_duration_seconds{operation}` and counts failures
//! (`pier_registry_storage_errors_total`), whatever the driver: `state::open_storage`
//! wraps the filesystem or S3 driver in it, so no driver carries metrics code.
//!
//! `read` is timed to the opened stream (the first byte's wait), not the whole transfer;
//! writers are timed per `write` and `commit`, where a driver does its real work.

use super::{ByteStream, Multipart, Storage, StorageError, StoragePath, StorageWriter};
use super::{UploadState, UploadWriter};
use crate::metrics::{OperationLabel, StorageMetrics};
use async_trait::async_trait;
use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

pub struct Timed {
    inner: Arc<dyn Storage>,
    metrics: StorageMetrics,
}

impl Timed {
    pub fn wrap(inner: Arc<dyn Storage>, metrics: StorageMetrics) -> Arc<dyn Storage> {
        Arc::new(Timed { inner, metrics })
    }
}

/// Run `f`, recording its latency under `operation` and an error unless it is NotFound.
async fn timed<T>(
    m: &StorageMetrics,
    operation: &'static str,
    f: impl Future<Output = Result<T, StorageError>>,
) -> Result<T, StorageError> {
    let started = Instant::now();
    let result = f.await;
    let label = OperationLabel { operation };
    m.duration
        .get_or_create(&label)
        .observe(started.elapsed().as_secs_f64());
    if matches!(&result, Err(e) if !matches!(e, StorageError::NotFound(_))) {
        m.errors.get_or_create(&label).inc();
    }
    result
}

#[async_trait]
impl Storage for Timed {
    async fn stat(&self, path: &StoragePath) -> Result<Option<u64>, StorageError> {
        timed(&self.metrics, "stat", self.inner.stat(path)).await
    }

    async fn modified(
        &self,
        path: &StoragePath,
    ) -> Result<Option<std::time::SystemTime>, StorageError> {
        timed(&self.metrics, "modified", self.inner.modified(path)).await
    }

    async fn read(
        &self,
        path: &StoragePath,
        offset: u64,
        len: Option<u64>,
    ) -> Result<ByteStream, StorageError> {
        timed(&self.metrics, "read", self.inner.read(path, offset, len)).await
    }

    async fn put(&self, path: &StoragePath) -> Result<Box<dyn StorageWriter>, StorageError> {
        let inner = timed(&self.metrics, "put", self.inner.put(path)).await?;
        Ok(Box::new(TimedWriter {
            inner,
            metrics: self.metrics.clone(),
        }))
    }

    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<(), StorageError> {
        timed(&self.metrics, "copy", self.inner.copy(from, to)).await
    }

    async fn delete(&self, path: &StoragePath) -> Result<(), StorageError> {
        timed(&self.metrics, "delete", self.inner.delete(path)).await
    }

    async fn list(&self, prefix: &StoragePath) -> Result<Vec<StoragePath>, StorageError> {
        timed(&self.metrics, "list", self.inner.list(prefix)).await
    }

    async fn append(
        &self,
        id: &Uuid,
        state: &UploadState,
        target: Option<&StoragePath>,
    ) -> Result<Box<dyn UploadWriter>, StorageError> {
        let inner = timed(
            &self.metrics,
            "upload_append",
            self.inner.append(id, state, target),
        )
        .await?;
        Ok(Box::new(TimedUpload {
            inner,
            metrics: self.metrics.clone(),
        }))
    }

    async fn forget(
        &self,
        id: &Uuid,
        old: &UploadState,
        new: &UploadState,
    ) -> Result<(), StorageError> {
        timed(
            &self.metrics,
            "upload_forget",
            self.inner.forget(id, old, new),
        )
        .await
    }

    async fn discard(&self, id: &Uuid, multipart: Option<&Multipart>) -> Result<(), StorageError> {
        timed(
            &self.metrics,
            "upload_discard",
            self.inner.discard(id, multipart),
        )
        .await
    }

    async fn redirect_url(&self, path: &StoragePath) -> Result<Option<String>, StorageError> {
        timed(&self.metrics, "redirect_url", self.inner.redirect_url(path)).await
    }
}

struct TimedWriter {
    inner: Box<dyn StorageWriter>,
    metrics: StorageMetrics,
}

#[async_trait]
impl StorageWriter for TimedWriter {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError> {
        timed(&self.metrics, "write", self.inner.write(data)).await
    }

    fn size(&self) -> u64 {
        self.inner.size()
    }

    async fn commit(self: Box<Self>) -> Result<u64, StorageError> {
        let TimedWriter { inner, metrics } = *self;
        timed(&metrics, "commit", inner.commit()).await
    }

    async fn cancel(self: Box<Self>) -> Result<(), StorageError> {
        let TimedWriter { inner, metrics } = *self;
        timed(&metrics, "cancel", inner.cancel()).await
    }
}

struct TimedUpload {
    inner: Box<dyn UploadWriter>,
    metrics: StorageMetrics,
}

#[async_trait]
impl UploadWriter for TimedUpload {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError> {
        timed(&self.metrics, "upload_write", self.inner.write(data)).await
    }

    fn size(&self) -> u64 {
        self.inner.size()
    }

    async fn commit(self: Box<Self>) -> Result<UploadState, StorageError> {
        let TimedUpload { inner, metrics } = *self;
        timed(&metrics, "upload_commit", inner.commit()).await
    }

    async fn seal(self: Box<Self>) -> Result<Box<dyn super::Sealed>, StorageError> {
        let TimedUpload { inner, metrics } = *self;
        timed(&metrics, "upload_seal", inner.seal()).await
    }

    async fn cancel(self: Box<Self>) -> Result<(), StorageError> {
        let TimedUpload { inner, metrics } = *self;
        timed(&metrics, "upload_cancel", inner.cancel()).await
    }
}
