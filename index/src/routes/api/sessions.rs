//! `/api/v1/refresh-tokens`: the caller's login sessions (docker identity tokens).

use crate::error::Result;
use crate::routes::auth::Caller;
use crate::services::sessions;
use crate::state::Index;
use actix_web::{web, HttpResponse};

/// `GET /api/v1/refresh-tokens` → 200 `[{"id":…,"client_id":"docker","active":true,…}]`.
pub async fn list(index: web::Data<Index>, Caller(me): Caller) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(sessions::list(&index, &me).await?))
}

/// `DELETE /api/v1/refresh-tokens/{id}` → 204; its access tokens become inactive.
pub async fn revoke(
    index: web::Data<Index>,
    Caller(me): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    sessions::revoke(&index, &me, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
