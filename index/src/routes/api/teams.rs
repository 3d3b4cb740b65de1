//! `/api/v1/namespaces/{namespace}/teams`: teams and their members.

use crate::error::Result;
use crate::routes::auth::Caller;
use crate::services::namespaces;
use crate::state::Index;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// `GET /api/v1/namespaces/{namespace}/teams` → 200 the teams with their members.
pub async fn list(
    index: web::Data<Index>,
    Caller(me): Caller,
    namespace: web::Path<String>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(namespaces::list_teams(&index, &me, &namespace).await?))
}

#[derive(Debug, Deserialize)]
pub struct NewTeam {
    pub name: String,
    /// `admin`, `write` or `read`.
    pub role: String,
}

/// `POST /api/v1/namespaces/{namespace}/teams` `{"name":"dev","role":"write"}` → 201.
pub async fn create(
    index: web::Data<Index>,
    Caller(me): Caller,
    namespace: web::Path<String>,
    body: web::Json<NewTeam>,
) -> Result<HttpResponse> {
    let team = namespaces::create_team(&index, &me, &namespace, &body.name, &body.role).await?;
    Ok(HttpResponse::Created().json(team))
}

/// `PUT /api/v1/namespaces/{namespace}/teams/{team}/members/{user}` → 200 the team.
pub async fn add_member(
    index: web::Data<Index>,
    Caller(me): Caller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse> {
    let (ns, team, user) = path.into_inner();
    let t = namespaces::set_member(&index, &me, &ns, &team, &user, true).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// `DELETE /api/v1/namespaces/{namespace}/teams/{team}/members/{user}` → 200 the team.
pub async fn remove_member(
    index: web::Data<Index>,
    Caller(me): Caller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse> {
    let (ns, team, user) = path.into_inner();
    let t = namespaces::set_member(&index, &me, &ns, &team, &user, false).await?;
    Ok(HttpResponse::Ok().json(t))
}
