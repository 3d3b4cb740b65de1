//! The filesystem driver's writer: bytes are gathered into batches of [`BATCH`] and each
//! batch is written on a blocking thread while the next one is received and hashed, one
//! batch in flight. Two buffers are reused for the whole upload, so memory per upload is
//! bounded (2 × BATCH) whatever the blob's size. `commit` writes the rest and fdatasyncs.
//!
//! Every [`WRITEBACK`] bytes the kernel is asked to start writing them to disk
//! (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, which does not wait), so the disk works while
//! the rest arrives and the fdatasync at commit finds little left to flush; before, a large
//! push received everything into the page cache and only then waited for the whole flush.
//!
//! Writing each request chunk through `tokio::fs::File` cost a thread hand-off per chunk of
//! a few KiB (issue #6: large pushes, perf).

use super::{StorageError, StorageWriter};
use async_trait::async_trait;
use bytes::Bytes;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Bytes handed to the blocking thread at once.
pub const BATCH: usize = 512 * 1024;
/// Bytes after which writeback is started.
pub const WRITEBACK: u64 = 8 * 1024 * 1024;

type Written = (Vec<u8>, std::io::Result<()>);

pub struct FsWriter {
    file: Arc<std::fs::File>,
    path: PathBuf,
    /// Where this writer started: what a cancel cuts the file back to.
    start: u64,
    size: u64,
    /// Where the next batch goes in the file.
    pos: u64,
    /// Start of the bytes whose writeback has not been started yet.
    unflushed: u64,
    pending: Vec<u8>,
    spare: Option<Vec<u8>>,
    in_flight: Option<JoinHandle<Written>>,
}

impl FsWriter {
    /// `file` is positioned at `size`.
    pub fn new(file: std::fs::File, path: PathBuf, size: u64) -> FsWriter {
        FsWriter {
            file: Arc::new(file),
            path,
            start: size,
            size,
            pos: size,
            unflushed: size,
            pending: Vec::new(),
            spare: None,
            in_flight: None,
        }
    }

    fn error(&self, op: &'static str, source: std::io::Error) -> StorageError {
        StorageError::Io {
            op,
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Wait for the batch in flight; its buffer becomes the spare.
    async fn settle(&mut self) -> Result<(), StorageError> {
        let Some(h) = self.in_flight.take() else {
            return Ok(());
        };
        let (mut buf, result) = h
            .await
            .map_err(|e| self.error("write", std::io::Error::other(e.to_string())))?;
        result.map_err(|e| self.error("write", e))?;
        buf.clear();
        self.spare = Some(buf);
        Ok(())
    }

    /// Hand the pending bytes to a blocking thread (after the previous batch is written).
    async fn submit(&mut self) -> Result<(), StorageError> {
        self.settle().await?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let next = self.spare.take().unwrap_or_default();
        let batch = std::mem::replace(&mut self.pending, next);
        let file = Arc::clone(&self.file);
        self.pos += batch.len() as u64;
        let writeback =
            (self.pos - self.unflushed >= WRITEBACK).then_some((self.unflushed, self.pos));
        if writeback.is_some() {
            self.unflushed = self.pos;
        }
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            let r = (&*file).write_all(&batch);
            if let (Ok(()), Some((from, to))) = (&r, writeback) {
                start_writeback(&file, from, to);
            }
            (batch, r)
        }));
        Ok(())
    }
}

/// Ask the kernel to start writing bytes `from..to` of `file` to disk, without waiting.
/// Only a hint: fdatasync at commit is what makes them durable, so a failure is ignored.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, from: u64, to: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(off), Ok(len)) = (i64::try_from(from), i64::try_from(to - from)) else {
        return;
    };
    // SAFETY: the descriptor belongs to `file`, which is borrowed (open) for the call;
    // sync_file_range reads no memory of ours.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), off, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &std::fs::File, _: u64, _: u64) {}

#[async_trait]
impl StorageWriter for FsWriter {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError> {
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(BATCH);
        }
        let mut rest = &data[..];
        while !rest.is_empty() {
            let take = rest
                .len()
                .min(BATCH.saturating_sub(self.pending.len()).max(1));
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() >= BATCH {
                self.submit().await?;
            }
        }
        self.size += data.len() as u64;
        Ok(())
    }

    fn size(&self) -> u64 {
        self.size
    }

    async fn commit(mut self: Box<Self>) -> Result<u64, StorageError> {
        self.submit().await?;
        self.settle().await?;
        let file = Arc::clone(&self.file);
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r)
            .map_err(|e| self.error("fsync", e))?;
        Ok(self.size)
    }

    async fn cancel(mut self: Box<Self>) -> Result<(), StorageError> {
        // The caller's recorded size stays authoritative (the next writer truncates to it
        // too), but the bytes of a failed request are cut off now: on a full disk they
        // are the space the next request needs.
        let _ = self.settle().await;
        let (file, start) = (Arc::clone(&self.file), self.start);
        tokio::task::spawn_blocking(move || file.set_len(start))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r)
            .map_err(|e| self.error("truncate", e))
    }
}

#[cfg(test)]
mod tests {
    use super::BATCH;
    use crate::storage::fs::{read_all, FsStorage};
    use crate::storage::{layout, Storage, StorageWriter};
    use bytes::Bytes;

    #[actix_rt::test]
    async fn batches_keep_order_and_resume_at_an_offset() {
        let dir = tempfile::tempdir().unwrap();
        let s = FsStorage::new(dir.path()).unwrap();
        let up = layout::upload(&uuid::Uuid::new_v4());
        let data: Vec<u8> = (0..3 * BATCH + 12_345)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let cut = 2 * BATCH + 100;
        // Odd chunk sizes, some larger than a batch, across two writers.
        let mut w = Box::new(s.writer(&up, 0).await.unwrap());
        for piece in data[..cut].chunks(BATCH + 4_099) {
            for small in piece.chunks(if piece.len() > BATCH {
                piece.len()
            } else {
                1_000
            }) {
                w.write(Bytes::copy_from_slice(small)).await.unwrap();
            }
        }
        assert_eq!(w.commit().await.unwrap(), cut as u64);
        let mut w = Box::new(s.writer(&up, cut as u64).await.unwrap());
        for piece in data[cut..].chunks(65_536) {
            w.write(Bytes::copy_from_slice(piece)).await.unwrap();
        }
        assert_eq!(w.commit().await.unwrap(), data.len() as u64);
        let back = read_all(s.read(&up, 0, None).await.unwrap()).await.unwrap();
        assert!(back == data, "bytes differ after batched writes");
    }
}
