//! An upload in progress, as storage holds it and the database records it.
//!
//! The filesystem driver keeps every byte in one file (`uploads/<id>`), so its state is
//! the size alone. The S3 driver keeps full parts of a multipart upload (each at least
//! 5 MiB, as S3 requires of every part but the last) and the bytes after the last part in
//! a small `tail` object, which the next request reads back and continues. The state is
//! small, and any process holding the upload's lease can continue from it.

use super::{ByteStream, StorageError, StoragePath};
use async_trait::async_trait;
use bytes::Bytes;

/// Where storage holds the first `size` bytes of an upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadState {
    pub size: u64,
    /// S3: the multipart upload the parts belong to.
    pub multipart: Option<Multipart>,
    /// S3: uploaded parts, in order (part numbers 1, 2, …).
    pub parts: Vec<Part>,
    /// S3: the bytes after the last part, if any.
    pub tail: Option<Tail>,
}

/// An S3 multipart upload: its id and the key it completes onto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multipart {
    pub id: String,
    pub key: StoragePath,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1-based, as S3 numbers parts.
    pub number: u32,
    pub etag: String,
    pub size: u64,
}

/// A small object holding the bytes after the last part. Each request that leaves a tail
/// writes a new one (a random `id`), so the object the database names is never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    pub id: uuid::Uuid,
    pub size: u64,
}

impl UploadState {
    /// Bytes in parts (the rest is in the tail).
    pub fn parts_size(&self) -> u64 {
        self.parts.iter().map(|p| p.size).sum()
    }
}

/// Receives one request's body for an upload.
#[async_trait]
pub trait UploadWriter: Send {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError>;

    /// Size of the upload so far, including what earlier requests stored.
    fn size(&self) -> u64;

    /// Make everything durable and resumable (a PATCH); the caller records the state.
    async fn commit(self: Box<Self>) -> Result<UploadState, StorageError>;

    /// Everything received: make it durable but not yet visible (a finishing PUT). The
    /// digest is checked before the result is published or discarded.
    async fn seal(self: Box<Self>) -> Result<Box<dyn Sealed>, StorageError>;

    /// Give up; the recorded state stays the truth.
    async fn cancel(self: Box<Self>) -> Result<(), StorageError>;
}

/// A complete upload, not yet visible as a blob.
#[async_trait]
pub trait Sealed: Send {
    fn size(&self) -> u64;

    /// Stream its bytes again (only to hash them with another algorithm).
    async fn read(&mut self) -> Result<ByteStream, StorageError>;

    /// Make the bytes the object at `to` (fs: rename; S3: complete the multipart upload,
    /// copying server-side only if it was not started on `to`, or put the bytes held in
    /// memory). Durable when it returns.
    async fn publish(self: Box<Self>, to: &StoragePath) -> Result<(), StorageError>;

    /// Drop the bytes (digest mismatch, or the blob is already stored).
    async fn discard(self: Box<Self>) -> Result<(), StorageError>;
}
