//! v1 tokens: `signature=<id>.<secret>,repository="ns/repo",access=…`.
//!
//! The id and the secret are random; only SHA-256(secret) is stored, so a token cannot be
//! forged or read back from the database. A token is bound to one repository and one
//! access, expires after `v1.token_lifetime_seconds`, and is used up by its first
//! successful confirmation (the registry then carries the grant in its session cookie).

use super::{detail, record};
use crate::db::{self, users, v1, Conn};
use crate::error::{Error, Result};
use crate::services::policy::{self, Subject};
use crate::services::random;
use crate::state::Index;
use pier_shared::v1::{Access, Token};
use pier_shared::{Action, RepoName};
use sha2::{Digest, Sha256};

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The policy action a v1 access needs.
pub fn action_of(access: Access) -> Action {
    match access {
        Access::Read => Action::Pull,
        Access::Write => Action::Push,
        Access::Delete => Action::Delete,
    }
}

/// Store a new token (in the caller's transaction) and return it.
pub fn create(
    conn: &mut Conn,
    index: &Index,
    subject: Option<&Subject>,
    repo: &RepoName,
    access: Access,
) -> Result<Token> {
    let token = Token {
        id: random::id(),
        secret: random::token(),
        repository: repo.clone(),
        access,
    };
    let now = db::now();
    let lifetime = i64::try_from(index.config.v1.token_lifetime_seconds).unwrap_or(i64::MAX);
    // Rows of tokens expired for a day are of no use any more (the audit log keeps the flow).
    v1::purge_tokens(conn, now.saturating_sub(86_400))?;
    v1::insert_token(
        conn,
        &v1::V1Token {
            id: token.id.clone(),
            secret_hash: hash(&token.secret),
            user_id: subject.map(|s| s.id),
            repository: repo.to_string(),
            access: access.to_string(),
            created_at: now,
            expires_at: now.saturating_add(lifetime),
            used_at: None,
        },
    )?;
    Ok(token)
}

/// Record that `token` was handed out.
pub fn issued(index: &Index, subject: Option<&Subject>, token: &Token, extra: &str) {
    let d = detail(&token.id, &token.repository, token.access, extra);
    record(
        index,
        subject,
        "v1.token.issue",
        token.repository.as_str(),
        d,
    );
}

/// Why a presented token was refused.
fn refusal(
    conn: &mut Conn,
    token: &Token,
    path_repo: &RepoName,
    accept: &[Access],
) -> Result<Option<&'static str>> {
    let Some(row) = v1::find_token(conn, &token.id)? else {
        return Ok(Some("unknown"));
    };
    let same = row.secret_hash.len() == 64
        && row
            .secret_hash
            .bytes()
            .zip(hash(&token.secret).bytes())
            .fold(0u8, |d, (a, b)| d | (a ^ b))
            == 0;
    if !same || row.repository != token.repository.as_str() || row.access != token.access.as_str() {
        return Ok(Some("forged"));
    }
    if &token.repository != path_repo {
        return Ok(Some("wrong-repository"));
    }
    if !accept.contains(&token.access) {
        return Ok(Some("wrong-access"));
    }
    if row.expires_at <= db::now() {
        return Ok(Some("expired"));
    }
    if row.used_at.is_some() {
        return Ok(Some("used"));
    }
    let subject = match row.user_id {
        None => None,
        Some(id) => match users::find_by_id(conn, id)? {
            Some(u) if !u.disabled => Some(Subject {
                id: u.id,
                name: u.name,
                is_admin: u.is_admin,
            }),
            _ => return Ok(Some("user-disabled")),
        },
    };
    let allowed = policy::repository_actions(conn, subject.as_ref(), path_repo)?;
    if !allowed.contains(&action_of(token.access)) {
        return Ok(Some("no-longer-allowed"));
    }
    if !v1::use_token(conn, &token.id, db::now())? {
        return Ok(Some("used"));
    }
    Ok(None)
}

/// The registry's check of a client's token (`GET …/images` for read and write, `PUT
/// …/auth` for delete): valid, for `path_repo`, one of `accept`, unexpired, unused, and
/// its user still allowed. Uses it up. `via` names the request, for the audit log.
pub async fn confirm(
    index: &Index,
    token: &Token,
    path_repo: &RepoName,
    accept: &[Access],
    via: &str,
) -> Result<()> {
    let (t, p, a) = (token.clone(), path_repo.clone(), accept.to_vec());
    let refused = index
        .db
        .transaction(move |c| refusal(c, &t, &p, &a))
        .await?;
    let target = path_repo.as_str();
    match refused {
        None => {
            let d = detail(
                &token.id,
                &token.repository,
                token.access,
                &format!("via={via}"),
            );
            index
                .audit
                .record(&index.db, "registry", "v1.token.confirm", target, Some(d));
            Ok(())
        }
        Some(why) => {
            let extra = format!("via={via} reason={why}");
            let d = detail(&token.id, &token.repository, token.access, &extra);
            index
                .audit
                .record(&index.db, "registry", "v1.token.refuse", target, Some(d));
            Err(Error::Unauthenticated)
        }
    }
}
