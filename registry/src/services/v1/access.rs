//! Who may do what on `/v1`: every token is checked **by calling the index**, as the v1
//! workflows describe, and a confirmed token's grant is carried by a session cookie for
//! the rest of that pull or push (the index uses a token up when it confirms it).
//!
//! ```text
//! cookie names a live session that covers the request      → served
//! Authorization: Token signature=…,repository="a/b",access=…
//!   repository ≠ the route's, or access does not fit       → 401 (the index is not asked)
//!   read / write:  GET  <index>/v1/repositories/a/b/images (the client's header verbatim)
//!   delete:        PUT  <index>/v1/repositories/a/b/auth
//!   200 → new session (repository, access, the index's image list) + Set-Cookie
//!   401/403/404 → 401;  unreachable / 5xx → 503
//! nothing                                                   → 401 WWW-Authenticate: Token
//! ```
//!
//! Sessions are rows in the database (`v1_sessions`), so the next request of a pull or
//! push may reach any replica, and a restarted registry keeps them. Their ids are 256
//! random bits, stored only as a SHA-256; they never hold the token.

use super::error::{V1Error, V1Result};
use crate::auth::client::IndexClient;
use crate::config::V1Config;
use crate::db::{self, Db};
use actix_web::http::header::HeaderMap;
use awc::http::Method;
use pier_shared::v1::{Access, ImageId, Token};
use pier_shared::RepoName;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::time::Duration;

/// The session cookie's name.
pub const COOKIE: &str = "pier_v1_session";

/// What a confirmed token granted.
#[derive(Debug, Clone)]
pub struct Session {
    pub repository: RepoName,
    pub access: Access,
    /// The index's image list for the repository when the token was confirmed.
    pub images: HashSet<String>,
}

/// What a request needs.
pub struct Need<'a> {
    pub access: Access,
    /// The repository of the route (tags, repository); none for `/v1/images/…`.
    pub repository: Option<&'a RepoName>,
}

/// A request that may go ahead: the grant, and the cookie to set if a token was
/// confirmed just now (on every answer, refusals too: the token is used up).
pub struct Authorized {
    pub session: Session,
    pub set_cookie: Option<String>,
}

pub struct V1State {
    index_url: String,
    client: IndexClient,
    lifetime: Duration,
    max: usize,
    db: Db,
}

/// Does a session with `held` access serve a request needing `need`? A write session
/// may also read (the client checks which images already exist before pushing).
fn covers(held: Access, need: Access) -> bool {
    held == need || (held == Access::Write && need == Access::Read)
}

fn random_id() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("cookie")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim_matches('"').to_string())
}

/// The key a session is stored under: the SHA-256 of its cookie value.
fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

fn unavailable(e: db::DbError) -> V1Error {
    log::warn!("v1 sessions: {e}");
    V1Error::Unavailable("the session table is unavailable; retry later".into())
}

impl V1State {
    pub fn new(
        config: &V1Config,
        timeout: Duration,
        ca_certificate: &str,
        db: Db,
        metrics: crate::metrics::IndexMetrics,
    ) -> Result<V1State, String> {
        Ok(V1State {
            index_url: config.index_url.trim_end_matches('/').to_string(),
            client: IndexClient::new(timeout, ca_certificate)?.with_metrics(metrics),
            lifetime: Duration::from_secs(config.session_seconds),
            max: config.max_sessions,
            db,
        })
    }

    pub fn enabled(&self) -> bool {
        !self.index_url.is_empty()
    }

    async fn session(&self, id: &str) -> V1Result<Option<Session>> {
        let key = id_hash(id);
        let row = self
            .db
            .run(move |c| db::v1_sessions::find(c, &key))
            .await
            .map_err(unavailable)?;
        Ok(row.and_then(|r| {
            Some(Session {
                repository: r.repository.parse().ok()?,
                access: r.access.parse().ok()?,
                images: r.images.lines().map(str::to_string).collect(),
            })
        }))
    }

    async fn open_session(&self, s: &Session) -> V1Result<String> {
        let id = random_id();
        let key = id_hash(&id);
        let mut images: Vec<&str> = s.images.iter().map(String::as_str).collect();
        images.sort_unstable();
        let row = db::v1_sessions::Row {
            repository: s.repository.to_string(),
            access: s.access.as_str().to_string(),
            images: images.join("\n"),
        };
        let until = db::now().saturating_add(self.lifetime.as_secs() as i64);
        let max = i64::try_from(self.max).unwrap_or(i64::MAX);
        let opened = self
            .db
            .run(move |c| db::v1_sessions::insert(c, &key, &row, until, max))
            .await
            .map_err(unavailable)?;
        if !opened {
            return Err(V1Error::Unavailable(
                "too many v1 sessions; retry later".into(),
            ));
        }
        Ok(id)
    }

    /// May a request with these headers do what `need` says?
    pub async fn authorize(&self, headers: &HeaderMap, need: &Need<'_>) -> V1Result<Authorized> {
        let held = match cookie_of(headers) {
            Some(id) => self.session(&id).await?,
            None => None,
        };
        if let Some(s) = held {
            if covers(s.access, need.access) && need.repository.is_none_or(|r| *r == s.repository) {
                return Ok(Authorized {
                    session: s,
                    set_cookie: None,
                });
            }
        }
        let header = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| V1Error::Unauthorized("Requires authorization".into()))?;
        let token = match Token::from_authorization(header) {
            Some(Ok(t)) => t,
            _ => return Err(V1Error::Unauthorized("a v1 token is required".into())),
        };
        if need.repository.is_some_and(|r| *r != token.repository) {
            return Err(V1Error::Unauthorized(format!(
                "the token is for {}, not this repository",
                token.repository
            )));
        }
        if !covers(token.access, need.access) {
            return Err(V1Error::Unauthorized(format!(
                "the token grants {} access, this request needs {}",
                token.access, need.access
            )));
        }
        let images = self.confirm(header, &token).await?;
        let session = Session {
            repository: token.repository.clone(),
            access: token.access,
            images,
        };
        let id = self.open_session(&session).await?;
        log::info!(
            "v1 token {} confirmed by the index: {} on {}",
            token.id,
            token.access,
            token.repository
        );
        let max_age = self.lifetime.as_secs();
        Ok(Authorized {
            session,
            set_cookie: Some(format!(
                "{COOKIE}={id}; Path=/; HttpOnly; Max-Age={max_age}"
            )),
        })
    }

    /// Ask the index about `token`; the image list it answers (empty for delete).
    async fn confirm(&self, header: &str, token: &Token) -> V1Result<HashSet<String>> {
        let repo = &token.repository;
        let (method, url) = match token.access {
            Access::Delete => (
                Method::PUT,
                format!("{}/v1/repositories/{repo}/auth", self.index_url),
            ),
            _ => (
                Method::GET,
                format!("{}/v1/repositories/{repo}/images", self.index_url),
            ),
        };
        let (status, body) = self
            .client
            .v1_check(method, &url, header)
            .await
            .map_err(|e| {
                log::warn!("v1 token check: {e}");
                V1Error::Unavailable("the index cannot confirm the token now; retry later".into())
            })?;
        match status {
            200 => {}
            401 | 403 | 404 => {
                log::info!("v1 token {} refused by the index ({status})", token.id);
                return Err(V1Error::Unauthorized("the index refused the token".into()));
            }
            other => {
                log::warn!("v1 token check: {url} answered {other}");
                return Err(V1Error::Unavailable(
                    "the index cannot confirm the token now; retry later".into(),
                ));
            }
        }
        if token.access == Access::Delete {
            return Ok(HashSet::new());
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            id: String,
        }
        let list: Vec<Entry> = serde_json::from_slice(&body).map_err(|e| {
            log::warn!("v1 token check: {url}: unreadable image list: {e}");
            V1Error::Unavailable("the index answered an unreadable image list".into())
        })?;
        Ok(list.into_iter().map(|e| e.id).collect())
    }
}

impl Authorized {
    /// Is `image` in the repository's image list (as the index answered it)?
    pub fn check_image(&self, image: &ImageId) -> V1Result<()> {
        if self.session.images.contains(image.as_str()) {
            Ok(())
        } else {
            Err(V1Error::Forbidden(format!(
                "image {image} is not in the image list of {}",
                self.session.repository
            )))
        }
    }
}
