//! The registry's `/pier/v1/mirrors` endpoints: it tells the index its pull-through mirrors
//! at start and each repository it caches (docs/mirror.md). Authenticated like
//! `/introspect` ([`Registry`]); errors are RFC 7807 problems.

use super::auth::Registry;
use crate::error::Result;
use crate::services::mirrors::{self, MirrorSet};
use crate::state::Index;
use actix_web::{web, HttpResponse};

/// ```text
/// PUT /pier/v1/mirrors
/// Authorization: Basic cmVnaXN0cnk6…            (registry:<secret>)
/// Content-Type: application/json
///
/// {"default":"hub","upstreams":[{"prefix":"hub","url":"https://registry-1.docker.io","public":true}]}
///
/// 204                       the set replaced; an organization per new prefix
/// 400 / 401 / 409 problem   invalid set / not the registry / a prefix is a user's namespace
/// ```
pub async fn replace(
    _: Registry,
    index: web::Data<Index>,
    body: web::Json<MirrorSet>,
) -> Result<HttpResponse> {
    mirrors::register(&index, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// ```text
/// PUT /pier/v1/mirrors/repositories/hub/library/alpine     (same Basic auth, empty body)
///
/// 204           the repository exists in the index (created if missing)
/// 404 problem   not under a registered mirror prefix
/// ```
pub async fn register_repository(
    _: Registry,
    index: web::Data<Index>,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    mirrors::register_repository(&index, &name).await?;
    Ok(HttpResponse::NoContent().finish())
}
