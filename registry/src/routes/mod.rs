//! HTTP only: parse the request into typed values, call one service, build the response.
//!
//! Every `/v2/…` request enters [`dispatch`], which parses the raw path into a [`Route`],
//! asks `crate::auth` whether the request may do what (method, route, query) needs, and
//! picks the handler by method. Handlers never write SQL or error bodies; services
//! never see actix types. Rule: routes → services → db / storage, never the other way.

mod base;
mod blobs;
mod catalog;
mod headers;
pub mod health;
mod manifests;
mod mirror;
mod notifications;
pub mod origin;
mod pagination;
pub mod path;
mod query;
mod referrers;
mod repository;
mod tags;
mod uploads;
mod v1;

use crate::auth;
use crate::error::{Error, Result};
use crate::mirror::Target;
use crate::state::Registry;
use actix_web::http::Method;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use path::Route;
use pier_shared::{ErrorCode, OciError};

// The header parsers the handlers call, public for the fuzz targets (fuzz/).
pub use blobs::parse_range;
pub use headers::API_VERSION_HEADER;
pub use uploads::parse_content_range;

/// Register the `/v2` API, Pier's own `/pier/v1` endpoints, the legacy `/v1` protocol and
/// the health endpoints (`/healthz`, `/readyz`: no auth, for load balancers).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(health::HEALTHZ, web::get().to(health::healthz));
    cfg.route(health::READYZ, web::get().to(health::readyz));
    v1::configure(cfg);
    // A scope is a plain prefix match; a `{tail:.*}` resource ran a regex on every request
    // (6% of the registry's CPU under manifest load, issue #6).
    cfg.service(web::scope("/v2").default_service(web::to(dispatch)));
    cfg.route(mirror::LIST, web::get().to(mirror::list));
    cfg.route(notifications::PATH, web::get().to(notifications::get));
    cfg.service(
        web::resource(repository::PATH)
            .route(web::delete().to(repository::delete))
            .default_service(web::to(not_found)),
    );
}

/// Anything outside `/v2`: 404 in the OCI error format.
pub async fn not_found() -> HttpResponse {
    use actix_web::ResponseError;
    OciError::with_message(ErrorCode::Unsupported, "no such endpoint")
        .status(actix_web::http::StatusCode::NOT_FOUND)
        .error_response()
}

/// `[rate_limit]`: 429 `TOOMANYREQUESTS` with `Retry-After` when the bucket is empty.
fn rate_limit(reg: &Registry, req: &HttpRequest, subject: Option<&str>) -> Result<()> {
    use pier_shared::rate_limit::Who;
    if !reg.rate_limit.enabled() {
        return Ok(());
    }
    let who = match subject {
        Some(s) => Who::User(s.to_string()),
        None => Who::Anonymous(pier_shared::client::client_key(reg.proxies.client_of(req))),
    };
    reg.rate_limit.check(who).map_err(|secs| {
        Error::Oci(
            OciError::with_message(
                ErrorCode::TooManyRequests,
                format!("request rate limit exceeded; retry in {secs} seconds"),
            )
            .header(actix_web::http::header::RETRY_AFTER, secs.to_string()),
        )
    })
}

async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    reg: web::Data<Registry>,
) -> Result<HttpResponse> {
    let raw = req.uri().path();
    let rest = raw
        .strip_prefix("/v2")
        .map(|r| r.strip_prefix('/').unwrap_or(r))
        .unwrap_or("");
    let route = path::parse(rest);
    req.extensions_mut()
        .insert(crate::metrics::route_template(route.as_ref().ok()));
    let route = route?;
    let mut q = query::Query::parse(req.query_string())?;
    let reg = reg.get_ref();
    let m = req.method();
    let target = match route.repository() {
        Some(name) if reg.mirror.enabled() => reg.mirror.target(name, q.get("ns")),
        _ => Target::Local,
    };
    // What is authorized: the route as named, except for `?ns=`-mapped names (their
    // challenge names the cache's local name, so the token covers that).
    let authorized = match &target {
        Target::Mirrored { mapped, auth } => {
            if matches!(*m, Method::POST | Method::PUT | Method::PATCH) {
                return Err(mirror::read_only(reg, mapped));
            }
            route.with_repository(auth.clone())
        }
        _ => route.clone(),
    };
    let need = auth::access::required(m, &authorized, q.get("mount"), q.get("from"));
    // Anonymous callers are counted before authorization, users once their token is verified.
    let bearer = matches!(
        auth::header::credentials(req.headers()),
        auth::header::Credentials::Bearer(_)
    );
    if !bearer {
        rate_limit(reg, &req, None)?;
    }
    let grant = reg.auth.authorize(req.headers(), &need).await?;
    if bearer {
        rate_limit(reg, &req, grant.subject.as_deref())?;
    }
    let mirrored = match target {
        Target::Local => None,
        Target::Mirrored { mapped, .. } => Some(mapped),
        Target::Default(mapped) if m == Method::GET || m == Method::HEAD => {
            let name = route
                .repository()
                .expect("a mirror target has a repository");
            mirror::through_default(reg, &route, name, &mapped, &grant)
                .await?
                .then_some(mapped)
        }
        Target::Default(_) => None,
    };
    let origin = origin::of(reg, &req, grant.subject.as_deref());
    if let Some(mapped) = mirrored {
        let name = route
            .repository()
            .expect("a mirror target has a repository");
        return mirror::serve(reg, &req, &origin, &route, name, &mapped, &q).await;
    }
    if need.mount && !grant.mount {
        // Not allowed to read the source: a plain upload session instead, never a mount.
        q = q.without(&["mount", "from"]);
    }
    match route {
        Route::Base if m == Method::GET || m == Method::HEAD => Ok(base::get()),
        Route::Catalog if m == Method::GET => catalog::get(reg, &q, grant.catalog).await,
        Route::Tags(name) if m == Method::GET => tags::list(reg, &name, &q).await,
        Route::Referrers(name, d) if m == Method::GET => referrers::get(reg, &name, &d, &q).await,
        Route::Manifest(name, r) if m == Method::GET || m == Method::HEAD => {
            manifests::get::get(reg, &origin, &name, &r, m == Method::HEAD).await
        }
        Route::Manifest(name, r) if m == Method::PUT => {
            manifests::put::put(reg, &req, &origin, &name, &r, &q, payload).await
        }
        Route::Manifest(name, r) if m == Method::DELETE => {
            manifests::delete::delete(reg, &origin, &name, &r).await
        }
        Route::Blob(name, d) if m == Method::GET || m == Method::HEAD => {
            blobs::get(reg, &req, &name, &d, m == Method::HEAD).await
        }
        Route::Blob(name, d) if m == Method::DELETE => blobs::delete(reg, &name, &d).await,
        Route::UploadStart(name) if m == Method::POST => {
            uploads::start::post(reg, &origin, &name, &q, payload).await
        }
        Route::Upload(name, id) if m == Method::GET => uploads::status::get(reg, &name, id).await,
        Route::Upload(name, id) if m == Method::PATCH => {
            uploads::patch::patch(reg, &req, &name, id, payload).await
        }
        Route::Upload(name, id) if m == Method::PUT => {
            uploads::finish::put(reg, &req, &name, id, &q, payload).await
        }
        Route::Upload(name, id) if m == Method::DELETE => {
            uploads::cancel::delete(reg, &name, id).await
        }
        _ => Err(Error::Oci(OciError::with_message(
            ErrorCode::Unsupported,
            format!("{m} is not supported on this endpoint"),
        ))),
    }
}
