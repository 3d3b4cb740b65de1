//! The page layout, HTML error pages and the embedded static files.

use super::session::WebUser;
use crate::error::Error;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use maud::{html, Markup, DOCTYPE};

const CSS: &str = include_str!("static/pier.css");
const JS: &str = include_str!("static/pier.js");

/// `GET /ui/static/{file}`: the style sheet and script, compiled into the binary.
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    let (body, kind) = match file.as_str() {
        "pier.css" => (CSS, "text/css; charset=utf-8"),
        "pier.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .insert_header(("Content-Type", kind))
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}

/// Headers every page carries: no framing, no inline script, no caching of private pages.
fn headers(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.insert_header(("Content-Type", "text/html; charset=utf-8"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; form-action 'self'; \
             frame-ancestors 'none'",
        ))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header(("Cache-Control", "no-store"));
    res
}

/// A hidden CSRF field for a form of `user`'s.
pub fn csrf(user: &WebUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.session.csrf); }
}

fn layout(title: &str, user: Option<&WebUser>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Pier" }
                link rel="stylesheet" href="/ui/static/pier.css";
                script src="/ui/static/pier.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/ui/" { "Pier" }
                    @if let Some(u) = user {
                        nav {
                            a href="/ui/" { "Repositories" }
                            a href="/ui/namespaces" { "Namespaces" }
                            a href="/ui/tokens" { "Access tokens" }
                            a href="/ui/audit" { "Audit" }
                            a href="/ui/flows" { "Token flows" }
                        }
                        form.logout method="post" action="/ui/logout" {
                            (csrf(u))
                            span.who { (u.session.subject.name) }
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A 200 page.
pub fn page(title: &str, user: &WebUser, body: Markup) -> HttpResponse {
    headers(StatusCode::OK).body(layout(title, Some(user), body).into_string())
}

/// A page without navigation (login form, errors), with `status`.
pub fn bare(status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    headers(status).body(layout(title, None, body).into_string())
}

/// Unix seconds as `2026-11-23 12:00 UTC`.
pub fn time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// Bytes for people: `12.3 MB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let (mut v, mut u) = (bytes as f64, 0);
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// What went wrong on a page, answered as an HTML page (never a JSON problem).
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No session: to the login form, then back to `next`.
    #[error("log in first")]
    LoginRequired(String),
    #[error("the form is stale or forged (CSRF check failed); reload the page and try again")]
    Csrf,
    #[error(transparent)]
    Service(#[from] Error),
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::LoginRequired(_) => StatusCode::SEE_OTHER,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Service(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::LoginRequired(next) = self {
            let to = format!("/ui/login?next={}", urlencode(next));
            return HttpResponse::SeeOther()
                .insert_header(("Location", to))
                .finish();
        }
        let status = self.status_code();
        let message = match self {
            WebError::Service(e) => e.public_detail(),
            other => other.to_string(),
        };
        let title = status.canonical_reason().unwrap_or("Error");
        bare(
            status,
            title,
            html! {
                p.error { (message) }
                p { a href="/ui/" { "Back to the repositories" } }
            },
        )
    }
}

/// Percent-encode a query value.
pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .map(|e| e[2..].to_string())
        .unwrap_or_default()
}
