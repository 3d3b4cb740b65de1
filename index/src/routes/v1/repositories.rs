//! `/v1/repositories/…` on the index:
//!
//! ```text
//! PUT    /v1/repositories/<ns>/<repo>/        Basic, X-Docker-Token: true, [{"id"…}]
//!        → 200 ""  X-Docker-Token / WWW-Authenticate: Token …access=write, X-Docker-Endpoints
//! GET    /v1/repositories/<ns>/<repo>/images  (Basic), X-Docker-Token: true
//!        → 200 [{"id","checksum"}]  X-Docker-Token …access=read, X-Docker-Endpoints
//! GET    /v1/repositories/<ns>/<repo>/images  Authorization: Token …   (the registry's check)
//!        → 200 [{"id"}] and the token is used up; 401 otherwise
//! PUT    /v1/repositories/<ns>/<repo>/images  Basic, [{"id","checksum"}]  → 204
//! DELETE /v1/repositories/<ns>/<repo>/        Basic, X-Docker-Token: true
//!        → 202 ""  X-Docker-Token …access=delete (first); 200 "" (second, after the registry)
//! PUT    /v1/repositories/<ns>/<repo>/auth    Authorization: Token …access=delete → 200 "OK"
//! ```
//!
//! A one-component name (`/v1/repositories/<repo>/…`) is `library/<repo>`.

use super::{
    bad_request, basic_subject, endpoints, json, presented, wants_token, with_token, Presented,
    V1Result,
};
use crate::error::Error;
use crate::services::v1::repositories::{self as v1repo, ImageEntry};
use crate::state::Index;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use pier_shared::v1::{self, ImageId};
use pier_shared::RepoName;
use serde::Deserialize;

/// An entry of an image list as clients send it.
#[derive(Deserialize)]
struct WireImage {
    id: String,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default, rename = "Tag")]
    tag: Option<String>,
}

fn parse_images(body: &[u8]) -> V1Result<Vec<ImageEntry>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let list: Vec<WireImage> = serde_json::from_slice(body)
        .map_err(|e| bad_request(format!("invalid image list: {e}")))?;
    list.into_iter()
        .map(|w| {
            let id: ImageId = w.id.parse().map_err(bad_request)?;
            let tag = w.tag.filter(|t| !t.is_empty());
            if tag.as_deref().is_some_and(|t| !v1::valid_tag(t)) {
                return Err(bad_request("invalid tag in the image list"));
            }
            let checksum = w.checksum.filter(|c| !c.is_empty());
            Ok(ImageEntry { id, tag, checksum })
        })
        .collect()
}

enum Target {
    Repository,
    Images,
    Auth,
}

fn parse_path(tail: &str) -> V1Result<(RepoName, Target)> {
    let mut parts: Vec<&str> = tail.split('/').collect();
    let target = match parts.pop() {
        Some("") => Target::Repository,
        Some("images") => Target::Images,
        Some("auth") => Target::Auth,
        _ => return Err(Error::NotFound("no such endpoint".into()).into()),
    };
    let repo = v1::repository(&parts).map_err(bad_request)?;
    Ok((repo, target))
}

pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    index: web::Data<Index>,
) -> V1Result<HttpResponse> {
    let limit = index.config.limits.json_max_bytes;
    let body = crate::routes::body::read(&req, payload, limit).await?;
    let (repo, target) = parse_path(req.match_info().query("tail"))?;
    let index = index.get_ref();
    let m = req.method().clone();
    match target {
        Target::Repository if m == Method::PUT => put_repository(index, &req, &repo, &body).await,
        Target::Repository if m == Method::DELETE => delete_repository(index, &req, &repo).await,
        Target::Images if m == Method::GET => get_images(index, &req, &repo).await,
        Target::Images if m == Method::PUT => put_images(index, &req, &repo, &body).await,
        Target::Auth if m == Method::PUT => put_auth(index, &req, &repo).await,
        _ => Err(Error::NotFound(format!("{m} is not supported here")).into()),
    }
}

async fn caller(index: &Index, req: &HttpRequest) -> V1Result<crate::services::policy::Subject> {
    basic_subject(index, req)
        .await?
        .ok_or_else(|| Error::Unauthenticated.into())
}

async fn put_repository(
    index: &Index,
    req: &HttpRequest,
    repo: &RepoName,
    body: &[u8],
) -> V1Result<HttpResponse> {
    let subject = caller(index, req).await?;
    let images = parse_images(body)?;
    let token = v1repo::push_start(index, &subject, repo, images).await?;
    let mut res = HttpResponse::Ok();
    with_token(&mut res, &token, &endpoints(index, req));
    Ok(res.content_type("application/json").body("\"\""))
}

fn image_list(images: &[v1repo::V1Image]) -> Vec<serde_json::Value> {
    images
        .iter()
        .map(|i| match &i.checksum {
            Some(c) => serde_json::json!({ "id": i.image_id, "checksum": c }),
            None => serde_json::json!({ "id": i.image_id }),
        })
        .collect()
}

async fn get_images(index: &Index, req: &HttpRequest, repo: &RepoName) -> V1Result<HttpResponse> {
    // The registry's check carries a token and no `X-Docker-Token: true`; a client may
    // send its cached token along with `X-Docker-Token: true`, asking for a new one.
    if let Presented::Token(token) = presented(req)? {
        if !wants_token(req) {
            let images = v1repo::confirm_images(index, &token, repo).await?;
            return Ok(json(StatusCode::OK, &image_list(&images)));
        }
    }
    let subject = basic_subject(index, req).await?;
    let (images, token) = v1repo::pull(index, subject, repo, wants_token(req)).await?;
    let mut res = HttpResponse::Ok();
    if let Some(t) = &token {
        with_token(&mut res, t, &endpoints(index, req));
    }
    let body = serde_json::to_string(&image_list(&images)).unwrap_or_else(|_| "[]".into());
    Ok(res.content_type("application/json").body(body))
}

async fn put_images(
    index: &Index,
    req: &HttpRequest,
    repo: &RepoName,
    body: &[u8],
) -> V1Result<HttpResponse> {
    let subject = caller(index, req).await?;
    let sums = parse_images(body)?
        .into_iter()
        .filter_map(|i| i.checksum.map(|c| (i.id, c)))
        .collect();
    v1repo::push_done(index, &subject, repo, sums).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete_repository(
    index: &Index,
    req: &HttpRequest,
    repo: &RepoName,
) -> V1Result<HttpResponse> {
    let subject = caller(index, req).await?;
    match v1repo::delete_start(index, &subject, repo).await {
        Ok(token) => {
            let mut res = HttpResponse::Accepted();
            with_token(&mut res, &token, &endpoints(index, req));
            Ok(res.content_type("application/json").body("\"\""))
        }
        // Not live: the second DELETE of the workflow, after the registry deleted it.
        Err(Error::NotFound(_)) => {
            v1repo::delete_finish(index, &subject, repo).await?;
            Ok(json(StatusCode::OK, &""))
        }
        Err(e) => Err(e.into()),
    }
}

async fn put_auth(index: &Index, req: &HttpRequest, repo: &RepoName) -> V1Result<HttpResponse> {
    let Presented::Token(token) = presented(req)? else {
        return Err(Error::Unauthenticated.into());
    };
    v1repo::confirm_delete(index, &token, repo).await?;
    Ok(json(StatusCode::OK, &"OK"))
}
