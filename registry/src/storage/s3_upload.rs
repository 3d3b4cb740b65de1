//! The S3 driver's uploads ([`S3Upload`]; whole objects are `s3_put.rs`).
//!
//! An upload's bytes are full parts of one multipart upload (each [`PART_SIZE`], numbered
//! from 1, ETags recorded in the database) followed by a tail of fewer than `PART_SIZE`
//! bytes in its own small object `uploads/<id>/tail-<uuid>`. A request reads the tail back,
//! appends its body, uploads every full part and writes what is left as a new tail object;
//! the database then records the new state, so any replica can continue. A stale writer
//! that re-uploads a part number cannot corrupt the blob unnoticed: completing the upload
//! names the recorded ETags, and S3 refuses a part whose ETag differs.
//!
//! The multipart upload is created on the blob key itself when the request that needs it
//! already knows the digest (a monolithic upload), so publishing it is completing it; a
//! chunked upload's is created on `uploads/<id>/data` and copied server-side once verified.
//! An upload that never needed a part is held in memory by the finishing request and put
//! straight onto the blob key after the digest matched.

use super::s3::{remote, S3Inner, PART_SIZE};
use super::{
    layout, ByteStream, Multipart, Part, Sealed, StorageError, StoragePath, Tail, UploadState,
    UploadWriter,
};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::TryStreamExt;
use object_store::multipart::{MultipartStore, PartId};
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;
use uuid::Uuid;

/// One request's part of an upload.
pub struct S3Upload {
    s3: Arc<S3Inner>,
    id: Uuid,
    /// Parts and multipart upload so far; `tail` is in `buf`, not in here.
    state: UploadState,
    buf: BytesMut,
    size: u64,
    target: Option<StoragePath>,
    /// This request created the multipart upload (no recorded state names it yet).
    created: bool,
}

impl S3Upload {
    /// Continue after `state`, reading its tail object back.
    pub async fn resume(
        s3: Arc<S3Inner>,
        id: Uuid,
        mut state: UploadState,
        target: Option<&StoragePath>,
    ) -> Result<S3Upload, StorageError> {
        let mut buf = BytesMut::new();
        if let Some(t) = state.tail.take() {
            let path = layout::upload_tail(&id, &t.id);
            let got = s3
                .store
                .get(&s3.key(&path))
                .await
                .map_err(remote("read tail", &path))?;
            let bytes = got.bytes().await.map_err(remote("read tail", &path))?;
            if bytes.len() as u64 != t.size {
                return Err(StorageError::NotFound(format!(
                    "{path} has {} bytes, the upload recorded {}",
                    bytes.len(),
                    t.size
                )));
            }
            buf.extend_from_slice(&bytes);
        }
        if state.parts_size() + buf.len() as u64 != state.size {
            return Err(StorageError::NotFound(format!(
                "upload {id}: parts and tail do not add up to {} bytes",
                state.size
            )));
        }
        Ok(S3Upload {
            s3,
            id,
            size: state.size,
            state,
            buf,
            target: target.cloned(),
            created: false,
        })
    }

    /// Upload `data` as the next part, creating the multipart upload first if needed.
    async fn put_part(&mut self, data: Bytes) -> Result<(), StorageError> {
        let mp = match &self.state.multipart {
            Some(m) => m.clone(),
            None => {
                let key = self
                    .target
                    .clone()
                    .unwrap_or_else(|| layout::upload_data(&self.id));
                let id = self
                    .s3
                    .store
                    .create_multipart(&self.s3.key(&key))
                    .await
                    .map_err(remote("create multipart", &key))?;
                let m = Multipart { id, key };
                self.state.multipart = Some(m.clone());
                self.created = true;
                m
            }
        };
        let idx = self.state.parts.len();
        let size = data.len() as u64;
        let path = self.s3.key(&mp.key);
        let part = match self
            .s3
            .store
            .put_part(&path, &mp.id, idx, data.into())
            .await
        {
            Ok(part) => part,
            // A store that refuses a part for an upload it no longer has (completed or
            // aborted) may answer before reading the body and close the connection, which
            // the client sees as a failed send, not a 404. For an upload an earlier request
            // created, ask again with an empty body (a part this request's retry would
            // replace anyway): a clean NotFound then tells the two apart.
            Err(e) if !self.created && !matches!(e, object_store::Error::NotFound { .. }) => {
                match self
                    .s3
                    .store
                    .put_part(&path, &mp.id, idx, Bytes::new().into())
                    .await
                {
                    Err(object_store::Error::NotFound { .. }) => {
                        return Err(StorageError::NotFound(format!(
                            "upload {}: its multipart upload is gone",
                            self.id
                        )))
                    }
                    _ => return Err(remote("put part", &mp.key)(e)),
                }
            }
            Err(e) => return Err(remote("put part", &mp.key)(e)),
        };
        self.state.parts.push(Part {
            number: idx as u32 + 1,
            etag: part.content_id,
            size,
        });
        Ok(())
    }
}

#[async_trait]
impl UploadWriter for S3Upload {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError> {
        self.size += data.len() as u64;
        self.buf.extend_from_slice(&data);
        while self.buf.len() >= PART_SIZE {
            let part = self.buf.split_to(PART_SIZE).freeze();
            self.put_part(part).await?;
        }
        Ok(())
    }

    fn size(&self) -> u64 {
        self.size
    }

    async fn commit(mut self: Box<Self>) -> Result<UploadState, StorageError> {
        if !self.buf.is_empty() {
            let tail = Tail {
                id: Uuid::new_v4(),
                size: self.buf.len() as u64,
            };
            let path = layout::upload_tail(&self.id, &tail.id);
            let bytes = self.buf.split().freeze();
            self.s3
                .store
                .put(&self.s3.key(&path), bytes.into())
                .await
                .map_err(remote("put tail", &path))?;
            self.state.tail = Some(tail);
        }
        self.state.size = self.size;
        Ok(self.state)
    }

    async fn seal(mut self: Box<Self>) -> Result<Box<dyn Sealed>, StorageError> {
        if self.state.multipart.is_none() {
            return Ok(Box::new(MemorySealed {
                s3: self.s3,
                id: self.id,
                bytes: self.buf.freeze(),
            }));
        }
        if !self.buf.is_empty() {
            let last = self.buf.split().freeze();
            self.put_part(last).await?;
        }
        let multipart = self.state.multipart.take().ok_or_else(|| {
            StorageError::NotFound(format!("upload {}: no multipart upload", self.id))
        })?;
        Ok(Box::new(MultipartSealed {
            s3: self.s3,
            id: self.id,
            multipart,
            parts: self.state.parts,
            size: self.size,
            completed: false,
        }))
    }

    async fn cancel(self: Box<Self>) -> Result<(), StorageError> {
        // Parts this request added to a recorded multipart upload are overwritten by the
        // next request (same numbers); the recorded state stays the truth. A multipart
        // upload this request created is named nowhere else: abort it.
        match (&self.state.multipart, self.created) {
            (Some(m), true) => self
                .s3
                .store
                .abort_multipart(&self.s3.key(&m.key), &m.id)
                .await
                .map_err(remote("abort multipart", &m.key)),
            _ => Ok(()),
        }
    }
}

/// Remove what the upload left under `uploads/<id>/` (tails, the data object).
async fn clear(s3: &S3Inner, id: &Uuid) -> Result<(), StorageError> {
    let prefix = layout::upload(id);
    let listed: Vec<_> = s3
        .store
        .list(Some(&s3.key(&prefix)))
        .try_collect()
        .await
        .map_err(remote("list", &prefix))?;
    for m in listed {
        match s3.store.delete(&m.location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(remote("delete", &prefix)(e)),
        }
    }
    Ok(())
}

/// An upload that never reached a full part: its bytes are in memory.
struct MemorySealed {
    s3: Arc<S3Inner>,
    id: Uuid,
    bytes: Bytes,
}

#[async_trait]
impl Sealed for MemorySealed {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    async fn read(&mut self) -> Result<ByteStream, StorageError> {
        let b = self.bytes.clone();
        Ok(Box::pin(futures_util::stream::once(async move { Ok(b) })))
    }

    async fn publish(self: Box<Self>, to: &StoragePath) -> Result<(), StorageError> {
        self.s3
            .store
            .put(&self.s3.key(to), self.bytes.clone().into())
            .await
            .map_err(remote("put", to))?;
        clear(&self.s3, &self.id).await
    }

    async fn discard(self: Box<Self>) -> Result<(), StorageError> {
        clear(&self.s3, &self.id).await
    }
}

/// Every part uploaded, the multipart upload not completed yet.
struct MultipartSealed {
    s3: Arc<S3Inner>,
    id: Uuid,
    multipart: Multipart,
    parts: Vec<Part>,
    size: u64,
    completed: bool,
}

impl MultipartSealed {
    async fn complete(&mut self) -> Result<(), StorageError> {
        if self.completed {
            return Ok(());
        }
        let ids = self
            .parts
            .iter()
            .map(|p| PartId {
                content_id: p.etag.clone(),
            })
            .collect();
        let m = &self.multipart;
        self.s3
            .store
            .complete_multipart(&self.s3.key(&m.key), &m.id, ids)
            .await
            .map_err(remote("complete multipart", &m.key))?;
        self.completed = true;
        Ok(())
    }
}

#[async_trait]
impl Sealed for MultipartSealed {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read(&mut self) -> Result<ByteStream, StorageError> {
        let key = self.multipart.key.clone();
        if layout::is_blob(&key) {
            // Started on the blob key because the digest was known; completing it to read
            // it would make it visible before it is verified.
            return Err(StorageError::Remote {
                op: "read",
                path: key.to_string(),
                message: "an unpublished blob upload cannot be read back".into(),
            });
        }
        self.complete().await?;
        let got = self
            .s3
            .store
            .get(&self.s3.key(&key))
            .await
            .map_err(remote("read", &key))?;
        Ok(Box::pin(got.into_stream().map_err(std::io::Error::other)))
    }

    async fn publish(mut self: Box<Self>, to: &StoragePath) -> Result<(), StorageError> {
        self.complete().await?;
        let from = self.multipart.key.clone();
        if &from != to {
            self.s3
                .store
                .copy(&self.s3.key(&from), &self.s3.key(to))
                .await
                .map_err(remote("copy", &from))?;
        }
        clear(&self.s3, &self.id).await
    }

    async fn discard(self: Box<Self>) -> Result<(), StorageError> {
        let m = &self.multipart;
        if self.completed {
            if layout::is_blob(&m.key) {
                return Ok(());
            }
        } else {
            match self
                .s3
                .store
                .abort_multipart(&self.s3.key(&m.key), &m.id)
                .await
            {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(remote("abort multipart", &m.key)(e)),
            }
        }
        clear(&self.s3, &self.id).await
    }
}
