//! The index's error type, and the one writer of RFC 7807 problem bodies
//! (`application/problem+json`: type, title, status, detail).
//!
//! Services return [`Error`]; the JSON API answers it as a problem. The token endpoint and
//! `/v2/` speak their own protocols and map [`Error`] themselves (`routes::token`,
//! `routes::v2`). Internal causes are logged here and never reach a body.

use crate::db::DbError;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    /// No or bad credentials.
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Refused for a while: too many failed logins (`services::login_throttle`) or
    /// requests (`[rate_limit]`); the client may retry after `retry_after` seconds.
    #[error("{reason}; retry in {retry_after} seconds")]
    TooManyRequests {
        retry_after: u64,
        reason: &'static str,
    },
    /// A body larger than the configured limit for its kind (`[limits]`).
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Db(DbError::Query(e))
    }
}

/// The realm of every Basic challenge the index sends.
pub const BASIC_CHALLENGE: &str = r#"Basic realm="pier-index""#;

/// The reason of a 429 from the login throttle.
pub const LOGIN_THROTTLED: &str = "too many failed logins from this address";
/// The reason of a 429 from `[rate_limit]`.
pub const RATE_LIMITED: &str = "request rate limit exceeded";

impl Error {
    /// A 429 from the login throttle.
    pub fn login_throttled(retry_after: u64) -> Error {
        Error::TooManyRequests {
            retry_after,
            reason: LOGIN_THROTTLED,
        }
    }

    /// `Retry-After` of a 429, if this is one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Add `Retry-After` to `res` if this is a 429.
    pub fn add_retry_after(&self, res: &mut HttpResponse) {
        if let Some(secs) = self.retry_after() {
            res.headers_mut().insert(
                RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(secs),
            );
        }
    }

    /// `(status, slug, title)` of the problem this error is answered with.
    fn kind(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
            Error::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Error::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
            ),
            Error::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            Error::Db(e) if e.is_unavailable() => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            Error::Db(_) | Error::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The message safe to show a client (internal causes are logged instead).
    pub fn public_detail(&self) -> String {
        match self {
            Error::Db(_) | Error::Internal(_) => {
                log::error!("{self}");
                "the server could not complete the request".into()
            }
            other => other.to_string(),
        }
    }
}

/// Write an RFC 7807 problem.
pub fn problem(status: StatusCode, slug: &str, title: &str, detail: &str) -> HttpResponse {
    let body = serde_json::json!({
        "type": format!("urn:pier:problem:{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/problem+json"))
        .body(body.to_string())
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.kind().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, slug, title) = self.kind();
        let mut res = problem(status, slug, title, &self.public_detail());
        if matches!(self, Error::Unauthenticated) {
            if let Ok(v) = BASIC_CHALLENGE.parse() {
                res.headers_mut().insert(WWW_AUTHENTICATE, v);
            }
        }
        self.add_retry_after(&mut res);
        res
    }
}
