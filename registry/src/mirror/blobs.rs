//! Blobs of cached repositories: served from the cache when there, linked from another
//! repository's copy when the registry has the bytes already, else fetched (flight.rs).

use super::names::Mapped;
use crate::db;
use crate::error::{Error, Result};
use crate::state::Registry;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::http::Method;
use bytes::Bytes;
use futures_util::Stream;
use pier_shared::{Digest, ErrorCode, RepoName};

/// The cached repository's id, creating it (and its `mirror_repositories` row) if needed.
/// A repository cached for the first time wakes the registration with the index.
pub async fn ensure_repository(reg: &Registry, mapped: &Mapped) -> Result<i64> {
    // Every pull of a cached repository comes here: read first, so that only the first
    // pull of a repository takes the write lock.
    let name = mapped.local.to_string();
    let known = reg
        .db
        .run(move |c| {
            Ok::<_, Error>(match db::repositories::find(c, &name)? {
                Some(id) if db::mirror::is_mirrored(c, id)? => Some(id),
                _ => None,
            })
        })
        .await?;
    if let Some(id) = known {
        return Ok(id);
    }
    let (local, prefix) = (
        mapped.local.to_string(),
        reg.mirror.upstream(mapped).prefix.clone(),
    );
    let (id, created) = reg
        .db
        .transaction(move |c| {
            let id = db::repositories::find_or_create(c, &local)?;
            let created = db::mirror::ensure(c, id, &prefix, db::now())?;
            Ok::<_, Error>((id, created))
        })
        .await?;
    if created {
        reg.mirror.registrar.notify_one();
    }
    Ok(id)
}

/// Is the blob servable from the cached repository now? If the registry holds its bytes
/// for another repository, it is linked here (as a mount would) and counts as cached.
pub async fn cached(reg: &Registry, mapped: &Mapped, digest: &Digest) -> Result<bool> {
    let id = ensure_repository(reg, mapped).await?;
    let d = digest.to_string();
    let linked_now = reg
        .db
        .run(move |c| Ok::<_, Error>(db::blobs::linked_size(c, id, &d)?.is_some()))
        .await?;
    if linked_now {
        reg.mirror.stats.hit(mapped.local.as_str());
        return Ok(true);
    }
    let d = digest.to_string();
    let linked = reg
        .db
        .transaction(move |c| {
            if db::blobs::linked_size(c, id, &d)?.is_some() {
                return Ok::<_, Error>(true);
            }
            // The row read and the link made in one write transaction: GC cannot take
            // the blob in between (docs/deletion.md, "The race").
            if db::blobs::size(c, &d)?.is_some() {
                db::blobs::link(c, id, &d)?;
                return Ok(true);
            }
            Ok(false)
        })
        .await?;
    if linked {
        reg.mirror.stats.hit(mapped.local.as_str());
    }
    Ok(linked)
}

/// Link a blob another repository's flight stored into `local` (best effort: a later
/// pull links it anyway).
pub async fn link_cached(reg: &Registry, local: &RepoName, digest: &Digest) {
    let (local, d) = (local.to_string(), digest.to_string());
    let linked = reg
        .db
        .transaction(move |c| {
            let id = db::repositories::find_or_create(c, &local)?;
            if db::blobs::size(c, &d)?.is_some() {
                db::blobs::link(c, id, &d)?;
            }
            Ok::<_, Error>(())
        })
        .await;
    if let Err(e) = linked {
        log::warn!("mirror: could not link blob {digest}: {e}");
    }
}

/// Fetch an uncached blob (joining a fetch in progress): its size if the upstream
/// announced one, and the body for this client. `None`: a fetch that just ended stored it,
/// and it is now linked into `mapped.local`: serve it from storage.
#[allow(clippy::type_complexity)]
pub async fn fetch(
    reg: &Registry,
    mapped: &Mapped,
    digest: &Digest,
) -> Result<
    Option<(
        Option<u64>,
        impl Stream<Item = Result<Bytes, std::io::Error>>,
    )>,
> {
    let fetched = super::flight::fetch(reg, mapped, digest).await?;
    if fetched.is_none() {
        link_cached(reg, &mapped.local, digest).await;
    }
    Ok(fetched)
}

/// `HEAD` of an uncached blob: its size at the upstream, without fetching it.
pub async fn head(reg: &Registry, mapped: &Mapped, digest: &Digest) -> Result<u64> {
    let up = reg.mirror.upstream(mapped);
    reg.mirror.stats.miss(mapped.local.as_str());
    let res = up
        .send(
            Method::HEAD,
            &mapped.remote,
            &format!("blobs/{digest}"),
            None,
        )
        .await
        .map_err(|e| {
            super::upstream_error(up, &e, &format!("blob {digest}"), ErrorCode::BlobUnknown)
        })?;
    res.headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            Error::oci(
                ErrorCode::Unavailable,
                format!("{} gave no size for blob {digest}", up.describe()),
            )
        })
}
