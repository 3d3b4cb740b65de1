//! `GET /pier/v1/notifications`: each configured endpoint's delivery state, then each
//! per-namespace webhook's (those carry `"webhook"` and `"namespace"` members).
//!
//! ```text
//! GET /pier/v1/notifications   Authorization: Basic <auth.introspection_client:secret>
//!   → 200 {"endpoints":[{"name":"ci","url":"…","actions":["push","delete"],"pending":0,
//!          "oldest_pending_at":null,"failures":0,"last_error":null,"last_error_at":null,
//!          "last_success_at":1796000000,"delivered":12,"delivering":"<instance id>"},
//!         {"name":"webhook-3f2c…","webhook":"3f2c…","namespace":"team",…}]}
//!   → 401 UNAUTHORIZED (token mode, other credentials)
//! ```
//!
//! Only site admins should see it, and a registry token cannot tell an admin
//! (`registry:catalog:*` is granted to every signed-in user), so in token mode it takes
//! the credentials the registry itself presents to the index's introspection endpoint:
//! whoever holds them runs the pair. With `auth.mode = "none"` it is open, like the rest.

use crate::auth::Gate;
use crate::db;
use crate::error::{Error, Result};
use crate::state::Registry;
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{web, HttpRequest, HttpResponse};
use pier_shared::{ErrorCode, OciError};
use sha2::{Digest, Sha256};

pub const PATH: &str = "/pier/v1/notifications";

/// Are these the introspection client's Basic credentials? Compared as SHA-256 digests,
/// so the comparison's time says nothing about the secret.
fn is_operator(reg: &Registry, req: &HttpRequest) -> bool {
    use base64::Engine;
    let Some(given) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
    else {
        return false;
    };
    let a = &reg.config.auth;
    let want = format!(
        "{}:{}",
        a.introspection_client,
        a.introspection_secret.expose()
    );
    !a.introspection_secret.is_empty() && Sha256::digest(&given) == Sha256::digest(want.as_bytes())
}

/// `url` with any password in its authority replaced (`http://user:***@host/…`).
fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_string(),
    }
}

pub async fn get(req: HttpRequest, reg: web::Data<Registry>) -> Result<HttpResponse> {
    if matches!(*reg.auth, Gate::Token(_)) && !is_operator(&reg, &req) {
        return Err(Error::Oci(
            OciError::with_message(
                ErrorCode::Unauthorized,
                "the registry's introspection client credentials are required",
            )
            .header(WWW_AUTHENTICATE, "Basic realm=\"pier-registry\""),
        ));
    }
    let mut endpoints = Vec::new();
    for ep in reg.notifier.all() {
        let name = ep.name().to_string();
        let lease = format!("notifications:{name}");
        let (state, holder) = reg
            .db
            .run(move |c| {
                let s = db::outbox::state(c, &name)?;
                let h = pier_shared::db::lease::holder(c, &lease)?;
                Ok::<_, Error>((s, h))
            })
            .await?;
        let mut entry = serde_json::json!({
            "name": ep.name(),
            "url": shown(&ep.config.url),
            "actions": ep.config.actions,
            "pending": state.pending,
            "oldest_pending_at": state.oldest_pending_at,
            "failures": state.failures,
            "last_error": state.last_error,
            "last_error_at": state.last_error_at,
            "last_success_at": state.last_success_at,
            "delivered": state.delivered,
            "delivering": holder,
        });
        if let Some(w) = &ep.webhook {
            entry["webhook"] = w.id.clone().into();
            entry["namespace"] = w.namespace.clone().into();
        }
        endpoints.push(entry);
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "endpoints": endpoints })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_in_urls_are_not_shown() {
        assert_eq!(
            super::shown("https://ci:pw@hooks.example/a@b?x"),
            "https://ci:***@hooks.example/a@b?x"
        );
        assert_eq!(
            super::shown("http://127.0.0.1:9000/e@v"),
            "http://127.0.0.1:9000/e@v"
        );
    }
}
