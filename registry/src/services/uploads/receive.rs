//! Receiving one request's body into an upload: the upload's storage state as the database
//! records it, the hasher restored from it, and the body streamed into a storage writer
//! while hashed once (docs/uploads.md).

use super::{out_of_order, unknown_upload, ChunkRange, Lease, RENEW_EVERY};
use crate::db;
use crate::error::{Error, Result};
use crate::state::Registry;
use crate::storage::{layout, ByteStream, Multipart, Part, StorageError, Tail, UploadState};
use crate::storage::{StoragePath, UploadWriter};
use futures_util::StreamExt;
use pier_shared::{Algorithm, ErrorCode, Hasher};
use uuid::Uuid;

/// The storage state of upload row `up` with its recorded `parts`.
pub(super) fn state_of(up: &db::uploads::Upload, parts: &[db::uploads::PartRow]) -> UploadState {
    let multipart = match (&up.multipart_id, &up.multipart_key) {
        (Some(id), Some(key)) => StoragePath::from_listed(key).map(|key| Multipart {
            id: id.clone(),
            key,
        }),
        _ => None,
    };
    let tail = up
        .tail_id
        .as_deref()
        .and_then(|t| Uuid::parse_str(t).ok())
        .map(|id| Tail {
            id,
            size: up.tail_size as u64,
        });
    UploadState {
        size: up.size as u64,
        multipart,
        parts: parts
            .iter()
            .map(|p| Part {
                number: p.number as u32,
                etag: p.etag.clone(),
                size: p.size as u64,
            })
            .collect(),
        tail,
    }
}

/// What the database records after a request moved the upload from `old` to `new`.
pub(super) fn progress(
    old: &UploadState,
    new: &UploadState,
    hasher: &Hasher,
) -> db::uploads::Progress {
    db::uploads::Progress {
        size: new.size as i64,
        hash_state: hasher.save_state(),
        multipart_id: new.multipart.as_ref().map(|m| m.id.clone()),
        multipart_key: new.multipart.as_ref().map(|m| m.key.to_string()),
        tail_id: new.tail.as_ref().map(|t| t.id.hyphenated().to_string()),
        tail_size: new.tail.as_ref().map_or(0, |t| t.size as i64),
        new_parts: new.parts[old.parts.len().min(new.parts.len())..]
            .iter()
            .map(|p| db::uploads::PartRow {
                number: p.number as i32,
                etag: p.etag.clone(),
                size: p.size as i64,
            })
            .collect(),
    }
}

/// The hasher after the upload's first `size` bytes: from the saved state, or (if the
/// state is missing, e.g. written by an older version) by hashing the stored bytes again
/// (the filesystem driver's upload file; an S3 upload always has its state saved).
pub(super) async fn hasher_for(
    reg: &Registry,
    up: &db::uploads::Upload,
    id: &Uuid,
) -> Result<Hasher> {
    let alg: Algorithm = up
        .algorithm
        .parse()
        .map_err(|_| Error::oci(ErrorCode::Unknown, "bad upload algorithm"))?;
    if let Some(h) = up
        .hash_state
        .as_deref()
        .and_then(|s| Hasher::restore_state(alg, s))
    {
        return Ok(h);
    }
    log::warn!(
        "upload {id}: no usable hash state, hashing {} stored bytes again",
        up.size
    );
    let mut h = alg.hasher();
    if up.size > 0 {
        let path = layout::upload(id);
        hash_stream(
            &mut h,
            reg.storage.read(&path, 0, Some(up.size as u64)).await?,
            &path,
        )
        .await?;
    }
    Ok(h)
}

/// Feed a stream of stored bytes to `h`.
pub(super) async fn hash_stream(
    h: &mut Hasher,
    mut s: ByteStream,
    path: &StoragePath,
) -> Result<()> {
    while let Some(chunk) = s.next().await {
        h.update(&chunk.map_err(|source| StorageError::Io {
            op: "read",
            path: path.to_string(),
            source,
        })?);
    }
    Ok(())
}

/// A storage error while continuing upload `id`: `NotFound` means the bytes or the
/// multipart upload the row names are gone (e.g. completed by a finishing request that
/// stopped before its row went), so the client must start again.
pub(super) fn gone(id: &Uuid, e: StorageError) -> Error {
    match e {
        StorageError::NotFound(_) => unknown_upload(id),
        e => e.into(),
    }
}

/// Stream `body` onto the end of the upload, hashing on the way, and check the client's
/// `Content-Range` against what arrived. Returns the writer (to commit or seal) and the
/// hasher; nothing is recorded here.
pub(super) async fn receive(
    reg: &Registry,
    lease: &Lease,
    id: &Uuid,
    range: Option<ChunkRange>,
    mut body: super::Body,
    target: Option<&StoragePath>,
) -> Result<(Box<dyn UploadWriter>, Hasher)> {
    let start = lease.state.size;
    if let Some(r) = range {
        if r.start != start || r.end < r.start {
            return Err(out_of_order(start));
        }
    }
    let mut hasher = hasher_for(reg, &lease.up, id).await?;
    let mut w = match reg.storage.append(id, &lease.state, target).await {
        Ok(w) => w,
        // The row says bytes exist that storage does not have (e.g. a crash right after
        // the blob was moved into place): the client must start the upload again.
        Err(e) => return Err(gone(id, e)),
    };
    let mut renewed = std::time::Instant::now();
    while let Some(chunk) = body.next().await {
        if renewed.elapsed() > RENEW_EVERY {
            if let Err(e) = super::renew(reg, id, lease).await {
                let _ = w.cancel().await;
                return Err(e);
            }
            renewed = std::time::Instant::now();
        }
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                w.cancel().await?;
                return Err(Error::oci(
                    ErrorCode::BlobUploadInvalid,
                    format!("reading the request body failed: {e}"),
                ));
            }
        };
        hasher.update(&chunk);
        if let Err(e) = w.write(chunk).await {
            let _ = w.cancel().await;
            return Err(gone(id, e));
        }
    }
    let size = w.size();
    if let Some(r) = range {
        // Checked: `end` comes from the client and may be u64::MAX.
        if r.end.checked_add(1) != Some(size) {
            let _ = w.cancel().await;
            return Err(Error::oci(
                ErrorCode::SizeInvalid,
                format!(
                    "Content-Range {}-{} announced {} bytes, the body had {}",
                    r.start,
                    r.end,
                    (r.end - r.start).saturating_add(1),
                    size - start
                ),
            ));
        }
    }
    Ok((w, hasher))
}
