//! Byte storage: a small filesystem-like trait and its drivers.
//!
//! Drivers know nothing of registries: they read with an offset, append through a writer
//! that is committed (durable) or cancelled, stat, list, rename and delete. Registry
//! semantics (uploads, links, tags) live in `services` and the database. Every path a
//! driver sees is a [`StoragePath`] built by [`layout`], never text from a request.

pub mod fs;
mod fs_writer;
pub mod layout;
#[cfg(test)]
mod suite;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use std::pin::Pin;

pub use layout::StoragePath;

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
}

#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Size of the object at `path`, or `None` if there is none.
    async fn stat(&self, path: &StoragePath) -> Result<Option<u64>, StorageError>;

    /// Stream `len` bytes (or all that remain) starting at `offset`.
    async fn read(
        &self,
        path: &StoragePath,
        offset: u64,
        len: Option<u64>,
    ) -> Result<ByteStream, StorageError>;

    /// A writer appending to `path` after cutting it to `offset` bytes (0 creates it anew).
    /// Bytes past `offset` left by an earlier failed write are discarded this way.
    async fn writer(
        &self,
        path: &StoragePath,
        offset: u64,
    ) -> Result<Box<dyn StorageWriter>, StorageError>;

    /// Move `from` to `to` atomically, replacing `to`; durable when it returns.
    async fn rename(&self, from: &StoragePath, to: &StoragePath) -> Result<(), StorageError>;

    /// Remove the object, or everything under the prefix. Missing is not an error.
    async fn delete(&self, path: &StoragePath) -> Result<(), StorageError>;

    /// Objects directly or indirectly under `prefix`.
    async fn list(&self, prefix: &StoragePath) -> Result<Vec<StoragePath>, StorageError>;
}

#[async_trait]
pub trait StorageWriter: Send {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError>;

    /// Size of the object so far, including the starting offset.
    fn size(&self) -> u64;

    /// Make everything written durable (fsync); returns the final size.
    async fn commit(self: Box<Self>) -> Result<u64, StorageError>;

    /// Give up; the bytes written by this writer need not survive.
    async fn cancel(self: Box<Self>) -> Result<(), StorageError>;
}
