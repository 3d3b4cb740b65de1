//! Issuing registry tokens: grant (policy), allocate pushed-to repositories, optionally
//! create a refresh token, sign. Also authenticating a caller by password or refresh token.
//!
//! Only the SHA-256 of a refresh token is stored; redeeming one is a lookup, never bcrypt.

use super::access_tokens::{self, PatLogin, PatScope};
use super::login_throttle::{self, Client};
use super::policy::{self, Subject};
use super::random;
use crate::db::{namespaces, now, refresh_tokens, repositories, users, Conn, DbError};
use crate::error::{Error, Result};
use crate::state::Index;
use chrono::{DateTime, SecondsFormat, Utc};
use pier_shared::{Claims, ResourceActions, Scope};
use sha2::{Digest, Sha256};

/// What a client asked `/token` for, after authentication.
pub struct TokenRequest {
    /// The `aud`; already checked to be a service this index serves.
    pub service: String,
    pub scopes: Vec<Scope>,
    /// `Some(client_id)`: also create a refresh token (authenticated subjects only).
    pub offline: Option<String>,
    /// The refresh token this request was authenticated with (the `rti` claim).
    pub rti: Option<String>,
}

/// A signed token and what the response reports about it.
pub struct Issued {
    pub token: String,
    pub expires_in: u64,
    pub issued_at: String,
    pub refresh_token: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn subject_of(user: &users::User) -> Subject {
    Subject {
        id: user.id,
        name: user.name.clone(),
        is_admin: user.is_admin,
    }
}

/// Check a user name and password (bcrypt at most once per cache period), through the
/// login throttle: a `client` with too many failures is refused (429) unchecked.
pub async fn authenticate(
    index: &Index,
    client: &Client,
    name: &str,
    password: &str,
) -> Result<Subject> {
    login_throttle::guard(index, client, name, check_password(index, name, password)).await
}

async fn check_password(index: &Index, name: &str, password: &str) -> Result<Subject> {
    let owned = name.to_string();
    let user = index.db.run(move |c| users::find(c, &owned)).await?;
    match user {
        Some(u) if index.credentials.check(&u, password).await => Ok(subject_of(&u)),
        Some(_) => Err(Error::Unauthenticated),
        None => {
            index.credentials.check_unknown(password).await;
            Err(Error::Unauthenticated)
        }
    }
}

/// A login at the token endpoint: a password, or a personal access token (whose scope then
/// limits the grant; no bcrypt for those).
/// Throttled like [`authenticate`].
pub async fn login(
    index: &Index,
    client: &Client,
    name: &str,
    password: &str,
) -> Result<(Subject, Option<PatLogin>)> {
    let attempt = async {
        if access_tokens::is_secret(password) {
            let pat = access_tokens::authenticate(index, name, password).await?;
            return Ok((pat.subject.clone(), Some(pat)));
        }
        Ok((check_password(index, name, password).await?, None))
    };
    login_throttle::guard(index, client, name, attempt).await
}

/// The subject and id of a valid refresh token of an enabled user.
pub async fn redeem_refresh_token(index: &Index, token: &str) -> Result<(Subject, String)> {
    let hash = hash_refresh_token(token);
    let found = index
        .db
        .run(move |c| -> Result<_, DbError> {
            let Some(rt) = refresh_tokens::find_by_hash(c, &hash)? else {
                return Ok(None);
            };
            Ok(users::find_by_id(c, rt.user_id)?.map(|u| (u, rt)))
        })
        .await?;
    match found {
        Some((u, rt)) if !u.disabled && rt.is_valid_at(now()) => Ok((subject_of(&u), rt.id)),
        _ => Err(Error::Unauthenticated),
    }
}

/// Create the repositories push was granted on (admins may push to a namespace nobody
/// has yet: it becomes an organization they own).
pub(crate) fn allocate(
    conn: &mut Conn,
    subject: &Subject,
    names: &[pier_shared::RepoName],
) -> Result<()> {
    for name in names {
        let ns = match namespaces::find(conn, name.namespace())? {
            Some(ns) => ns,
            None if subject.is_admin => {
                let ns = namespaces::insert(conn, name.namespace(), namespaces::ORG)?;
                namespaces::add_owner(conn, ns.id, subject.id)?;
                ns
            }
            None => continue,
        };
        repositories::allocate(conn, ns.id, name.as_str())?;
    }
    Ok(())
}

/// Grant, allocate, maybe create a refresh token, and sign.
pub async fn issue(index: &Index, subject: Option<Subject>, req: TokenRequest) -> Result<Issued> {
    issue_within(index, subject, req, None).await
}

/// As [`issue`], the grant cut down to `limit` (a personal access token's scope).
pub async fn issue_within(
    index: &Index,
    subject: Option<Subject>,
    req: TokenRequest,
    limit: Option<PatScope>,
) -> Result<Issued> {
    issue_recorded(index, subject, req, limit, "token.issue").await
}

/// As [`issue_within`], recorded in the audit log as `action` (`token.issue` for `/token`,
/// `web.token.issue` for the tokens the web UI takes to read the registry for a user).
pub async fn issue_recorded(
    index: &Index,
    subject: Option<Subject>,
    req: TokenRequest,
    limit: Option<PatScope>,
    action: &str,
) -> Result<Issued> {
    let lifetime = index.config.token.refresh_lifetime_days as i64 * 86_400;
    let refresh = match (&subject, &req.offline) {
        (Some(_), Some(client)) => Some((random::id(), random::token(), client.clone())),
        _ => None,
    };
    let (who, scopes, row) = (subject.clone(), req.scopes.clone(), refresh.clone());
    let key = index.db.lock_key();
    let granted = index
        .db
        .run(move |c| -> Result<Vec<Scope>> {
            let mut granted = policy::grant(c, who.as_ref(), &scopes)?;
            if let Some(limit) = &limit {
                granted = limit.restrict(granted);
            }
            if let (Some(s), true) = (&who, !granted.allocate.is_empty() || row.is_some()) {
                pier_shared::db::write_transaction(c, key, |c| -> Result<()> {
                    allocate(c, s, &granted.allocate)?;
                    if let Some((id, token, client)) = &row {
                        let hash = hash_refresh_token(token);
                        refresh_tokens::insert(c, id, &hash, s.id, client, now() + lifetime)?;
                    }
                    Ok(())
                })?;
            }
            Ok(granted.scopes)
        })
        .await?;
    sign(
        index,
        subject,
        req,
        granted,
        refresh.map(|(id, token, _)| (id, token)),
        action,
    )
}

fn sign(
    index: &Index,
    subject: Option<Subject>,
    req: TokenRequest,
    granted: Vec<Scope>,
    refresh: Option<(String, String)>,
    action: &str,
) -> Result<Issued> {
    let issued: DateTime<Utc> = Utc::now();
    let iat = issued.timestamp();
    let expires_in = index.config.token.lifetime_seconds;
    let sub = subject.map(|s| s.name).unwrap_or_default();
    let rti = refresh.as_ref().map(|(id, _)| id.clone()).or(req.rti);
    let claims = Claims {
        iss: index.config.token.issuer.clone(),
        sub: sub.clone(),
        aud: req.service.clone(),
        exp: iat + expires_in as i64,
        nbf: iat,
        iat,
        jti: random::id(),
        access: granted.iter().map(ResourceActions::from).collect(),
        rti,
    };
    let token = index
        .keys
        .sign(&claims)
        .map_err(|e| Error::Internal(format!("signing: {e}")))?;
    let scope: Vec<String> = granted.iter().map(Scope::to_string).collect();
    let scope = scope.join(" ");
    let detail = format!("jti={} scope={scope}", claims.jti);
    index
        .audit
        .record(&index.db, &sub, action, &req.service, Some(detail));
    Ok(Issued {
        token,
        expires_in,
        issued_at: issued.to_rfc3339_opts(SecondsFormat::Secs, true),
        refresh_token: refresh.map(|(_, t)| t),
        scope,
    })
}
