//! Telling the index about the mirror (token mode), so that it decides who may pull
//! through it like for any repository (docs/mirror.md, "Token mode").
//!
//! ```text
//! PUT <index>/pier/v1/mirrors                      at start, then every 5 minutes
//!     {"default":"hub","upstreams":[{"prefix":"hub","url":"…","public":true}]}
//! PUT <index>/pier/v1/mirrors/repositories/<name>  for each newly cached repository
//! ```
//!
//! Both authenticate as the registry does at `/introspect` (HTTP Basic with the
//! introspection client and secret) and are idempotent, so every replica sends them. Until
//! the first succeeds the index grants nothing under the mirror's prefix; failures are
//! retried with a growing pause (at most 30 s), and logged once per outage.

use crate::auth::client::IndexClient;
use crate::config::AuthConfig;
use crate::db;
use crate::state::Registry;
use std::time::Duration;

const REFRESH: Duration = Duration::from_secs(300);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// The index's base URL, from `auth.introspection_url` (`<index>/introspect`).
pub fn index_base(auth: &AuthConfig) -> Option<String> {
    let url = auth.introspection_url.trim_end_matches('/');
    url.strip_suffix("/introspect")
        .filter(|b| !b.is_empty())
        .map(str::to_string)
}

/// The body of `PUT /pier/v1/mirrors`.
pub fn announcement(reg: &Registry) -> serde_json::Value {
    let m = &reg.mirror.config;
    serde_json::json!({
        "default": (!m.default.is_empty()).then_some(m.default.as_str()),
        "upstreams": m.upstreams.iter().map(|u| serde_json::json!({
            "prefix": u.prefix,
            "url": u.url,
            "public": u.public,
        })).collect::<Vec<_>>(),
    })
}

struct Link {
    client: IndexClient,
    base: String,
    user: String,
    secret: String,
}

/// A refusal (the status, and the message for the log), or no answer.
enum PutError {
    Refused(u16, String),
    Unreachable(String),
}

impl std::fmt::Display for PutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PutError::Refused(_, m) | PutError::Unreachable(m) => f.write_str(m),
        }
    }
}

impl Link {
    async fn put(&self, path: &str, body: Option<&serde_json::Value>) -> Result<(), PutError> {
        let url = format!("{}{path}", self.base);
        match self
            .client
            .put_json(&url, &self.user, &self.secret, body)
            .await
        {
            Ok((s, _)) if (200..300).contains(&s) => Ok(()),
            Ok((s, body)) => Err(PutError::Refused(
                s,
                format!(
                    "{url} answered {s}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ),
            )),
            Err(e) => Err(PutError::Unreachable(e.to_string())),
        }
    }
}

/// Run forever (a task): announce the mirrors, then the cached repositories as they come.
pub async fn run(reg: Registry) {
    let auth = &reg.config.auth;
    let Some(base) = index_base(auth) else {
        log::error!(
            "mirror: auth.introspection_url does not end in /introspect; the index is not \
             told of the mirror, and grants nothing under its prefixes"
        );
        return;
    };
    let client = match IndexClient::new(
        Duration::from_secs(auth.index_timeout_seconds.max(1)),
        &auth.ca_certificate,
    ) {
        Ok(c) => c.with_metrics(reg.metrics.index.clone()),
        Err(e) => {
            log::error!("mirror: cannot reach the index: {e}");
            return;
        }
    };
    let link = Link {
        client,
        base,
        user: auth.introspection_client.clone(),
        secret: auth.introspection_secret.expose().to_string(),
    };
    let body = announcement(&reg);
    let mut pause = Duration::from_secs(1);
    let mut failing = false;
    let mut announced_at: Option<std::time::Instant> = None;
    loop {
        let due = announced_at.is_none_or(|t| t.elapsed() >= REFRESH);
        let result = async {
            if due {
                link.put("/pier/v1/mirrors", Some(&body)).await?;
                if announced_at.is_none() {
                    log::info!("mirror: the index knows the mirror's upstreams");
                }
                announced_at = Some(std::time::Instant::now());
            }
            register_repositories(&reg, &link).await
        }
        .await;
        match result {
            Ok(()) => {
                if failing {
                    log::info!("mirror: the index answers again");
                }
                failing = false;
                pause = Duration::from_secs(1);
                let wake = reg.mirror.registrar.notified();
                let _ = actix_web::rt::time::timeout(REFRESH, wake).await;
            }
            Err(e) => {
                if !failing {
                    log::warn!("mirror: could not tell the index (retrying): {e}");
                }
                failing = true;
                actix_web::rt::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

async fn register_repositories(reg: &Registry, link: &Link) -> Result<(), PutError> {
    let names = reg
        .db
        .run(db::mirror::unregistered)
        .await
        .map_err(|e| PutError::Unreachable(format!("database: {e}")))?;
    for name in names {
        match link
            .put(&format!("/pier/v1/mirrors/repositories/{name}"), None)
            .await
        {
            Ok(()) => log::info!("mirror: the index knows the cached repository {name}"),
            // A definite no (not under a mirror it knows, a name it refuses): asking
            // again will not change it; the repository is still served.
            Err(PutError::Refused(s, m)) if (400..500).contains(&s) && s != 401 => {
                log::warn!("mirror: the index refused the cached repository {name}: {m}")
            }
            Err(e) => return Err(e),
        }
        let n = name.clone();
        reg.db
            .run(move |c| db::mirror::mark_registered(c, &n, db::now()))
            .await
            .map_err(|e| PutError::Unreachable(format!("database: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_from_the_introspection_url() {
        let mut a = AuthConfig {
            introspection_url: "http://127.0.0.1:5001/introspect".into(),
            ..Default::default()
        };
        assert_eq!(index_base(&a).as_deref(), Some("http://127.0.0.1:5001"));
        a.introspection_url = "https://idx.example/pier/introspect/".into();
        assert_eq!(index_base(&a).as_deref(), Some("https://idx.example/pier"));
        a.introspection_url = "https://idx.example/oauth2/check".into();
        assert_eq!(index_base(&a), None);
    }
}
