//! `/api/v1/access-tokens`: the caller's personal access tokens (the same service as the
//! web UI's page). Creating one answers its secret, once. A PAT cannot manage PATs: the
//! JSON API accepts neither a PAT as password nor a Bearer token issued from one.

use crate::error::{Error, Result};
use crate::routes::auth::Caller;
use crate::services::access_tokens::{self, PatScope};
use crate::state::Index;
use actix_web::{web, HttpResponse};
use pier_shared::Action;
use serde::Deserialize;

/// `GET /api/v1/access-tokens` → 200 `[{"id":…,"name":"ci","actions":"pull","active":true,…}]`.
pub async fn list(index: web::Data<Index>, Caller(me): Caller) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(access_tokens::list(&index, &me).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    /// `ns/repo` or `ns/*`; empty or absent: every repository the caller may use.
    #[serde(default)]
    repositories: Vec<String>,
    actions: Vec<String>,
    /// Absent: never expires.
    expires_in_days: Option<u32>,
}

/// `POST /api/v1/access-tokens` `{"name":"ci","repositories":["alice/app"],"actions":["pull"],
/// "expires_in_days":30}` → 201 `{"token":{…},"secret":"pier_pat_…"}`.
pub async fn create(
    index: web::Data<Index>,
    Caller(me): Caller,
    body: web::Json<NewToken>,
) -> Result<HttpResponse> {
    let actions: Vec<Action> = body
        .actions
        .iter()
        .map(|a| Action::from(a.clone()))
        .collect();
    if let Some(bad) = actions
        .iter()
        .find(|a| matches!(a, Action::All | Action::Other(_)))
    {
        let bad = bad.as_str();
        return Err(Error::BadRequest(format!(
            "unknown action {bad:?}: pull, push or delete"
        )));
    }
    let scope = PatScope::parse(&body.repositories.join(" "), &actions)?;
    let created =
        access_tokens::create(&index, &me, &body.name, scope, body.expires_in_days).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "token": created.token,
        "secret": created.secret,
    })))
}

/// `DELETE /api/v1/access-tokens/{id}` → 204; tokens issued from it become inactive.
pub async fn revoke(
    index: web::Data<Index>,
    Caller(me): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    access_tokens::revoke(&index, &me, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
