//! The legacy Docker v1 index protocol (`/v1/…`, docs/legacy-v1.md). Not part of the
//! JSON API: registered by [`configure`], outside `routes::ROUTES` and the OpenAPI
//! document. Errors are v1 JSON (`{"error": "…"}`) with the HTTP status of the
//! [`crate::error::Error`] they come from.

mod flow;
mod repositories;
mod search;
mod users;

use crate::error::Error;
use crate::services::policy::Subject;
use crate::services::tokens;
use crate::state::Index;
use actix_web::http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pier_shared::v1::Token;

/// The index's 401 challenge on `/v1`: Basic or a v1 token.
pub const CHALLENGE: &str = r#"Basic realm="pier-index",Token"#;

/// Register `/v1`, served only while `v1.enabled` (else the index's 404).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let enabled = guard::fn_guard(|ctx| {
        ctx.app_data::<web::Data<Index>>()
            .is_some_and(|i| i.config.v1.enabled)
    });
    cfg.service(
        web::scope("/v1")
            .guard(enabled)
            .route("/_ping", web::get().to(ping))
            .route("/users/", web::post().to(users::register))
            .route("/users", web::post().to(users::register))
            .route("/users/", web::get().to(users::login))
            .route("/users", web::get().to(users::login))
            .route("/users/{name}/", web::put().to(users::update))
            .route("/search", web::get().to(search::search))
            .route("/_pier/flow/{jti}", web::get().to(flow::get))
            .route("/_pier/events", web::get().to(flow::events))
            .route(
                "/repositories/{tail:.*}",
                web::route().to(repositories::dispatch),
            ),
    );
}

/// A v1 error: `{"error": "<message>"}` with the status of the error.
#[derive(Debug)]
pub struct V1Error(pub Error);

impl From<Error> for V1Error {
    fn from(e: Error) -> Self {
        V1Error(e)
    }
}

impl std::fmt::Display for V1Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for V1Error {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self.0, Error::Unauthenticated) {
            res.insert_header((WWW_AUTHENTICATE, CHALLENGE));
        }
        if let Some(secs) = self.0.retry_after() {
            res.insert_header((RETRY_AFTER, secs));
        }
        res.insert_header((CONTENT_TYPE, "application/json"))
            .body(serde_json::json!({ "error": self.0.public_detail() }).to_string())
    }
}

pub type V1Result<T> = Result<T, V1Error>;

/// `400` with a message.
pub fn bad_request(msg: impl Into<String>) -> V1Error {
    V1Error(Error::BadRequest(msg.into()))
}

/// What `Authorization` holds on a v1 request.
pub enum Presented {
    None,
    Basic(String, String),
    Token(Token),
}

pub fn presented(req: &HttpRequest) -> V1Result<Presented> {
    match req.headers().get("authorization") {
        Some(value) => parse_presented(value),
        None => Ok(Presented::None),
    }
}

/// Parse one `Authorization` value of a v1 request: `Token …` or `Basic …`.
pub fn parse_presented(value: &HeaderValue) -> V1Result<Presented> {
    let value = value.to_str().map_err(|_| Error::Unauthenticated)?;
    if let Some(token) = Token::from_authorization(value) {
        return Ok(Presented::Token(token.map_err(|_| Error::Unauthenticated)?));
    }
    let (scheme, rest) = value.split_once(' ').ok_or(Error::Unauthenticated)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Error::Unauthenticated.into());
    }
    let raw = STANDARD
        .decode(rest.trim())
        .map_err(|_| Error::Unauthenticated)?;
    let text = String::from_utf8(raw).map_err(|_| Error::Unauthenticated)?;
    let (user, password) = text.split_once(':').ok_or(Error::Unauthenticated)?;
    Ok(Presented::Basic(user.into(), password.into()))
}

/// The user of Basic credentials, if any. A cached v1 token an anonymous client sends
/// along with `X-Docker-Token: true` counts as anonymous; otherwise a token is a 401.
pub async fn basic_subject(index: &Index, req: &HttpRequest) -> V1Result<Option<Subject>> {
    match presented(req)? {
        Presented::None => Ok(None),
        Presented::Basic(u, p) => {
            let client = index.client(req);
            Ok(Some(tokens::authenticate(index, &client, &u, &p).await?))
        }
        Presented::Token(_) if wants_token(req) => Ok(None),
        Presented::Token(_) => Err(Error::Unauthenticated.into()),
    }
}

/// The registries named in `X-Docker-Endpoints`.
pub fn endpoints(index: &Index, req: &HttpRequest) -> String {
    let configured = &index.config.v1.endpoints;
    if !configured.is_empty() {
        return configured.join(", ");
    }
    let url = index.config.registry.url.trim_end_matches('/');
    let host = url.split_once("://").map_or(url, |(_, rest)| rest);
    if !host.is_empty() {
        return host.split('/').next().unwrap_or(host).to_string();
    }
    req.connection_info().host().to_string()
}

/// Add the headers that hand a token to a v1 client.
pub fn with_token(res: &mut HttpResponseBuilder, token: &Token, endpoints: &str) {
    let value = token.header_value();
    res.insert_header(("X-Docker-Token", value.clone()))
        .insert_header((WWW_AUTHENTICATE, format!("Token {value}")))
        .insert_header(("X-Docker-Endpoints", endpoints.to_string()));
}

/// `200 true`, the ping of a private index (never standalone: tokens are used).
async fn ping() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header(("X-Docker-Registry-Version", "0.6.0"))
        .insert_header((
            "X-Docker-Registry-Standalone",
            HeaderValue::from_static("false"),
        ))
        .body("true")
}

/// Is `X-Docker-Token: true` on the request?
pub fn wants_token(req: &HttpRequest) -> bool {
    req.headers()
        .get("x-docker-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// A JSON body.
pub fn json(status: StatusCode, body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(serde_json::to_string(body).unwrap_or_else(|_| "null".into()))
}
