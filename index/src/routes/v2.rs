//! `GET /v2/` on the index, so that `docker login <index>` works: a Bearer challenge
//! pointing at this index's `/token`, and 200 with a valid token (verified locally).
//! Basic credentials (clients that send them first) are checked like any login, through
//! the login throttle: right → 200, wrong → the challenge, throttled → 429
//! `TOOMANYREQUESTS` with `Retry-After`.

use super::auth::{credentials, Credentials};
use crate::error::Error;
use crate::services::tokens;
use crate::state::Index;
use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use pier_shared::{ErrorCode, OciError};

/// ```text
/// GET /v2/                          GET /v2/
///                                   Authorization: Bearer eyJ…
/// 401 WWW-Authenticate: Bearer realm="http://index:5001/token",service="pier-registry"
///                                   200 {}
/// ```
pub async fn base(req: HttpRequest, index: web::Data<Index>) -> HttpResponse {
    let (presented, valid) = match credentials(&req) {
        Ok(Some(Credentials::Bearer(token))) => {
            let valid = index.verify_token(&token).await.is_some();
            (true, valid)
        }
        Ok(Some(Credentials::Basic { user, password })) => {
            let client = index.client(&req);
            match tokens::login(&index, &client, &user, &password).await {
                Ok(_) => (true, true),
                Err(Error::Unauthenticated) => (true, false),
                Err(e) => return with_version(refusal(&e)),
            }
        }
        _ => (false, false),
    };
    let res = if valid {
        HttpResponse::Ok().json(serde_json::json!({}))
    } else {
        let info = req.connection_info();
        let base = format!("{}://{}", info.scheme(), info.host());
        let mut challenge = format!(
            r#"Bearer realm="{}/token",service="{}""#,
            index.public_url(&base),
            index.config.token.service
        );
        if presented {
            challenge.push_str(r#",error="invalid_token""#);
        }
        let err = OciError::new(ErrorCode::Unauthorized).header(WWW_AUTHENTICATE, challenge);
        err.error_response()
    };
    with_version(res)
}

/// A failed Basic check other than wrong credentials, in the registry error format.
fn refusal(e: &Error) -> HttpResponse {
    match e {
        Error::TooManyRequests { retry_after, .. } => {
            OciError::with_message(ErrorCode::TooManyRequests, e.to_string())
                .header(RETRY_AFTER, retry_after.to_string())
                .error_response()
        }
        other => OciError::with_message(ErrorCode::Unavailable, other.public_detail())
            .status(other.status_code())
            .error_response(),
    }
}

fn with_version(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        HeaderName::from_static("docker-distribution-api-version"),
        HeaderValue::from_static("registry/2.0"),
    );
    res
}
