//! Serving, mounting and unlinking blobs.

use super::repo_id;
use crate::db;
use crate::error::{Error, Result};
use crate::notifications::{events, Origin};
use crate::state::Registry;
use crate::storage::{layout, ByteStream, StorageError};
use pier_shared::{Digest, ErrorCode, RepoName};

fn unknown(digest: &Digest) -> Error {
    Error::oci(
        ErrorCode::BlobUnknown,
        format!("blob {digest} unknown to this repository"),
    )
}

/// Size of a blob the repository may serve.
pub async fn stat(reg: &Registry, name: &RepoName, digest: &Digest) -> Result<u64> {
    let (name, d) = (name.clone(), digest.to_string());
    let size = reg
        .db
        .run(move |c| {
            let id = repo_id(c, &name)?;
            Ok::<_, Error>(db::blobs::linked_size(c, id, &d)?)
        })
        .await?;
    size.map(|s| s as u64).ok_or_else(|| unknown(digest))
}

/// Stream `len` bytes of a blob from `offset`.
pub async fn open(reg: &Registry, digest: &Digest, offset: u64, len: u64) -> Result<ByteStream> {
    match reg
        .storage
        .read(&layout::blob(digest), offset, Some(len))
        .await
    {
        Ok(s) => Ok(s),
        Err(StorageError::NotFound(_)) => {
            log::error!("blob {digest} is in the database but not in storage");
            Err(unknown(digest))
        }
        Err(e) => Err(e.into()),
    }
}

/// A presigned URL to send the client to instead of streaming the blob (S3 with
/// `storage.s3.redirect`); `None` to stream it. The caller has checked the repository's link.
pub async fn redirect_url(reg: &Registry, digest: &Digest) -> Result<Option<String>> {
    Ok(reg.storage.redirect_url(&layout::blob(digest)).await?)
}

/// Link an existing blob into `target`. With `from`, only a blob `from` may serve is
/// mounted; without it (automatic mount, if enabled) any blob the registry stores.
/// `None` if nothing could be mounted: the client then uploads normally. The `mount`
/// event is queued in the link's transaction.
pub async fn mount(
    reg: &Registry,
    origin: &Origin,
    target: &RepoName,
    digest: &Digest,
    from: Option<&RepoName>,
) -> Result<Option<u64>> {
    if from.is_none() && !reg.config.uploads.automatic_mount {
        return Ok(None);
    }
    let (target, from, d) = (target.clone(), from.cloned(), digest.to_string());
    let (notifier, origin) = (reg.notifier.clone(), origin.clone());
    // One write transaction: the blob row read here cannot be deleted by garbage
    // collection before the link is made (and the link's foreign key needs the row).
    let size = reg
        .db
        .transaction(move |c| {
            let size = match &from {
                Some(from) => match db::repositories::find(c, from.as_str())? {
                    Some(from_id) => db::blobs::linked_size(c, from_id, &d)?,
                    None => None,
                },
                None => db::blobs::size(c, &d)?,
            };
            if let Some(s) = size {
                let id = db::repositories::find_or_create(c, target.as_str())?;
                db::blobs::link(c, id, &d)?;
                let from = from.as_ref().map(RepoName::as_str);
                events::blob_mounted(c, &notifier, &origin, target.as_str(), &d, s as u64, from)?;
            }
            Ok::<_, Error>(size)
        })
        .await?;
    Ok(size.map(|s| s as u64))
}

/// Remove a blob from a repository (its link only; the bytes stay for other repositories).
pub async fn unlink(reg: &Registry, name: &RepoName, digest: &Digest) -> Result<()> {
    let (name, d) = (name.clone(), digest.to_string());
    let removed = reg
        .db
        .run(move |c| {
            let id = repo_id(c, &name)?;
            Ok::<_, Error>(db::blobs::unlink(c, id, &d)?)
        })
        .await?;
    if removed {
        Ok(())
    } else {
        Err(unknown(digest))
    }
}
