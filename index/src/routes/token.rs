//! The Docker token endpoint (distribution `docs/spec/auth/token.md` and `oauth.md`).
//!
//! Errors here are OAuth 2 shaped (`{"error":…,"error_description":…}`), which docker's
//! client reads; bad credentials are a 401 with `WWW-Authenticate: Basic realm="pier-index"`.

use super::auth::{credentials, Credentials};
use crate::error::{Error, BASIC_CHALLENGE};
use crate::services::tokens::{self, Issued, TokenRequest};
use crate::state::Index;
use actix_web::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use pier_shared::{ErrorCode, OciError, Scope};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("invalid credentials")]
    Unauthorized,
    #[error("the refresh token is invalid, expired or revoked")]
    InvalidGrant,
    #[error("grant_type is password or refresh_token")]
    UnsupportedGrant,
    /// The login throttle or the rate limit: 429 in the registry error format, which
    /// docker prints (`toomanyrequests: …`), with `Retry-After`.
    #[error("{reason}; retry in {retry_after} seconds")]
    TooManyRequests {
        retry_after: u64,
        reason: &'static str,
    },
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Internal(Error),
}

impl From<Error> for TokenError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unauthenticated => TokenError::Unauthorized,
            Error::BadRequest(m) => TokenError::InvalidRequest(m),
            Error::TooManyRequests {
                retry_after,
                reason,
            } => TokenError::TooManyRequests {
                retry_after,
                reason,
            },
            Error::PayloadTooLarge(n) => TokenError::TooLarge(n),
            other => TokenError::Internal(other),
        }
    }
}

impl TokenError {
    /// The `outcome` label of `pier_index_tokens_total`: the OAuth 2 error code.
    fn outcome(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) | TokenError::TooLarge(_) => "invalid_request",
            TokenError::Unauthorized => "invalid_client",
            TokenError::InvalidGrant => "invalid_grant",
            TokenError::UnsupportedGrant => "unsupported_grant_type",
            TokenError::TooManyRequests { .. } => "too_many_requests",
            TokenError::Internal(_) => "server_error",
        }
    }
}

/// Count one answer of the token endpoint.
fn record<T>(index: &Index, grant_type: &'static str, result: &Result<T, TokenError>) {
    let outcome = result
        .as_ref()
        .map_or_else(TokenError::outcome, |_| "issued");
    index.metrics.token(grant_type, outcome);
}

impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        match self {
            TokenError::Unauthorized => StatusCode::UNAUTHORIZED,
            TokenError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            TokenError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            TokenError::Internal(e) => e.status_code(),
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let TokenError::TooManyRequests { retry_after, .. } = self {
            return OciError::with_message(ErrorCode::TooManyRequests, self.to_string())
                .header(RETRY_AFTER, retry_after.to_string())
                .error_response();
        }
        let (code, detail) = match self {
            TokenError::InvalidRequest(_) | TokenError::TooLarge(_) => {
                ("invalid_request", self.to_string())
            }
            TokenError::TooManyRequests { .. } => ("too_many_requests", self.to_string()),
            TokenError::Unauthorized => ("invalid_client", self.to_string()),
            TokenError::InvalidGrant => ("invalid_grant", self.to_string()),
            TokenError::UnsupportedGrant => ("unsupported_grant_type", self.to_string()),
            TokenError::Internal(e) => ("server_error", e.public_detail()),
        };
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, TokenError::Unauthorized) {
            res.insert_header((WWW_AUTHENTICATE, BASIC_CHALLENGE));
        }
        res.json(serde_json::json!({"error": code, "error_description": detail}))
    }
}

/// The token response (both names, as `token.md` allows; `scope` as `oauth.md` requires).
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token: String,
    pub access_token: String,
    pub expires_in: u64,
    pub issued_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

impl From<Issued> for TokenResponse {
    fn from(i: Issued) -> Self {
        TokenResponse {
            access_token: i.token.clone(),
            token: i.token,
            expires_in: i.expires_in,
            issued_at: i.issued_at,
            refresh_token: i.refresh_token,
            scope: i.scope,
        }
    }
}

/// The `service` asked for (the configured one when absent); unknown services are a 400.
fn service(index: &Index, asked: Option<&str>) -> Result<String, TokenError> {
    let name = asked.unwrap_or(&index.config.token.service);
    if !index.config.token.accepts_service(name) {
        return Err(TokenError::InvalidRequest(format!(
            "unknown service {name:?}"
        )));
    }
    Ok(name.to_string())
}

/// Every scope in `values`, each of which may hold several, space-separated.
pub fn scopes<'a>(values: impl Iterator<Item = &'a str>) -> Result<Vec<Scope>, TokenError> {
    let mut out = Vec::new();
    for v in values {
        out.extend(Scope::parse_list(v).map_err(|e| TokenError::InvalidRequest(e.to_string()))?);
    }
    Ok(out)
}

/// The parameters of `GET /token`'s query string, in order (`scope` may repeat).
pub fn query_params(query: &str) -> Result<Vec<(String, String)>, TokenError> {
    serde_urlencoded::from_str(query)
        .map_err(|_| TokenError::InvalidRequest("malformed query string".into()))
}

/// Every scope the `scope` parameters of a query ask for.
pub fn query_scopes(query: &[(String, String)]) -> Result<Vec<Scope>, TokenError> {
    scopes(
        query
            .iter()
            .filter(|(n, _)| n == "scope")
            .map(|(_, v)| v.as_str()),
    )
}

/// The form body of `POST /token`.
pub fn form(body: &[u8]) -> Result<TokenForm, TokenError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|_| TokenError::InvalidRequest("malformed form body".into()))
}

/// `GET /token`: Basic credentials or anonymous.
///
/// ```text
/// GET /token?account=alice&client_id=docker&offline_token=true&service=pier-registry
///     &scope=repository:alice/app:pull,push
/// Authorization: Basic YWxpY2U6…
///
/// 200 {"token":"eyJ…","access_token":"eyJ…","expires_in":300,
///      "issued_at":"2026-11-23T12:00:00Z","refresh_token":"…","scope":"repository:alice/app:pull,push"}
/// ```
pub async fn get(req: HttpRequest, index: web::Data<Index>) -> Result<HttpResponse, TokenError> {
    let grant_type = if req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
    {
        "basic"
    } else {
        "anonymous"
    };
    let result = get_token(&req, &index).await;
    record(&index, grant_type, &result);
    result
}

async fn get_token(req: &HttpRequest, index: &Index) -> Result<HttpResponse, TokenError> {
    let query = query_params(req.query_string())?;
    let param = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let service = service(index, param("service"))?;
    let scopes = query_scopes(&query)?;
    let (subject, pat) = match credentials(req).map_err(|_| TokenError::Unauthorized)? {
        None => (None, None),
        Some(Credentials::Basic { user, password }) => {
            if param("account").is_some_and(|a| !a.is_empty() && a != user) {
                return Err(TokenError::InvalidRequest("account and user differ".into()));
            }
            let (subject, pat) = tokens::login(index, &index.client(req), &user, &password).await?;
            (Some(subject), pat)
        }
        Some(Credentials::Bearer(_)) => return Err(TokenError::Unauthorized),
    };
    // A personal access token never yields a refresh token: its own revocation must reach
    // every token issued from it, and docker then keeps sending it as the password.
    let offline = (param("offline_token") == Some("true") && pat.is_none())
        .then(|| param("client_id").unwrap_or_default().to_string());
    let request = TokenRequest {
        service,
        scopes,
        offline,
        rti: pat.as_ref().map(|p| p.rti.clone()),
    };
    let issued = tokens::issue_within(index, subject, request, pat.map(|p| p.scope)).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(issued)))
}

/// The OAuth 2 form of `POST /token` (`oauth.md`).
#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub service: Option<String>,
    pub client_id: Option<String>,
    pub access_type: Option<String>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// `POST /token`: `grant_type=password` (bcrypt, cached) or `refresh_token` (no bcrypt).
///
/// ```text
/// POST /token
/// Content-Type: application/x-www-form-urlencoded
///
/// grant_type=refresh_token&refresh_token=…&service=pier-registry&client_id=docker
///   &scope=repository:alice/app:pull
///
/// 200 {"token":"eyJ…","access_token":"eyJ…","expires_in":300,"issued_at":"…","scope":"…"}
/// ```
pub async fn post(
    req: HttpRequest,
    index: web::Data<Index>,
    payload: web::Payload,
) -> Result<HttpResponse, TokenError> {
    let mut grant_type = "unsupported";
    let result = async {
        let body = super::body::form(&req, payload, index.config.limits.form_max_bytes).await?;
        let form = form(&body)?;
        grant_type = match form.grant_type.as_deref() {
            Some("password") => "password",
            Some("refresh_token") => "refresh_token",
            _ => "unsupported",
        };
        post_form(&req, &index, form).await
    }
    .await;
    record(&index, grant_type, &result);
    result
}

async fn post_form(
    req: &HttpRequest,
    index: &Index,
    form: TokenForm,
) -> Result<HttpResponse, TokenError> {
    let service = service(index, form.service.as_deref())?;
    let scopes = scopes(form.scope.iter().map(String::as_str))?;
    let client_id = form.client_id.clone().unwrap_or_default();
    let (subject, rti, offline, limit) = match form.grant_type.as_deref() {
        Some("password") => {
            let user = form.username.as_deref().unwrap_or_default();
            let password = form.password.as_deref().unwrap_or_default();
            let (subject, pat) = tokens::login(index, &index.client(req), user, password).await?;
            let offline = (form.access_type.as_deref() == Some("offline") && pat.is_none())
                .then_some(client_id);
            let rti = pat.as_ref().map(|p| p.rti.clone());
            (subject, rti, offline, pat.map(|p| p.scope))
        }
        Some("refresh_token") => {
            let token = form.refresh_token.as_deref().unwrap_or_default();
            let (subject, rti) = tokens::redeem_refresh_token(index, token)
                .await
                .map_err(|e| match e {
                    Error::Unauthenticated => TokenError::InvalidGrant,
                    other => other.into(),
                })?;
            (subject, Some(rti), None, None)
        }
        _ => return Err(TokenError::UnsupportedGrant),
    };
    let request = TokenRequest {
        service,
        scopes,
        offline,
        rti,
    };
    let issued = tokens::issue_within(index, Some(subject), request, limit).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(issued)))
}
