//! `GET /v2/` on the index, so that `docker login <index>` works: a Bearer challenge
//! pointing at this index's `/token`, and 200 with a valid token (verified locally).

use super::auth::{credentials, Credentials};
use crate::state::Index;
use actix_web::http::header::{HeaderName, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use pier_shared::{ErrorCode, OciError};

/// ```text
/// GET /v2/                          GET /v2/
///                                   Authorization: Bearer eyJ…
/// 401 WWW-Authenticate: Bearer realm="http://index:5001/token",service="pier-registry"
///                                   200 {}
/// ```
pub async fn base(req: HttpRequest, index: web::Data<Index>) -> HttpResponse {
    let presented = match credentials(&req) {
        Ok(Some(Credentials::Bearer(token))) => Some(token),
        _ => None,
    };
    let valid = match presented.as_deref() {
        Some(t) => index.verify_token(t).await.is_some(),
        None => false,
    };
    let mut res = if valid {
        HttpResponse::Ok().json(serde_json::json!({}))
    } else {
        let info = req.connection_info();
        let base = format!("{}://{}", info.scheme(), info.host());
        let mut challenge = format!(
            r#"Bearer realm="{}/token",service="{}""#,
            index.public_url(&base),
            index.config.token.service
        );
        if presented.is_some() {
            challenge.push_str(r#",error="invalid_token""#);
        }
        let err = OciError::new(ErrorCode::Unauthorized).header(WWW_AUTHENTICATE, challenge);
        err.error_response()
    };
    res.headers_mut().insert(
        HeaderName::from_static("docker-distribution-api-version"),
        HeaderValue::from_static("registry/2.0"),
    );
    res
}
