//! The web UI, served by the index under `/ui/`: server-rendered HTML (maud), one embedded
//! style sheet and a few lines of plain JavaScript, no build step. It is a routes layer:
//! handlers extract, call services, render; every permission is decided by the same
//! services the JSON API uses, so a forged form post gets the same 403 a hidden button
//! would have avoided.
//!
//! ```text
//! session.rs    cookie session + CSRF (the `WebUser` extractor, login/logout)
//! page.rs       layout, navigation, HTML error pages, static files
//! repos.rs      repositories list/search, a repository's page, delete/visibility actions
//! cached.rs     the "cached from <url>" mark of mirrored repositories, with hit/miss counts
//! tokens.rs     personal access tokens: create (secret shown once), revoke
//! audit.rs      the audit log and the live token-flow page
//! teams.rs      organizations, teams and members
//! ```
//!
//! Not part of the JSON API: these routes are not in `routes::ROUTES` nor `openapi.json`.

mod audit;
mod cached;
mod page;
mod repos;
mod session;
mod teams;
mod tokens;

use crate::error::Error;
use actix_web::error::UrlencodedError;
use actix_web::{web, HttpResponse};

pub use session::{WebUser, SESSION_COOKIE};

/// The web UI's forms: at most `limit` bytes (a 413 page), else a 400 page when malformed.
pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default()
        .limit(limit)
        .error_handler(|e, _| {
            let e = match e {
                UrlencodedError::Overflow { limit, .. } => Error::PayloadTooLarge(limit),
                e => Error::BadRequest(format!("invalid form: {e}")),
            };
            page::WebError::Service(e).into()
        })
}

/// Register the UI (called from `routes::configure`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home)).service(
        web::scope("/ui")
            .route("/static/{file}", web::get().to(page::asset))
            .route("/login", web::get().to(session::login_form))
            .route("/login", web::post().to(session::login))
            .route("/logout", web::post().to(session::logout))
            .route("", web::get().to(repos::list))
            .route("/", web::get().to(repos::list))
            .route("/r/{name:.+}", web::get().to(repos::show))
            .route("/actions/delete-tag", web::post().to(repos::delete_tag))
            .route("/actions/delete-repository", web::post().to(repos::delete))
            .route("/actions/visibility", web::post().to(repos::visibility))
            .route("/tokens", web::get().to(tokens::list))
            .route("/tokens", web::post().to(tokens::create))
            .route("/tokens/revoke", web::post().to(tokens::revoke))
            .route("/audit", web::get().to(audit::log))
            .route("/flows", web::get().to(audit::flows))
            .route("/namespaces", web::get().to(teams::list))
            .route("/namespaces/{ns}", web::get().to(teams::show))
            .route("/actions/org", web::post().to(teams::create_org))
            .route("/actions/team", web::post().to(teams::create_team))
            .route("/actions/member", web::post().to(teams::member)),
    );
}

/// `GET /`: the UI.
async fn home() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", "/ui/"))
        .finish()
}
