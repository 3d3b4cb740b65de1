//! Manifests of cached repositories, and the freshness of their tags.
//!
//! - By digest: immutable. Served from the cache if there, else fetched once, verified
//!   against the digest asked, stored; never asked upstream again.
//! - By tag: served from the cache while the tag was confirmed less than
//!   `tag_ttl_seconds` ago. After that a `HEAD` asks the upstream which digest the tag
//!   names now: the same (or one already cached) → the cache, confirmed again; another →
//!   fetched by that digest, verified, stored, the tag moved; 404 → the tag is gone
//!   (removed here too). If the upstream cannot answer (down, timeout, 429, 5xx), the
//!   cached tag is served with a `Warning`; with nothing cached, the client gets the error.

use super::names::Mapped;
use super::upstream::{Upstream, UpstreamError};
use crate::db;
use crate::error::{Error, Result};
use crate::manifest;
use crate::services::manifests::Manifest;
use crate::state::Registry;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::{Method, StatusCode};
use pier_shared::{Algorithm, Digest, ErrorCode, OciError, Reference, Tag};

/// Every manifest type Pier stores, as the `Accept` of upstream requests.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// A manifest served from the mirror, with the `Warning` to send if it is stale.
pub struct Served {
    pub manifest: Manifest,
    pub warning: Option<String>,
}

/// A manifest as the upstream sent it, verified.
struct Fetched {
    digest: Digest,
    media_type: Option<String>,
    body: bytes::Bytes,
}

/// Resolve and serve a manifest of a cached repository (`with_content`: GET, not HEAD).
pub async fn get(
    reg: &Registry,
    mapped: &Mapped,
    reference: &Reference,
    with_content: bool,
) -> Result<Served> {
    let up = std::sync::Arc::clone(reg.mirror.upstream(mapped));
    let repo = super::blobs::ensure_repository(reg, mapped).await?;
    let fresh = |manifest| Served {
        manifest,
        warning: None,
    };
    match reference {
        Reference::Digest(d) => {
            if let Some(m) = load(reg, repo, d, with_content).await? {
                reg.mirror.stats.hit(mapped.local.as_str());
                return Ok(fresh(m));
            }
            reg.mirror.stats.miss(mapped.local.as_str());
            let what = format!("manifest {}@{d}", mapped.remote);
            let f = fetch(reg, &up, mapped, &d.to_string(), Some(d))
                .await
                .map_err(|e| e.into_error(&up, &what))?;
            store(reg, mapped, repo, &f, None).await.map(fresh)
        }
        Reference::Tag(t) => tag(reg, &up, mapped, repo, t, with_content).await,
    }
}

async fn tag(
    reg: &Registry,
    up: &Upstream,
    mapped: &Mapped,
    repo: i64,
    tag: &Tag,
    with_content: bool,
) -> Result<Served> {
    let what = format!("manifest {}:{tag}", mapped.remote);
    let local = cached_tag(reg, repo, tag).await?;
    let now = db::now();
    if let Some((digest, checked)) = &local {
        if now - checked < up.tag_ttl.as_secs() as i64 {
            if let Some(m) = load(reg, repo, digest, with_content).await? {
                reg.mirror.stats.hit(mapped.local.as_str());
                return Ok(Served {
                    manifest: m,
                    warning: None,
                });
            }
        }
    }
    let stale = |e: &UpstreamError| -> Option<String> {
        local.as_ref().map(|_| {
            log::warn!(
                "mirror: {} {e}: serving the cached {}:{tag}",
                up.describe(),
                mapped.local
            );
            super::stale_warning(up, e)
        })
    };
    let answer = match head(up, mapped, tag).await {
        Ok(remote) => remote,
        Err(UpstreamError::NotFound) => {
            if local.is_some() {
                forget_tag(reg, repo, tag).await?;
            }
            return Err(super::upstream_error(
                up,
                &UpstreamError::NotFound,
                &what,
                ErrorCode::ManifestUnknown,
            ));
        }
        Err(e) => match (stale(&e), &local) {
            (Some(w), Some((digest, _))) => {
                return serve_stale(reg, mapped, repo, digest, w, with_content).await
            }
            _ => {
                return Err(super::upstream_error(
                    up,
                    &e,
                    &what,
                    ErrorCode::ManifestUnknown,
                ))
            }
        },
    };
    if let Some(remote) = &answer {
        // The tag names a manifest the cache already holds: no GET.
        if let Some(m) = load(reg, repo, remote, with_content).await? {
            confirm_tag(reg, repo, tag, remote).await?;
            reg.mirror.stats.hit(mapped.local.as_str());
            return Ok(Served {
                manifest: m,
                warning: None,
            });
        }
    }
    reg.mirror.stats.miss(mapped.local.as_str());
    let by = answer
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| tag.to_string());
    match fetch(reg, up, mapped, &by, answer.as_ref()).await {
        Ok(f) => {
            let mut served = store(reg, mapped, repo, &f, Some(tag)).await?;
            if !with_content {
                served.content = None;
            }
            Ok(Served {
                manifest: served,
                warning: None,
            })
        }
        Err(FetchError::Upstream(e)) if e.is_outage() || e == UpstreamError::Denied => {
            match (stale(&e), &local) {
                (Some(w), Some((digest, _))) => {
                    serve_stale(reg, mapped, repo, digest, w, with_content).await
                }
                _ => Err(super::upstream_error(
                    up,
                    &e,
                    &what,
                    ErrorCode::ManifestUnknown,
                )),
            }
        }
        Err(e) => Err(e.into_error(up, &what)),
    }
}

async fn serve_stale(
    reg: &Registry,
    mapped: &Mapped,
    repo: i64,
    digest: &Digest,
    warning: String,
    with_content: bool,
) -> Result<Served> {
    let m = load(reg, repo, digest, with_content)
        .await?
        .ok_or_else(|| Error::oci(ErrorCode::ManifestUnknown, "cached manifest vanished"))?;
    reg.mirror.stats.hit(mapped.local.as_str());
    Ok(Served {
        manifest: m,
        warning: Some(warning),
    })
}

/// The digest a cached tag names and when the upstream last confirmed it.
async fn cached_tag(reg: &Registry, repo: i64, tag: &Tag) -> Result<Option<(Digest, i64)>> {
    let t = tag.to_string();
    let found = reg
        .db
        .run(move |c| {
            let Some(d) = db::tags::resolve(c, repo, &t)? else {
                return Ok::<_, Error>(None);
            };
            let checked = db::mirror::tag_checked(c, repo, &t)?.unwrap_or(0);
            Ok(Some((d, checked)))
        })
        .await?;
    Ok(found.and_then(|(d, checked)| Some((d.parse().ok()?, checked))))
}

/// A cached manifest, with its bytes or (HEAD) without; with `mirror.max_bytes`, its
/// pull is noted for the eviction order (a write: skipped when nothing is ever evicted;
/// every cached manifest got its row when stored).
async fn load(
    reg: &Registry,
    repo: i64,
    digest: &Digest,
    with_content: bool,
) -> Result<Option<Manifest>> {
    let d = digest.to_string();
    let lru = reg.mirror.config.max_bytes > 0;
    let found = reg
        .db
        .run(move |c| {
            let Some(m) = db::manifests::get(c, repo, &d)? else {
                return Ok::<_, Error>(None);
            };
            if lru {
                db::mirror::touch_manifest(c, repo, &d, db::now())?;
            }
            Ok(Some(m))
        })
        .await?;
    Ok(found.map(|m| Manifest {
        digest: digest.clone(),
        media_type: m.media_type,
        size: m.content.len() as u64,
        content: with_content.then_some(m.content),
    }))
}

async fn confirm_tag(reg: &Registry, repo: i64, tag: &Tag, digest: &Digest) -> Result<()> {
    let (t, d) = (tag.to_string(), digest.to_string());
    reg.db
        .transaction(move |c| {
            db::tags::set(c, repo, &t, &d)?;
            db::mirror::set_tag_checked(c, repo, &t, db::now())?;
            Ok::<_, Error>(())
        })
        .await
}

async fn forget_tag(reg: &Registry, repo: i64, tag: &Tag) -> Result<()> {
    let t = tag.to_string();
    reg.db
        .transaction(move |c| {
            db::tags::delete(c, repo, &t)?;
            db::mirror::forget_tag(c, repo, &t)?;
            Ok::<_, Error>(())
        })
        .await
}

/// Which digest the upstream's tag names now (`None` if it did not say).
async fn head(up: &Upstream, mapped: &Mapped, tag: &Tag) -> Result<Option<Digest>, UpstreamError> {
    let res = up
        .send(
            Method::HEAD,
            &mapped.remote,
            &format!("manifests/{tag}"),
            Some(ACCEPT),
        )
        .await?;
    Ok(res
        .headers()
        .get("Docker-Content-Digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok()))
}

enum FetchError {
    Upstream(UpstreamError),
    Local(Error),
}

impl FetchError {
    fn into_error(self, up: &Upstream, what: &str) -> Error {
        match self {
            FetchError::Upstream(e) => {
                super::upstream_error(up, &e, what, ErrorCode::ManifestUnknown)
            }
            FetchError::Local(e) => e,
        }
    }
}

fn bad_upstream(up: &Upstream, message: String) -> FetchError {
    log::warn!("mirror: {}: {message}", up.describe());
    FetchError::Local(Error::Oci(
        OciError::with_message(
            ErrorCode::Unavailable,
            format!("{}: {message}", up.describe()),
        )
        .status(StatusCode::BAD_GATEWAY),
    ))
}

/// GET a manifest by `by` (a digest or tag) and verify it: against `expect` if given, and
/// against the upstream's `Docker-Content-Digest` if it sent one.
async fn fetch(
    reg: &Registry,
    up: &Upstream,
    mapped: &Mapped,
    by: &str,
    expect: Option<&Digest>,
) -> std::result::Result<Fetched, FetchError> {
    let mut res = up
        .send(
            Method::GET,
            &mapped.remote,
            &format!("manifests/{by}"),
            Some(ACCEPT),
        )
        .await
        .map_err(FetchError::Upstream)?;
    let limit = reg.config.limits.manifest_max_bytes;
    let media_type = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let said: Option<Digest> = res
        .headers()
        .get("Docker-Content-Digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = res.body().limit(limit).await.map_err(|e| {
        FetchError::Upstream(UpstreamError::Unreachable(format!("manifest body: {e}")))
    })?;
    let algorithm = expect.map(|d| d.algorithm()).unwrap_or(Algorithm::Sha256);
    let digest = algorithm.digest_of(&body);
    for claimed in expect.into_iter().chain(said.as_ref()) {
        if claimed.algorithm() == algorithm && claimed != &digest {
            return Err(bad_upstream(
                up,
                format!("served a manifest whose digest is {digest}, not {claimed}"),
            ));
        }
    }
    Ok(Fetched {
        digest,
        media_type,
        body,
    })
}

/// Store a fetched manifest in the cache (tagged `tag` if given) and return it.
async fn store(
    reg: &Registry,
    mapped: &Mapped,
    repo: i64,
    f: &Fetched,
    tag: Option<&Tag>,
) -> Result<Manifest> {
    let up = reg.mirror.upstream(mapped);
    let parsed = manifest::parse(f.media_type.as_deref(), &f.body).map_err(|e| {
        Error::Oci(
            OciError::with_message(
                ErrorCode::ManifestInvalid,
                format!(
                    "{} served a manifest Pier cannot store: {}",
                    up.describe(),
                    e.message
                ),
            )
            .status(StatusCode::BAD_GATEWAY),
        )
    })?;
    let (d, body, t) = (
        f.digest.to_string(),
        f.body.clone(),
        tag.map(ToString::to_string),
    );
    let media_type = parsed.media_type.clone();
    reg.db
        .transaction(move |c| {
            crate::services::manifests::insert(c, repo, &d, &parsed, &body)?;
            let now = db::now();
            if let Some(t) = &t {
                db::tags::set(c, repo, t, &d)?;
                db::mirror::set_tag_checked(c, repo, t, now)?;
            }
            db::mirror::touch_manifest(c, repo, &d, now)?;
            Ok::<_, Error>(())
        })
        .await?;
    log::info!(
        "mirror: cached manifest {} of {} from {}",
        f.digest,
        mapped.local,
        up.describe()
    );
    Ok(Manifest {
        digest: f.digest.clone(),
        media_type,
        size: f.body.len() as u64,
        content: Some(f.body.to_vec()),
    })
}
