//! The blob upload state machine.
//!
//! ```text
//! start ──► (append)* ──► finish ──► blob visible (storage rename, then DB link)
//!   │            │           └─ digest mismatch ──► upload discarded, DIGEST_INVALID
//!   └────────────┴──► cancel ──► upload discarded
//! ```
//!
//! The database row is the truth: `size` bytes are durable in `uploads/<id>` and
//! `hash_state` is the hasher after exactly those bytes. A request takes the row's lease,
//! streams its body into storage while hashing each byte once, fsyncs, then advances the
//! row. Bytes of a failed request past `size` are cut off by the next writer, so a restart
//! (or another replica) continues where the row says.

use super::repo_id;
use crate::db;
use crate::error::{Error, Result};
use crate::state::Registry;
use crate::storage::{layout, StorageError};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use pier_shared::{Algorithm, Digest, ErrorCode, Hasher, OciError, RepoName};
use std::pin::Pin;
use uuid::Uuid;

/// A request body (not `Send`: actix payloads live on one worker thread).
pub type Body = Pin<Box<dyn Stream<Item = std::result::Result<Bytes, std::io::Error>>>>;

/// An inclusive byte range a client claims for a chunk (`Content-Range: start-end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRange {
    pub start: u64,
    pub end: u64,
}

fn unknown_upload(id: &Uuid) -> Error {
    Error::oci(ErrorCode::BlobUploadUnknown, format!("upload {id} unknown"))
}

/// Error for a chunk that does not start where the upload ends. The route adds
/// `Location` and `Range` so the client can resume.
pub fn out_of_order(size: u64) -> Error {
    Error::oci(
        ErrorCode::RangeInvalid,
        format!("chunk must start at byte {size}"),
    )
}

/// Open a new upload session; `algorithm` is what the body is hashed with on the way in.
pub async fn start(reg: &Registry, name: &RepoName, algorithm: Algorithm) -> Result<Uuid> {
    let id = Uuid::new_v4();
    let name = name.clone();
    let state = algorithm.hasher().save_state();
    reg.db
        .transaction(move |c| {
            let repo = db::repositories::find_or_create(c, name.as_str())?;
            db::uploads::create(c, &id.to_string(), repo, algorithm.as_str(), &state)?;
            Ok::<_, Error>(())
        })
        .await?;
    Ok(id)
}

/// Bytes received so far.
pub async fn status(reg: &Registry, name: &RepoName, id: &Uuid) -> Result<u64> {
    let (name, sid) = (name.clone(), id.to_string());
    let up = reg
        .db
        .run(move |c| {
            let repo = repo_id(c, &name)?;
            Ok::<_, Error>(db::uploads::get(c, repo, &sid)?)
        })
        .await?;
    up.map(|u| u.size as u64).ok_or_else(|| unknown_upload(id))
}

/// A request's hold on an upload (see `db::uploads`): the row as it was when taken and
/// the random owner id that guards every later update.
struct Lease {
    up: db::uploads::Upload,
    owner: String,
}

/// Take the upload's lease; the caller must [`release`] it or advance/end the upload.
async fn acquire(reg: &Registry, name: &RepoName, id: &Uuid) -> Result<Lease> {
    let (name, sid) = (name.clone(), id.to_string());
    let owner = Uuid::new_v4().to_string();
    let o = owner.clone();
    let got = reg
        .db
        .run(move |c| {
            let repo = repo_id(c, &name)?;
            match db::uploads::acquire(c, repo, &sid, &o)? {
                Some(up) => Ok(Ok(up)),
                None => Ok::<_, Error>(Err(db::uploads::is_busy(c, repo, &sid)?)),
            }
        })
        .await?;
    match got {
        Ok(up) => Ok(Lease { up, owner }),
        Err(true) => Err(Error::oci(
            ErrorCode::BlobUploadInvalid,
            format!("upload {id} is being written by another request; retry shortly"),
        )),
        Err(false) => Err(unknown_upload(id)),
    }
}

async fn release(reg: &Registry, id: &Uuid, lease: &Lease) {
    let (sid, owner) = (id.to_string(), lease.owner.clone());
    if let Err(e) = reg
        .db
        .run(move |c| db::uploads::release(c, &sid, &owner))
        .await
    {
        log::warn!("could not release upload {id}: {e}");
    }
}

/// Renew the lease while a long body streams in.
const RENEW_EVERY: std::time::Duration =
    std::time::Duration::from_secs(db::uploads::LEASE_SECONDS as u64 / 3);

async fn renew(reg: &Registry, id: &Uuid, lease: &Lease) -> Result<()> {
    let (sid, owner) = (id.to_string(), lease.owner.clone());
    if reg
        .db
        .run(move |c| db::uploads::renew(c, &sid, &owner))
        .await?
    {
        Ok(())
    } else {
        Err(lost(id))
    }
}

fn lost(id: &Uuid) -> Error {
    Error::oci(
        ErrorCode::BlobUploadUnknown,
        format!("upload {id} was cancelled or taken over while this request ran"),
    )
}

/// The hasher after the upload's first `size` bytes: from the saved state, or (if the
/// state is missing, e.g. written by an older version) by hashing the stored bytes again.
async fn hasher_for(reg: &Registry, up: &db::uploads::Upload, id: &Uuid) -> Result<Hasher> {
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
    hash_stored(reg, id, up.size as u64, alg).await
}

async fn hash_stored(reg: &Registry, id: &Uuid, size: u64, alg: Algorithm) -> Result<Hasher> {
    let mut h = alg.hasher();
    if size > 0 {
        let path = layout::upload(id);
        let mut s = reg.storage.read(&path, 0, Some(size)).await?;
        while let Some(chunk) = s.next().await {
            h.update(&chunk.map_err(|source| StorageError::Io {
                op: "read",
                path: path.to_string(),
                source,
            })?);
        }
    }
    Ok(h)
}

/// Stream `body` onto the end of the upload, hashing on the way. Returns the new durable
/// size and the hasher; the row is not advanced here.
async fn write_body(
    reg: &Registry,
    lease: &Lease,
    id: &Uuid,
    range: Option<ChunkRange>,
    mut body: Body,
) -> Result<(u64, Hasher)> {
    let up = &lease.up;
    let start = up.size as u64;
    if let Some(r) = range {
        if r.start != start || r.end < r.start {
            return Err(out_of_order(start));
        }
    }
    let mut hasher = hasher_for(reg, up, id).await?;
    let mut w = match reg.storage.writer(&layout::upload(id), start).await {
        Ok(w) => w,
        // The row says bytes exist that storage does not have (e.g. a crash right after
        // the blob was moved into place): the client must start the upload again.
        Err(StorageError::NotFound(_)) => return Err(unknown_upload(id)),
        Err(e) => return Err(e.into()),
    };
    let mut renewed = std::time::Instant::now();
    while let Some(chunk) = body.next().await {
        if renewed.elapsed() > RENEW_EVERY {
            if let Err(e) = renew(reg, id, lease).await {
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
            return Err(e.into());
        }
    }
    let size = w.commit().await?;
    if let Some(r) = range {
        // Checked: `end` comes from the client and may be u64::MAX.
        if r.end.checked_add(1) != Some(size) {
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
    Ok((size, hasher))
}

/// Append a chunk (PATCH). Returns the new size.
pub async fn append(
    reg: &Registry,
    name: &RepoName,
    id: &Uuid,
    range: Option<ChunkRange>,
    body: Body,
) -> Result<u64> {
    let lease = acquire(reg, name, id).await?;
    let result = async {
        let (size, hasher) = write_body(reg, &lease, id, range, body).await?;
        let (sid, owner, state) = (id.to_string(), lease.owner.clone(), hasher.save_state());
        let advanced = reg
            .db
            .run(move |c| db::uploads::advance(c, &sid, &owner, size as i64, &state))
            .await?;
        if advanced {
            Ok(size)
        } else {
            Err(lost(id))
        }
    }
    .await;
    if result.is_err() {
        release(reg, id, &lease).await;
    }
    result
}

/// Close the upload with an optional last chunk (PUT ?digest=), verify the digest and make
/// the blob visible in the repository. Returns the blob size.
pub async fn finish(
    reg: &Registry,
    name: &RepoName,
    id: &Uuid,
    digest: &Digest,
    range: Option<ChunkRange>,
    body: Body,
) -> Result<u64> {
    let lease = acquire(reg, name, id).await?;
    let result = async {
        let (size, hasher) = write_body(reg, &lease, id, range, body).await?;
        let computed = if hasher.algorithm() == digest.algorithm() {
            hasher.finish()
        } else {
            hash_stored(reg, id, size, digest.algorithm())
                .await?
                .finish()
        };
        if &computed != digest {
            discard(reg, id).await?;
            return Err(Error::Oci(
                OciError::with_message(
                    ErrorCode::DigestInvalid,
                    format!("upload has digest {computed}, not {digest}"),
                )
                .detail(serde_json::json!({ "digest": digest.to_string() })),
            ));
        }
        commit_blob(reg, &lease, id, digest, size).await?;
        Ok(size)
    }
    .await;
    if matches!(&result, Err(e) if !is_digest_invalid(e)) {
        release(reg, id, &lease).await;
    }
    result
}

fn is_digest_invalid(e: &Error) -> bool {
    matches!(e, Error::Oci(o) if o.code == ErrorCode::DigestInvalid)
}

/// Make verified bytes a visible blob, safely against a concurrent garbage collection
/// (docs/deletion.md, "The race"):
///
/// 1. claim the digest on the session row (and cancel a pending GC file delete of it);
/// 2. move the bytes into place, or keep an existing blob file (content-addressed: the
///    same bytes; GC can no longer delete it while the claim stands);
/// 3. in one transaction: end the session, insert the `blobs` row, link it.
async fn commit_blob(
    reg: &Registry,
    lease: &Lease,
    id: &Uuid,
    digest: &Digest,
    size: u64,
) -> Result<()> {
    let (sid, owner, d) = (id.to_string(), lease.owner.clone(), digest.to_string());
    let claimed = reg
        .db
        .transaction(move |c| Ok::<_, Error>(db::uploads::claim_digest(c, &sid, &owner, &d)?))
        .await?;
    if !claimed {
        return Err(lost(id));
    }
    let (from, to) = (layout::upload(id), layout::blob(digest));
    let moved = match reg.storage.stat(&to).await? {
        Some(existing) if existing == size => reg.storage.delete(&from).await,
        _ => reg.storage.rename(&from, &to).await,
    };
    match moved {
        Ok(()) => {}
        Err(StorageError::NotFound(_)) => return Err(lost(id)),
        Err(e) => return Err(e.into()),
    }
    let (sid, owner, d) = (id.to_string(), lease.owner.clone(), digest.to_string());
    let repository_id = lease.up.repository_id;
    let owned = reg
        .db
        .transaction(move |c| {
            let owned = db::uploads::delete_owned(c, &sid, &owner)?;
            // The file is in place either way: record it, so that GC can account for it.
            db::blobs::insert(c, &d, size as i64)?;
            if owned {
                db::blobs::link(c, repository_id, &d)?;
            } else {
                db::blobs::mark_unreferenced(c, &d)?;
            }
            Ok::<_, Error>(owned)
        })
        .await?;
    if owned {
        Ok(())
    } else {
        Err(lost(id))
    }
}

/// Forget an upload: its row and its bytes.
async fn discard(reg: &Registry, id: &Uuid) -> Result<()> {
    let sid = id.to_string();
    reg.db.run(move |c| db::uploads::delete(c, &sid)).await?;
    reg.storage.delete(&layout::upload(id)).await?;
    Ok(())
}

/// Cancel an upload (DELETE on its location).
pub async fn cancel(reg: &Registry, name: &RepoName, id: &Uuid) -> Result<()> {
    status(reg, name, id).await?;
    discard(reg, id).await
}

/// Single-request upload (POST ?digest=): a session opened and finished at once.
pub async fn upload_whole(
    reg: &Registry,
    name: &RepoName,
    digest: &Digest,
    body: Body,
) -> Result<u64> {
    let id = start(reg, name, digest.algorithm()).await?;
    let result = finish(reg, name, &id, digest, None, body).await;
    if result.is_err() {
        if let Err(e) = discard(reg, &id).await {
            log::warn!("could not discard upload {id}: {e}");
        }
    }
    result
}

/// The digest of the bytes received so far (from the session's saved hash state): for
/// uploads whose digest the client does not name (legacy v1 layers).
pub async fn digest_so_far(reg: &Registry, name: &RepoName, id: &Uuid) -> Result<Digest> {
    let (name, sid) = (name.clone(), id.to_string());
    let up = reg
        .db
        .run(move |c| {
            let repo = repo_id(c, &name)?;
            Ok::<_, Error>(db::uploads::get(c, repo, &sid)?)
        })
        .await?
        .ok_or_else(|| unknown_upload(id))?;
    Ok(hasher_for(reg, &up, id).await?.finish())
}
