//! Sessions in the browser: a cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS,
//! path `/ui`) holding a random token, and a CSRF token in every form, compared with the
//! session's. The login form, made before any session exists, uses a double-submit
//! cookie for the same purpose.

use super::page::{bare, urlencode, WebError};
use crate::services::random;
use crate::services::web_sessions::{self, Session, LIFETIME};
use crate::state::Index;
use actix_web::dev::Payload;
use actix_web::http::header::COOKIE;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;

pub const SESSION_COOKIE: &str = "pier_session";
const LOGIN_COOKIE: &str = "pier_login";

/// The value of cookie `name` in the request.
fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value; `max_age` 0 deletes it. `Secure` when the index is reached over
/// HTTPS (its own TLS or an `https://` public URL, [`IndexConfig::https`]) or the request
/// says it came that way.
///
/// [`IndexConfig::https`]: crate::config::IndexConfig::https
fn set_cookie(req: &HttpRequest, name: &str, value: &str, max_age: i64) -> String {
    let https = index_of(req).is_ok_and(|i| i.config.https());
    let secure = if https || req.connection_info().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

fn index_of(req: &HttpRequest) -> Result<Index, WebError> {
    req.app_data::<web::Data<Index>>()
        .map(|d| d.get_ref().clone())
        .ok_or_else(|| crate::error::Error::Internal("no index state".into()).into())
}

/// A logged-in browser. Pages that take it send everyone else to the login form.
pub struct WebUser {
    pub session: Session,
    token: String,
}

impl WebUser {
    /// Check a form's CSRF token (403 otherwise).
    pub fn check(&self, submitted: &str) -> Result<(), WebError> {
        if web_sessions::csrf_matches(&self.session, submitted) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    pub fn subject(&self) -> &crate::services::policy::Subject {
        &self.session.subject
    }
}

impl FromRequest for WebUser {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let next = match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{q}", req.path()),
        };
        let found = index_of(req).map(|i| (i, cookie(req, SESSION_COOKIE)));
        Box::pin(async move {
            let (index, token) = found?;
            let token = token.ok_or_else(|| WebError::LoginRequired(next.clone()))?;
            match web_sessions::find(&index, &token).await? {
                Some(session) => Ok(WebUser { session, token }),
                None => Err(WebError::LoginRequired(next)),
            }
        })
    }
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only local UI paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.starts_with("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/ui/".to_string(),
    }
}

fn login_page(
    req: &HttpRequest,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
) -> HttpResponse {
    let csrf = random::token();
    let mut res = bare(
        status,
        "Log in",
        html! {
            @if let Some(e) = error { p.error { (e) } }
            form.card.login method="post" action="/ui/login" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label { "User" input name="username" autocomplete="username" required autofocus; }
                label { "Password" input name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { "Log in" }
                p.hint { "The same user and password as " code { "docker login" } "." }
            }
        },
    );
    if let Ok(v) = set_cookie(req, LOGIN_COOKIE, &csrf, 3600).parse() {
        res.headers_mut()
            .append(actix_web::http::header::SET_COOKIE, v);
    }
    res
}

/// `GET /ui/login`
pub async fn login_form(req: HttpRequest, q: web::Query<Next>) -> HttpResponse {
    login_page(&req, StatusCode::OK, &safe_next(q.next.as_deref()), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
}

/// `POST /ui/login`: check the password (bcrypt once, cached), open a session.
pub async fn login(
    req: HttpRequest,
    index: web::Data<Index>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let expected = cookie(&req, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || expected != form.csrf {
        return Err(WebError::Csrf);
    }
    let next = safe_next(form.next.as_deref());
    let client = index.client(&req);
    let token = match web_sessions::login(&index, &client, &form.username, &form.password).await {
        Ok(t) => t,
        Err(crate::error::Error::Unauthenticated) => {
            let msg = "Wrong user name or password.";
            return Ok(login_page(&req, StatusCode::UNAUTHORIZED, &next, Some(msg)));
        }
        Err(e @ crate::error::Error::TooManyRequests { .. }) => {
            let msg = format!("Too many failed logins from your address: {e}.");
            let mut page = login_page(&req, StatusCode::TOO_MANY_REQUESTS, &next, Some(&msg));
            e.add_retry_after(&mut page);
            return Ok(page);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", next))
        .append_header((
            "Set-Cookie",
            set_cookie(&req, SESSION_COOKIE, &token, LIFETIME),
        ))
        .append_header(("Set-Cookie", set_cookie(&req, LOGIN_COOKIE, "", 0)))
        .finish())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// `POST /ui/logout`
pub async fn logout(
    req: HttpRequest,
    index: web::Data<Index>,
    user: WebUser,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    user.check(&form.csrf)?;
    web_sessions::logout(&index, &user.session, &user.token).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/ui/login?next={}", urlencode("/ui/"))))
        .append_header(("Set-Cookie", set_cookie(&req, SESSION_COOKIE, "", 0)))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_ui_paths_are_followed() {
        assert_eq!(safe_next(Some("/ui/r/a/b")), "/ui/r/a/b");
        assert_eq!(safe_next(Some("https://evil.example/")), "/ui/");
        assert_eq!(safe_next(Some("//evil.example/ui/")), "/ui/");
        assert_eq!(safe_next(None), "/ui/");
    }
}
