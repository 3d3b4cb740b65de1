//! Byte storage: a small object-store-like trait and its drivers (filesystem, S3).
//!
//! Drivers know nothing of registries. Objects are written whole ([`Storage::put`], visible
//! only once committed), read with an offset, stat'ed, listed, copied and deleted. Uploads
//! in progress have their own three calls, because the two backends keep them differently
//! (one appended file; multipart parts plus a small tail object): [`Storage::append`]
//! continues an upload from the [`UploadState`] the database recorded, and the resulting
//! writer is either committed (a resumable PATCH) or sealed and then published onto its
//! content-addressed key (the finishing PUT). Registry semantics (links, tags, leases)
//! live in `services` and the database. Every path a driver sees is a [`StoragePath`]
//! built by [`layout`], never text from a request.

pub mod fs;
mod fs_upload;
mod fs_writer;
pub mod layout;
pub mod s3;
mod s3_put;
mod s3_upload;
#[cfg(test)]
mod suite;
pub mod timed;
pub mod upload;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use uuid::Uuid;

pub use layout::StoragePath;
pub use upload::{Multipart, Part, Sealed, Tail, UploadState, UploadWriter};

/// A stream of bytes read from storage.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        source: std::io::Error,
    },
    /// An object store request failed (the message names the operation and key, never
    /// credentials).
    #[error("{op} {path}: {message}")]
    Remote {
        op: &'static str,
        path: String,
        message: String,
    },
}

#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Size of the object at `path`, or `None` if there is none.
    async fn stat(&self, path: &StoragePath) -> Result<Option<u64>, StorageError>;

    /// When the object at `path` was last written, or `None` if there is none (`fsck`
    /// leaves files younger than the GC grace period alone: they may be in flight).
    async fn modified(
        &self,
        path: &StoragePath,
    ) -> Result<Option<std::time::SystemTime>, StorageError>;

    /// Stream `len` bytes (or all that remain) starting at `offset`.
    async fn read(
        &self,
        path: &StoragePath,
        offset: u64,
        len: Option<u64>,
    ) -> Result<ByteStream, StorageError>;

    /// A writer for a whole new object at `path`: nothing is visible there until `commit`
    /// returns, and then all of it (replacing what was there).
    async fn put(&self, path: &StoragePath) -> Result<Box<dyn StorageWriter>, StorageError>;

    /// Copy `from` onto `to` (server-side where the backend can), replacing `to`; durable
    /// when it returns. A missing `from` is `NotFound`.
    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<(), StorageError>;

    /// Remove the object, or everything under the prefix. Missing is not an error.
    async fn delete(&self, path: &StoragePath) -> Result<(), StorageError>;

    /// Objects directly or indirectly under `prefix`.
    async fn list(&self, prefix: &StoragePath) -> Result<Vec<StoragePath>, StorageError>;

    /// Continue upload `id` after the bytes `state` records (`UploadState::default()`
    /// starts it). Bytes a failed writer left past `state` are ignored or cut off.
    /// `target`: the content-addressed key this request will publish to if it finishes
    /// the upload, when already known (lets S3 write large bodies straight there).
    async fn append(
        &self,
        id: &Uuid,
        state: &UploadState,
        target: Option<&StoragePath>,
    ) -> Result<Box<dyn UploadWriter>, StorageError>;

    /// After the database recorded `new` in place of `old`: remove what only `old` used
    /// (S3: the previous tail object). Best effort; the caller logs a failure.
    async fn forget(
        &self,
        id: &Uuid,
        old: &UploadState,
        new: &UploadState,
    ) -> Result<(), StorageError>;

    /// Remove everything upload `id` stored (S3: abort `multipart` too). Missing is fine.
    async fn discard(&self, id: &Uuid, multipart: Option<&Multipart>) -> Result<(), StorageError>;

    /// A short-lived URL that serves `path` without the registry (S3 with
    /// `storage.s3.redirect`), or `None` (then the registry streams the bytes itself).
    async fn redirect_url(&self, path: &StoragePath) -> Result<Option<String>, StorageError> {
        let _ = path;
        Ok(None)
    }
}

#[async_trait]
pub trait StorageWriter: Send {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError>;

    /// Bytes written so far.
    fn size(&self) -> u64;

    /// Make everything written durable and visible; returns the final size.
    async fn commit(self: Box<Self>) -> Result<u64, StorageError>;

    /// Give up; nothing of this writer becomes visible.
    async fn cancel(self: Box<Self>) -> Result<(), StorageError>;
}
