//! `POST /introspect` (RFC 7662) for the registry, authenticated as Basic
//! `registry:<registry.introspection_secret>`.

use super::auth::{credentials, Credentials};
use crate::error::Error;
use crate::services::introspection;
use crate::state::Index;
use actix_web::{web, HttpRequest, HttpResponse};
use pier_shared::Scope;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct IntrospectForm {
    pub token: String,
    /// Space-separated scopes the registry needs now.
    pub scope: Option<String>,
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Is the caller the registry? (404 when introspection is disabled, 401 when not.)
fn check_registry(index: &Index, req: &HttpRequest) -> Result<(), Error> {
    let secret = index.config.registry.introspection_secret.expose();
    if secret.is_empty() {
        return Err(Error::NotFound("introspection is disabled".into()));
    }
    match credentials(req)? {
        Some(Credentials::Basic { user, password })
            if user == "registry" && same(password.as_bytes(), secret.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(Error::Unauthenticated),
    }
}

/// ```text
/// POST /introspect
/// Authorization: Basic cmVnaXN0cnk6…            (registry:<secret>)
/// Content-Type: application/x-www-form-urlencoded
///
/// token=eyJ…&scope=repository:alice/app:pull
///
/// 200 {"active":true,"sub":"alice","exp":1795000000,"jti":"…","scope":"repository:alice/app:pull"}
/// 200 {"active":false}
/// ```
pub async fn introspect(
    req: HttpRequest,
    index: web::Data<Index>,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    check_registry(&index, &req)?;
    let body = super::body::form(&req, payload, index.config.limits.form_max_bytes).await?;
    let form: IntrospectForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| Error::BadRequest("expected a form with token (and scope)".into()))?;
    let wanted = match form.scope.as_deref() {
        Some(s) => Some(Scope::parse_list(s).map_err(|e| Error::BadRequest(e.to_string()))?),
        None => None,
    };
    let answer = introspection::introspect(&index, &form.token, wanted).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(answer))
}
