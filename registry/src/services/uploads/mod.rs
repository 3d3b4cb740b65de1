//! The blob upload state machine.
//!
//! ```text
//! start ──► (append)* ──► finish ──► blob visible (storage rename, then DB link)
//!   │            │           └─ digest mismatch ──► upload discarded, DIGEST_INVALID
//!   └────────────┴──► cancel ──► upload discarded
//! ```
//!
//! The database row is the truth: `size` bytes are durable in storage (where, for S3, the
//! row's multipart upload, `upload_parts` and tail say) and `hash_state` is the hasher
//! after exactly those bytes. A request takes the row's lease, streams its body into
//! storage while hashing each byte once (`receive.rs`), makes it durable, then advances
//! the row. Bytes of a failed request past `size` are ignored or cut off by the next
//! writer, so a restart (or another replica) continues where the row says.

mod receive;

use super::repo_id;
use crate::db;
use crate::error::{Error, Result};
use crate::state::Registry;
use crate::storage::{layout, Multipart, Sealed, StorageError, UploadState};
use bytes::Bytes;
use futures_util::Stream;
use pier_shared::{Algorithm, Digest, ErrorCode, OciError, RepoName};
use receive::{gone, hash_stream, hasher_for, progress, receive, state_of};
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

pub(super) fn unknown_upload(id: &Uuid) -> Error {
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
    Ok(find(reg, name, id).await?.size as u64)
}

/// The upload's row, in the repository `name`; BLOB_UPLOAD_UNKNOWN if there is none.
async fn find(reg: &Registry, name: &RepoName, id: &Uuid) -> Result<db::uploads::Upload> {
    let (name, sid) = (name.clone(), id.to_string());
    reg.db
        .run(move |c| {
            let repo = repo_id(c, &name)?;
            Ok::<_, Error>(db::uploads::get(c, repo, &sid)?)
        })
        .await?
        .ok_or_else(|| unknown_upload(id))
}

/// A request's hold on an upload (see `db::uploads`): the row as it was when taken, its
/// storage state, and the random owner id that guards every later update.
struct Lease {
    up: db::uploads::Upload,
    state: UploadState,
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
                Some(up) => {
                    let parts = db::uploads::parts(c, &sid)?;
                    Ok(Ok((up, parts)))
                }
                None => Ok::<_, Error>(Err(db::uploads::is_busy(c, repo, &sid)?)),
            }
        })
        .await?;
    match got {
        Ok((up, parts)) => Ok(Lease {
            state: state_of(&up, &parts),
            up,
            owner,
        }),
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
pub(super) const RENEW_EVERY: std::time::Duration =
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
        let (w, hasher) = receive(reg, &lease, id, range, body, None).await?;
        let new = w.commit().await.map_err(|e| gone(id, e))?;
        let (sid, owner) = (id.to_string(), lease.owner.clone());
        let p = progress(&lease.state, &new, &hasher);
        let advanced = reg
            .db
            .transaction(move |c| Ok::<_, Error>(db::uploads::advance(c, &sid, &owner, &p)?))
            .await?;
        if !advanced {
            return Err(lost(id));
        }
        if let Err(e) = reg.storage.forget(id, &lease.state, &new).await {
            log::warn!("upload {id}: could not remove superseded bytes: {e}");
        }
        Ok(new.size)
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
        // Knowing the digest, S3 can write a large body straight to the blob key (as an
        // unfinished multipart upload, completed only once verified).
        let same_alg = lease.up.algorithm == digest.algorithm().as_str();
        let target = same_alg.then(|| layout::blob(digest));
        let (w, hasher) = receive(reg, &lease, id, range, body, target.as_ref()).await?;
        let mut sealed = w.seal().await.map_err(|e| gone(id, e))?;
        let size = sealed.size();
        let computed = if hasher.algorithm() == digest.algorithm() {
            hasher.finish()
        } else {
            let mut h = digest.algorithm().hasher();
            hash_stream(&mut h, sealed.read().await?, &layout::upload(id)).await?;
            h.finish()
        };
        if &computed != digest {
            sealed.discard().await?;
            discard(reg, id, None).await?;
            return Err(Error::Oci(
                OciError::with_message(
                    ErrorCode::DigestInvalid,
                    format!("upload has digest {computed}, not {digest}"),
                )
                .detail(serde_json::json!({ "digest": digest.to_string() })),
            ));
        }
        commit_blob(reg, &lease, id, digest, sealed).await?;
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
    sealed: Box<dyn Sealed>,
) -> Result<()> {
    let size = sealed.size();
    let (sid, owner, d) = (id.to_string(), lease.owner.clone(), digest.to_string());
    let claimed = reg
        .db
        .transaction(move |c| Ok::<_, Error>(db::uploads::claim_digest(c, &sid, &owner, &d)?))
        .await?;
    if !claimed {
        return Err(lost(id));
    }
    let to = layout::blob(digest);
    let moved = match reg.storage.stat(&to).await? {
        Some(existing) if existing == size => sealed.discard().await,
        _ => sealed.publish(&to).await,
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

/// Forget an upload: its bytes (with `multipart`, the S3 multipart upload), then its row.
/// Bytes first: on a full disk the row cannot be deleted until space is freed, and the
/// bytes are that space; a row left behind expires with the upload, bytes without a row
/// would be found by nothing.
async fn discard(reg: &Registry, id: &Uuid, multipart: Option<&Multipart>) -> Result<()> {
    let sid = id.to_string();
    reg.storage.discard(id, multipart).await?;
    reg.db.run(move |c| db::uploads::delete(c, &sid)).await?;
    Ok(())
}

/// Cancel an upload (DELETE on its location).
pub async fn cancel(reg: &Registry, name: &RepoName, id: &Uuid) -> Result<()> {
    let up = find(reg, name, id).await?;
    let state = state_of(&up, &[]);
    discard(reg, id, state.multipart.as_ref()).await
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
        if let Err(e) = discard(reg, &id, None).await {
            log::warn!("could not discard upload {id}: {e}");
        }
    }
    result
}

/// The digest of the bytes received so far (from the session's saved hash state): for
/// uploads whose digest the client does not name (legacy v1 layers).
pub async fn digest_so_far(reg: &Registry, name: &RepoName, id: &Uuid) -> Result<Digest> {
    let up = find(reg, name, id).await?;
    Ok(hasher_for(reg, &up, id).await?.finish())
}
