//! `[rate_limit]` on the index: a middleware that takes one request from the caller's
//! bucket before any handler runs. A caller is the subject of a valid Bearer token from
//! this index (verified locally, no database); everyone else — anonymous, Basic
//! credentials (not yet checked: counting them against the account they name would let
//! anyone drain a victim's bucket), browser sessions — is counted by client address.
//! The 429 is in the protocol of the path: the registry error format on `/token` and
//! `/v2/`, v1 JSON on `/v1`, a problem elsewhere; always with `Retry-After`.

use super::auth::{credentials, Credentials};
use crate::error::{Error, RATE_LIMITED};
use crate::state::Index;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::RETRY_AFTER;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use pier_shared::rate_limit::Who;
use pier_shared::{ErrorCode, OciError};

/// The 429 for `path`.
fn refusal(path: &str, retry_after: u64) -> HttpResponse {
    let e = Error::TooManyRequests {
        retry_after,
        reason: RATE_LIMITED,
    };
    if path.starts_with("/token") || path.starts_with("/v2") {
        return OciError::with_message(ErrorCode::TooManyRequests, e.to_string())
            .header(RETRY_AFTER, retry_after.to_string())
            .error_response();
    }
    if path.starts_with("/v1/") {
        return super::v1::V1Error(e).error_response();
    }
    e.error_response()
}

pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(index) = req.app_data::<web::Data<Index>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let path = req.path();
    if !index.rate_limit.enabled() || path == "/healthz" || path == "/readyz" {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let user = match credentials(req.request()) {
        Ok(Some(Credentials::Bearer(token))) => index
            .verify_token(&token)
            .await
            .map(|c| c.sub)
            .filter(|s| !s.is_empty()),
        _ => None,
    };
    let who = match user {
        Some(sub) => Who::User(sub),
        None => Who::Anonymous(index.client(req.request()).key),
    };
    match index.rate_limit.check(who) {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(retry_after) => {
            let res = refusal(req.path(), retry_after);
            Ok(req.into_response(res).map_into_right_body())
        }
    }
}
