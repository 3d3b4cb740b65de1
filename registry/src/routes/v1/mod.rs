//! The legacy Docker v1 registry protocol (`/v1/…`, docs/legacy-v1.md), served when
//! `v1.index_url` names the index that confirms v1 tokens. Errors are `{"error": "…"}`;
//! a 401 carries `WWW-Authenticate: Token`. Every request but `_ping` is authorized by
//! `services::v1::access` (a token confirmed with the index, or the session cookie).

mod images;
mod repositories;

use crate::services::v1::{Authorized, Need, V1Error};
use crate::state::Registry;
use actix_web::http::header::{CONTENT_TYPE, SET_COOKIE, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};

/// Register `/v1`, served only while v1 is enabled (else the registry's 404).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let enabled = guard::fn_guard(|ctx| {
        ctx.app_data::<web::Data<Registry>>()
            .is_some_and(|r| r.v1.enabled())
    });
    cfg.service(
        web::scope("/v1")
            .guard(enabled)
            .route("/_ping", web::get().to(ping))
            .route("/images/{id}/json", web::get().to(images::get_json))
            .route("/images/{id}/json", web::put().to(images::put_json))
            .route("/images/{id}/layer", web::get().to(images::get_layer))
            .route("/images/{id}/layer", web::head().to(images::get_layer))
            .route("/images/{id}/layer", web::put().to(images::put_layer))
            .route("/images/{id}/checksum", web::put().to(images::put_checksum))
            .route("/images/{id}/ancestry", web::get().to(images::ancestry))
            .route(
                "/repositories/{tail:.*}",
                web::route().to(repositories::dispatch),
            ),
    );
}

/// `GET /v1/_ping` → `200 true`, `X-Docker-Registry-Standalone: false` (so that clients
/// use the index's tokens rather than Basic auth).
async fn ping() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header(("X-Docker-Registry-Version", "0.6.0"))
        .insert_header(("X-Docker-Registry-Standalone", "false"))
        .body("true")
}

/// A v1 refusal as a response, with the session cookie if a token was confirmed by
/// this very request (the client keeps it for its next requests).
#[derive(Debug)]
pub struct Refusal(pub V1Error, pub Option<String>);

impl From<V1Error> for Refusal {
    fn from(e: V1Error) -> Self {
        Refusal(e, None)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if let Some(c) = &self.1 {
            res.insert_header((SET_COOKIE, c.clone()));
        }
        match &self.0 {
            V1Error::Unauthorized(_) => {
                res.insert_header((WWW_AUTHENTICATE, "Token"));
            }
            V1Error::Range(size) => {
                res.insert_header(("Content-Range", format!("bytes */{size}")));
            }
            _ => {}
        }
        res.insert_header((CONTENT_TYPE, "application/json"))
            .insert_header(("Cache-Control", "no-cache"))
            .body(serde_json::json!({ "error": self.0.public_message() }).to_string())
    }
}

pub type Result<T> = std::result::Result<T, Refusal>;

/// Authorize the request (see `services::v1::access`).
pub async fn authorize(reg: &Registry, req: &HttpRequest, need: Need<'_>) -> Result<Authorized> {
    Ok(reg.v1.authorize(req.headers(), &need).await?)
}

/// Run the rest of an authorized request; a refusal still carries the new cookie.
pub async fn then<F>(auth: &Authorized, work: F) -> Result<HttpResponse>
where
    F: std::future::Future<Output = std::result::Result<HttpResponse, V1Error>>,
{
    work.await.map_err(|e| Refusal(e, auth.set_cookie.clone()))
}

/// A response builder carrying the session cookie if one was just granted.
pub fn respond(status: StatusCode, auth: &Authorized) -> HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    if let Some(c) = &auth.set_cookie {
        res.insert_header((SET_COOKIE, c.clone()));
    }
    res
}

/// `200 true`, the answer of every successful v1 write.
pub fn ok_true(auth: &Authorized) -> HttpResponse {
    respond(StatusCode::OK, auth)
        .insert_header((CONTENT_TYPE, "application/json"))
        .body("true")
}

/// A JSON body.
pub fn json(auth: &Authorized, body: &impl serde::Serialize) -> HttpResponse {
    respond(StatusCode::OK, auth)
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(serde_json::to_string(body).unwrap_or_else(|_| "null".into()))
}
