//! The S3 driver's whole-object writer: bytes buffered up to one part, then a multipart
//! upload on the key itself, completed by `commit`; nothing is visible before.

use super::s3::{remote, S3Inner, PART_SIZE};
use super::{StorageError, StoragePath, StorageWriter};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use object_store::{ObjectStoreExt, WriteMultipart};
use std::sync::Arc;

/// A whole object: buffered up to one part, then a multipart upload on the key itself,
/// completed by `commit` (nothing is visible before).
pub struct S3Put {
    s3: Arc<S3Inner>,
    path: StoragePath,
    buf: BytesMut,
    size: u64,
    multipart: Option<WriteMultipart>,
}

impl S3Put {
    pub fn new(s3: Arc<S3Inner>, path: StoragePath) -> S3Put {
        S3Put {
            s3,
            path,
            buf: BytesMut::new(),
            size: 0,
            multipart: None,
        }
    }
}

#[async_trait]
impl StorageWriter for S3Put {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError> {
        self.size += data.len() as u64;
        if let Some(mp) = &mut self.multipart {
            mp.wait_for_capacity(2)
                .await
                .map_err(remote("put part", &self.path))?;
            mp.put(data);
            return Ok(());
        }
        self.buf.extend_from_slice(&data);
        if self.buf.len() >= PART_SIZE {
            let key = self.s3.key(&self.path);
            let up = self
                .s3
                .store
                .put_multipart(&key)
                .await
                .map_err(remote("create multipart", &self.path))?;
            let mut mp = WriteMultipart::new_with_chunk_size(up, PART_SIZE);
            mp.put(self.buf.split().freeze());
            self.multipart = Some(mp);
        }
        Ok(())
    }

    fn size(&self) -> u64 {
        self.size
    }

    async fn commit(self: Box<Self>) -> Result<u64, StorageError> {
        let S3Put {
            s3,
            path,
            buf,
            size,
            multipart,
        } = *self;
        match multipart {
            Some(mp) => mp.finish().await.map_err(remote("complete", &path))?,
            None => s3
                .store
                .put(&s3.key(&path), buf.freeze().into())
                .await
                .map_err(remote("put", &path))?,
        };
        Ok(size)
    }

    async fn cancel(self: Box<Self>) -> Result<(), StorageError> {
        if let Some(mp) = self.multipart {
            mp.abort().await.map_err(remote("abort", &self.path))?;
        }
        Ok(())
    }
}
