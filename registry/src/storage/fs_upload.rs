//! The filesystem driver's whole-object writes and uploads.
//!
//! `put` and `copy` write `<target>.tmp-<uuid>` (a name `list` never returns), fsync it and
//! rename it over the target, so the target is either absent or complete. An upload is
//! the one file `uploads/<id>`: each request appends to it (cutting off what a failed
//! request left past the recorded size), and the finishing request renames it onto the
//! blob path: no byte is copied.

use super::fs::{io, sync_dir, FsStorage};
use super::fs_writer::FsWriter;
use super::{
    ByteStream, Sealed, StorageError, StoragePath, StorageWriter, UploadState, UploadWriter,
};
use async_trait::async_trait;
use bytes::Bytes;
use std::path::{Path, PathBuf};

fn temp_for(full: &Path) -> PathBuf {
    let mut name = full.as_os_str().to_owned();
    name.push(format!(".tmp-{}", uuid::Uuid::new_v4()));
    PathBuf::from(name)
}

/// Rename the finished temporary file `tmp` onto `dst`, durably.
async fn install(fs: &FsStorage, tmp: &Path, dst: &Path) -> Result<(), StorageError> {
    let parent = dst.parent().map(Path::to_path_buf).unwrap_or_default();
    fs.create_dirs_durably(&parent).await?;
    tokio::fs::rename(tmp, dst)
        .await
        .map_err(io("rename", tmp))?;
    sync_dir(&parent).await
}

async fn open_temp(full: &Path) -> Result<(PathBuf, std::fs::File), StorageError> {
    if let Some(parent) = full.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(io("mkdir", parent))?;
    }
    let tmp = temp_for(full);
    let file = tokio::fs::File::create(&tmp)
        .await
        .map_err(io("create", &tmp))?;
    Ok((tmp, file.into_std().await))
}

pub struct FsPut {
    fs: FsStorage,
    tmp: PathBuf,
    dst: PathBuf,
    w: FsWriter,
}

impl FsPut {
    pub async fn start(fs: FsStorage, path: &StoragePath) -> Result<FsPut, StorageError> {
        let dst = fs.full(path);
        let (tmp, file) = open_temp(&dst).await?;
        let w = FsWriter::new(file, tmp.clone(), 0);
        Ok(FsPut { fs, tmp, dst, w })
    }
}

#[async_trait]
impl StorageWriter for FsPut {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError> {
        StorageWriter::write(&mut self.w, data).await
    }

    fn size(&self) -> u64 {
        StorageWriter::size(&self.w)
    }

    async fn commit(self: Box<Self>) -> Result<u64, StorageError> {
        let FsPut { fs, tmp, dst, w } = *self;
        let size = Box::new(w).commit().await?;
        install(&fs, &tmp, &dst).await?;
        Ok(size)
    }

    async fn cancel(self: Box<Self>) -> Result<(), StorageError> {
        let FsPut { tmp, w, .. } = *self;
        Box::new(w).cancel().await?;
        let _ = tokio::fs::remove_file(&tmp).await;
        Ok(())
    }
}

/// `copy`: the kernel copies into a temporary file, which is fsynced and renamed.
pub async fn copy(
    fs: &FsStorage,
    from: &StoragePath,
    to: &StoragePath,
) -> Result<(), StorageError> {
    let (src, dst) = (fs.full(from), fs.full(to));
    let (tmp, file) = open_temp(&dst).await?;
    drop(file);
    let copied = async {
        match tokio::fs::copy(&src, &tmp).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StorageError::NotFound(from.to_string()))
            }
            Err(e) => return Err(io("copy", &src)(e)),
        }
        let f = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&tmp)
            .await
            .map_err(io("open", &tmp))?;
        f.sync_data().await.map_err(io("fsync", &tmp))?;
        install(fs, &tmp, &dst).await
    }
    .await;
    if copied.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    copied
}

/// One request's appends to `uploads/<id>`.
pub struct FsUpload {
    fs: FsStorage,
    path: StoragePath,
    w: FsWriter,
}

impl FsUpload {
    pub fn new(fs: FsStorage, path: StoragePath, w: FsWriter) -> FsUpload {
        FsUpload { fs, path, w }
    }
}

#[async_trait]
impl UploadWriter for FsUpload {
    async fn write(&mut self, data: Bytes) -> Result<(), StorageError> {
        StorageWriter::write(&mut self.w, data).await
    }

    fn size(&self) -> u64 {
        StorageWriter::size(&self.w)
    }

    async fn commit(self: Box<Self>) -> Result<UploadState, StorageError> {
        let size = Box::new(self.w).commit().await?;
        Ok(UploadState {
            size,
            ..UploadState::default()
        })
    }

    async fn seal(self: Box<Self>) -> Result<Box<dyn Sealed>, StorageError> {
        let FsUpload { fs, path, w } = *self;
        let size = Box::new(w).commit().await?;
        Ok(Box::new(FsSealed { fs, path, size }))
    }

    async fn cancel(self: Box<Self>) -> Result<(), StorageError> {
        Box::new(self.w).cancel().await
    }
}

/// A finished, fsynced upload file.
struct FsSealed {
    fs: FsStorage,
    path: StoragePath,
    size: u64,
}

#[async_trait]
impl Sealed for FsSealed {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read(&mut self) -> Result<ByteStream, StorageError> {
        use super::Storage;
        self.fs.read(&self.path, 0, Some(self.size)).await
    }

    async fn publish(self: Box<Self>, to: &StoragePath) -> Result<(), StorageError> {
        self.fs.rename(&self.path, to).await
    }

    async fn discard(self: Box<Self>) -> Result<(), StorageError> {
        use super::Storage;
        self.fs.delete(&self.path).await
    }
}
