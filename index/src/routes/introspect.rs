//! `POST /introspect` (RFC 7662) for the registry, authenticated as Basic
//! `registry:<registry.introspection_secret>`.

use super::auth::Registry;
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

/// ```text
/// POST /introspect
/// Authorization: Basic cmVnaXN0cnk6…            (registry:<secret>)
/// Content-Type: application/x-www-form-urlencoded
///
/// token=eyJ…&scope=repository:alice/app:pull
///
/// 200 {"active":true,"sub":"alice","exp":1795000000,"jti":"…","scope":"repository:alice/app:pull"}
/// 200 {"active":true,"sub":"","exp":1795000000,"jti":"…","scope":"repository:library/alpine:pull",
///      "pier_mirrored":["library/alpine"]}         (decided through the default mirror)
/// 200 {"active":false}
/// ```
pub async fn introspect(
    _: Registry,
    req: HttpRequest,
    index: web::Data<Index>,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let result = answer(&req, &index, payload).await;
    let outcome = match &result {
        Ok(a) if a.active => "active",
        Ok(_) => "inactive",
        Err(_) => "error",
    };
    index
        .metrics
        .introspections
        .get_or_create(&crate::metrics::OutcomeLabel { outcome })
        .inc();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(result?))
}

async fn answer(
    req: &HttpRequest,
    index: &Index,
    payload: web::Payload,
) -> Result<pier_shared::Introspection, Error> {
    let body = super::body::form(req, payload, index.config.limits.form_max_bytes).await?;
    let form: IntrospectForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| Error::BadRequest("expected a form with token (and scope)".into()))?;
    let wanted = match form.scope.as_deref() {
        Some(s) => Some(Scope::parse_list(s).map_err(|e| Error::BadRequest(e.to_string()))?),
        None => None,
    };
    introspection::introspect(index, &form.token, wanted).await
}
