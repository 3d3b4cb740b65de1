//! `/api/v1/repositories`: what a caller may see, and visibility/deletion by those who
//! manage the namespace. Repositories a caller may not pull are "not found".

use crate::error::{Error, Result};
use crate::routes::auth::{Caller, MaybeCaller};
use crate::services::repositories;
use crate::state::Index;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Substring of the name.
    pub q: Option<String>,
    /// 1-based.
    pub page: Option<u32>,
    /// 1..=100, default 50.
    pub per_page: Option<u32>,
}

/// `GET /api/v1/repositories?q=app&page=1&per_page=50` → 200 the visible repositories.
pub async fn list(
    index: web::Data<Index>,
    MaybeCaller(me): MaybeCaller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let q = query.into_inner();
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=100).contains(&per_page) || q.page == Some(0) {
        return Err(Error::BadRequest("page ≥ 1 and 1 ≤ per_page ≤ 100".into()));
    }
    let page = q.page.unwrap_or(1);
    let repos = repositories::list(&index, me, q.q, page, per_page).await?;
    Ok(HttpResponse::Ok().json(repos))
}

/// `GET /api/v1/repositories/{name}` → 200 the repository.
pub async fn get(
    index: web::Data<Index>,
    MaybeCaller(me): MaybeCaller,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(repositories::get(&index, me, &name).await?))
}

#[derive(Debug, Deserialize)]
pub struct RepositoryUpdate {
    /// `public` or `private`.
    pub visibility: String,
}

/// `PATCH /api/v1/repositories/{name}` `{"visibility":"public"}` → 200 the repository.
pub async fn update(
    index: web::Data<Index>,
    Caller(me): Caller,
    name: web::Path<String>,
    body: web::Json<RepositoryUpdate>,
) -> Result<HttpResponse> {
    let repo = repositories::set_visibility(&index, Some(&me), &name, &body.visibility).await?;
    Ok(HttpResponse::Ok().json(repo))
}

/// `DELETE /api/v1/repositories/{name}` → 204; tokens lose access to it at once, and a
/// background job deletes it at the registry (docs/deletion.md).
pub async fn delete(
    index: web::Data<Index>,
    Caller(me): Caller,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    repositories::delete(&index, Some(&me), &name).await?;
    Ok(HttpResponse::NoContent().finish())
}
