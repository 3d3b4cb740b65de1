//! Browser sessions for the web UI: the same users and passwords as `docker login`
//! (bcrypt once per login, through the credential cache), a random cookie token of which
//! only the SHA-256 is stored, and a per-session CSRF token every form must echo.
//!
//! Disabled users lose their sessions at once: the user is read on every request.

use super::policy::Subject;
use super::{random, tokens};
use crate::db::web_sessions::{self, WebSession};
use crate::db::{now, users, DbError};
use crate::error::{Error, Result};
use crate::services::login_throttle::Client;
use crate::state::Index;
use sha2::{Digest, Sha256};

/// How long a session lasts, in seconds (12 hours).
pub const LIFETIME: i64 = 12 * 3600;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A logged-in browser: who, and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub subject: Subject,
    pub csrf: String,
}

/// Check the password and open a session; returns the cookie's token.
pub async fn login(index: &Index, client: &Client, name: &str, password: &str) -> Result<String> {
    let subject = tokens::authenticate(index, client, name, password).await?;
    let token = random::token();
    let row = WebSession {
        token_hash: hash(&token),
        user_id: subject.id,
        csrf: random::token(),
        created_at: now(),
        expires_at: now() + LIFETIME,
    };
    index
        .db
        .run(move |c| -> Result<(), DbError> {
            web_sessions::delete_expired(c, now())?;
            web_sessions::insert(c, &row)
        })
        .await?;
    index
        .audit
        .record(&index.db, &subject.name, "web.login", &subject.name, None);
    Ok(token)
}

/// The session behind a cookie token, if it is live and its user enabled.
pub async fn find(index: &Index, token: &str) -> Result<Option<Session>> {
    let token_hash = hash(token);
    let found = index
        .db
        .run(move |c| -> Result<_, DbError> {
            let Some(s) = web_sessions::find_live(c, &token_hash, now())? else {
                return Ok(None);
            };
            Ok(users::find_by_id(c, s.user_id)?.map(|u| (u, s.csrf)))
        })
        .await?;
    Ok(match found {
        Some((u, csrf)) if !u.disabled => Some(Session {
            subject: Subject {
                id: u.id,
                name: u.name,
                is_admin: u.is_admin,
            },
            csrf,
        }),
        _ => None,
    })
}

/// End the session behind a cookie token.
pub async fn logout(index: &Index, session: &Session, token: &str) -> Result<()> {
    let token_hash = hash(token);
    index
        .db
        .run(move |c| web_sessions::delete(c, &token_hash))
        .await
        .map_err(Error::from)?;
    let name = &session.subject.name;
    index
        .audit
        .record(&index.db, name, "web.logout", name, None);
    Ok(())
}

/// Constant-time comparison of a submitted CSRF token with the session's.
pub fn csrf_matches(session: &Session, submitted: &str) -> bool {
    let (a, b) = (session.csrf.as_bytes(), submitted.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}
