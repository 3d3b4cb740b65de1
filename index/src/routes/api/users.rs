//! `/api/v1/user` and `/api/v1/users`: accounts.

use crate::db::users::User;
use crate::error::{Error, Result};
use crate::routes::auth::{Admin, Caller};
use crate::services::{tokens, users};
use crate::state::Index;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
pub struct UserView {
    pub name: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        let created = chrono::DateTime::from_timestamp(u.created_at, 0).unwrap_or_default();
        UserView {
            name: u.name,
            email: u.email,
            is_admin: u.is_admin,
            disabled: u.disabled,
            created_at: created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// `GET /api/v1/user` → 200 the caller.
pub async fn me(index: web::Data<Index>, Caller(me): Caller) -> Result<HttpResponse> {
    let user = users::find(&index, &me.name).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// `GET /api/v1/users` (site admins) → 200 every user.
pub async fn list(index: web::Data<Index>, _: Admin) -> Result<HttpResponse> {
    let all: Vec<UserView> = users::list(&index)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(all))
}

#[derive(Debug, Deserialize)]
pub struct NewUser {
    pub name: String,
    pub password: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub is_admin: bool,
}

/// `POST /api/v1/users` `{"name":"bob","password":"…"}` (site admins) → 201 the user, plus
/// `password` when it was generated.
pub async fn create(
    index: web::Data<Index>,
    Admin(admin): Admin,
    body: web::Json<NewUser>,
) -> Result<HttpResponse> {
    let b = body.into_inner();
    let (user, generated) = users::create(
        &index,
        &admin.name,
        &b.name,
        b.password.as_deref(),
        b.email,
        b.is_admin,
    )
    .await?;
    let mut json =
        serde_json::to_value(UserView::from(user)).map_err(|e| Error::Internal(e.to_string()))?;
    if let Some(pw) = generated {
        json["password"] = pw.into();
    }
    Ok(HttpResponse::Created().json(json))
}

/// `POST /api/v1/users/{name}/disable` (site admins) → 204.
pub async fn disable(
    index: web::Data<Index>,
    Admin(admin): Admin,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    users::set_disabled(&index, &admin.name, &name, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/users/{name}/enable` (site admins) → 204.
pub async fn enable(
    index: web::Data<Index>,
    Admin(admin): Admin,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    users::set_disabled(&index, &admin.name, &name, false).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct PasswordChange {
    /// The new password; a site admin resetting someone else's may omit it (generated).
    pub password: Option<String>,
    /// Required when changing your own password.
    pub current_password: Option<String>,
}

/// `PUT /api/v1/users/{name}/password`: your own (with `current_password`) → 204, or a
/// site admin's reset of another user → 200 `{"password":…}` when generated, else 204.
pub async fn password(
    req: HttpRequest,
    index: web::Data<Index>,
    Caller(me): Caller,
    name: web::Path<String>,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse> {
    let b = body.into_inner();
    if *name == me.name {
        let current = b.current_password.as_deref().unwrap_or_default();
        tokens::authenticate(&index, &index.client(&req), &me.name, current)
            .await
            .map_err(|e| match e {
                Error::Unauthenticated => Error::Forbidden("current_password is wrong".into()),
                other => other,
            })?;
        let new = b
            .password
            .as_deref()
            .ok_or(Error::BadRequest("password is required".into()))?;
        users::set_password(&index, &me.name, &me.name, Some(new)).await?;
        return Ok(HttpResponse::NoContent().finish());
    }
    if !me.is_admin {
        return Err(Error::Forbidden(
            "you may change only your own password".into(),
        ));
    }
    match users::set_password(&index, &me.name, &name, b.password.as_deref()).await? {
        Some(pw) => Ok(HttpResponse::Ok().json(serde_json::json!({ "password": pw }))),
        None => Ok(HttpResponse::NoContent().finish()),
    }
}
