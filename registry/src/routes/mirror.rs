//! Requests the pull-through mirror serves (`crate::mirror`; docs/mirror.md).
//!
//! ```text
//! GET|HEAD /v2/hub/library/alpine/manifests/3   → the cache, or the upstream's (stored)
//!          (a cached tag served while the upstream is down carries `Warning: 110 …`)
//! GET|HEAD /v2/hub/library/alpine/blobs/sha256:…→ the cache, or streamed while fetched
//! GET      /v2/hub/library/alpine/tags/list     → the cached tags
//! DELETE   …/manifests/<ref>, …/blobs/<digest>  → removes cached content (who may delete)
//! POST|PUT|PATCH on a mirrored repository       → 405 UNSUPPORTED (read-only)
//! GET /pier/v1/mirror/repositories              → the cached repositories and their counts
//! ```

use super::path::Route;
use super::query::Query;
use super::{blobs, headers, manifests, pagination, referrers, tags};
use crate::auth;
use crate::db;
use crate::error::{Error, Result};
use crate::mirror::{self, Mapped};
use crate::state::Registry;
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use pier_shared::{ErrorCode, OciError, RepoName};

/// Writes on a mirrored repository.
pub fn read_only(reg: &Registry, mapped: &Mapped) -> Error {
    let up = reg.mirror.upstream(mapped);
    Error::Oci(
        OciError::with_message(
            ErrorCode::Unsupported,
            format!(
                "{} is a mirror of {}: its repositories are read-only",
                up.prefix, up.url
            ),
        )
        .status(actix_web::http::StatusCode::METHOD_NOT_ALLOWED),
    )
}

/// Serve an authorized request for a mirrored repository (`name`: as the request named it).
pub async fn serve(
    reg: &Registry,
    req: &HttpRequest,
    origin: &crate::notifications::Origin,
    route: &Route,
    name: &RepoName,
    mapped: &Mapped,
    q: &Query,
) -> Result<HttpResponse> {
    let m = req.method();
    let local = &mapped.local;
    let head = m == Method::HEAD;
    let read = m == Method::GET || head;
    match route {
        Route::Manifest(_, r) if read => {
            let s = mirror::manifests::get(reg, mapped, r, !head).await?;
            Ok(manifests::get::respond(s.manifest, head, s.warning))
        }
        Route::Blob(_, d) if read => {
            if mirror::blobs::cached(reg, mapped, d).await? {
                return blobs::get(reg, req, local, d, head).await;
            }
            let mut res = HttpResponse::Ok();
            res.insert_header(headers::digest(d))
                .content_type("application/octet-stream");
            if head {
                let size = mirror::blobs::head(reg, mapped, d).await?;
                return Ok(res.body(headers::HeadBody(size)));
            }
            let Some((size, body)) = mirror::blobs::fetch(reg, mapped, d).await? else {
                return blobs::get(reg, req, local, d, head).await;
            };
            Ok(match size {
                Some(n) => res.no_chunking(n).streaming(body),
                None => res.streaming(body),
            })
        }
        Route::Tags(_) if m == Method::GET => tag_list(reg, mapped, name, q).await,
        Route::Referrers(_, d) if m == Method::GET => referrers::get(reg, local, d, q).await,
        Route::Manifest(_, r) if m == Method::DELETE => {
            manifests::delete::delete(reg, origin, local, r).await
        }
        Route::Blob(_, d) if m == Method::DELETE => blobs::delete(reg, local, d).await,
        _ => Err(read_only(reg, mapped)),
    }
}

/// The upstream's tags, paged as asked; the cached ones (with a `Warning`) if it is down.
async fn tag_list(
    reg: &Registry,
    mapped: &Mapped,
    name: &RepoName,
    q: &Query,
) -> Result<HttpResponse> {
    let p = pagination::parse(q, usize::MAX, reg.config.limits.max_page_size)?;
    let n = q.get("n").is_some().then_some(p.n);
    let up = reg.mirror.upstream(mapped);
    match mirror::tags::upstream(reg, mapped, n, p.last.as_deref()).await {
        Ok((tags, more)) => {
            let mut res = HttpResponse::Ok();
            if let (true, Some(last)) = (more, tags.last()) {
                res.insert_header(pagination::link(
                    &format!("/v2/{name}/tags/list"),
                    n.unwrap_or(tags.len()),
                    last,
                ));
            }
            Ok(res.json(serde_json::json!({ "name": name.as_str(), "tags": tags })))
        }
        Err(e) if e.is_outage() => {
            log::warn!(
                "mirror: {} {e}: serving the cached tags of {}",
                up.describe(),
                mapped.local
            );
            let mut res = tags::list_as(reg, &mapped.local, name, q).await?;
            if let Ok(v) = mirror::stale_warning(up, &e).parse() {
                res.headers_mut()
                    .insert(actix_web::http::header::WARNING, v);
            }
            Ok(res)
        }
        Err(e) => Err(mirror::upstream_error(
            up,
            &e,
            &format!("repository {}", mapped.remote),
            ErrorCode::NameUnknown,
        )),
    }
}

/// Is `name`, which `mirror.default` would map, really the mirror's? Not if its namespace
/// is local: the index says so in token mode; otherwise a repository under it exists here.
/// A blob request goes to the mirror only once its cache exists (a pull fetches the
/// manifest first): a push to a new namespace starts with `HEAD` of its blobs, which must
/// answer 404 from here, not ask (or wait for) the upstream.
pub async fn through_default(
    reg: &Registry,
    route: &Route,
    name: &RepoName,
    mapped: &Mapped,
    grant: &auth::Grant,
) -> Result<bool> {
    let mapped_here = match &*reg.auth {
        auth::Gate::Token(_) => grant.mirrored.iter().any(|n| n == name.as_str()),
        auth::Gate::Open => {
            let ns = name.namespace().to_string();
            let local = reg
                .db
                .run(move |c| db::mirror::namespace_is_local(c, &ns))
                .await?;
            !local
        }
    };
    if !mapped_here || !matches!(route, Route::Blob(..)) {
        return Ok(mapped_here);
    }
    let cache = mapped.local.to_string();
    reg.db
        .run(move |c| {
            Ok::<_, Error>(match db::repositories::find(c, &cache)? {
                Some(id) => db::mirror::is_mirrored(c, id)?,
                None => false,
            })
        })
        .await
}

pub const LIST: &str = "/pier/v1/mirror/repositories";

/// `GET /pier/v1/mirror/repositories`: every cached repository the caller may pull, with
/// its upstream and counts (the web UI shows them). Needs what `_catalog` needs.
pub async fn list(req: HttpRequest, reg: web::Data<Registry>) -> Result<HttpResponse> {
    let need = auth::access::required(&Method::GET, &Route::Catalog, None, None);
    let grant = reg.auth.authorize(req.headers(), &need).await?;
    mirror::stats::flush(&reg).await;
    let rows = reg.db.run(db::mirror::list).await?;
    let repositories: Vec<serde_json::Value> = rows
        .into_iter()
        .filter(|r| grant.catalog.as_ref().is_none_or(|c| c.contains(&r.name)))
        .map(|r| {
            let url = reg
                .mirror
                .config
                .upstream(&r.prefix)
                .map(|u| u.url.clone())
                .unwrap_or_default();
            serde_json::json!({
                "name": r.name,
                "prefix": r.prefix,
                "url": url,
                "hits": r.hits,
                "misses": r.misses,
                "bytes": r.bytes,
                "last_pulled": r.last_pulled,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "repositories": repositories })))
}
