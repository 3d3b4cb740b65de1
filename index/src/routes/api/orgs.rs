//! `/api/v1/orgs`: organizations.

use crate::error::Result;
use crate::routes::auth::Caller;
use crate::services::namespaces;
use crate::state::Index;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// `GET /api/v1/orgs` → 200 `[{"name":"acme","owners":["alice"]}]`.
pub async fn list(index: web::Data<Index>, _: Caller) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(namespaces::list_orgs(&index).await?))
}

#[derive(Debug, Deserialize)]
pub struct NewOrg {
    pub name: String,
}

/// `POST /api/v1/orgs` `{"name":"acme"}` → 201; the caller owns it.
pub async fn create(
    index: web::Data<Index>,
    Caller(me): Caller,
    body: web::Json<NewOrg>,
) -> Result<HttpResponse> {
    let org = namespaces::create_org(&index, &me, &body.name).await?;
    Ok(HttpResponse::Created().json(org))
}
