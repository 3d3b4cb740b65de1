//! `/v1/users/`: the v1 login check, registration and account updates.
//!
//! ```text
//! POST /v1/users/  {"username","password","email"}  → 201 "User Created"
//!                  (registration off, or taken)       → 400 "Username or email already exists"
//! GET  /v1/users/  Basic                              → 200 "OK" / 401 / 403 "Account is not Active"
//! PUT  /v1/users/<name>/  Basic, {"email","password"} → 204
//! ```

use super::{bad_request, json, presented, Presented, V1Error, V1Result};
use crate::error::Error;
use crate::services::v1::users::{self as v1users, ALREADY_EXISTS};
use crate::state::Index;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    email: Option<String>,
}

pub async fn register(
    req: HttpRequest,
    payload: web::Payload,
    index: web::Data<Index>,
) -> V1Result<HttpResponse> {
    let limit = index.config.limits.json_max_bytes;
    let body = crate::routes::body::read(&req, payload, limit).await?;
    let user: NewUser =
        serde_json::from_slice(&body).map_err(|_| bad_request("Error Decoding JSON"))?;
    let email = user.email.filter(|e| !e.is_empty());
    match v1users::register(&index, &user.username, &user.password, email).await {
        Ok(()) => Ok(json(StatusCode::CREATED, &"User Created")),
        // The exact answer docker ≤1.10 expects before it checks the login with GET.
        Err(Error::Conflict(_)) => Ok(json(StatusCode::BAD_REQUEST, &ALREADY_EXISTS)),
        Err(e) => Err(e.into()),
    }
}

pub async fn login(req: HttpRequest, index: web::Data<Index>) -> V1Result<HttpResponse> {
    let Presented::Basic(user, password) = presented(&req)? else {
        return Err(Error::Unauthenticated.into());
    };
    v1users::login(&index, &index.client(&req), &user, &password).await?;
    Ok(json(StatusCode::OK, &"OK"))
}

#[derive(Deserialize)]
pub struct Update {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    index: web::Data<Index>,
) -> V1Result<HttpResponse> {
    let limit = index.config.limits.json_max_bytes;
    let body = crate::routes::body::read(&req, payload, limit).await?;
    let Presented::Basic(user, password) = presented(&req)? else {
        return Err(Error::Unauthenticated.into());
    };
    let caller = v1users::login(&index, &index.client(&req), &user, &password).await?;
    let change: Update =
        serde_json::from_slice(&body).map_err(|_| bad_request("Error Decoding JSON"))?;
    let email = change.email.filter(|e| !e.is_empty());
    v1users::update(&index, &caller, &path, change.password.as_deref(), email)
        .await
        .map_err(V1Error)?;
    Ok(HttpResponse::NoContent().finish())
}
