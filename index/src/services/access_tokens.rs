//! Personal access tokens: a long random secret a user creates once (and sees once), used
//! instead of their password with `docker login` / `skopeo --creds`, limited to some
//! repositories and actions, with an expiry, revocable.
//!
//! ```text
//! create   secret = "pier_pat_" + 32 random bytes (base64url); store SHA-256(secret) only
//! /token   Basic user:secret → SHA-256 lookup (never bcrypt) → the grant ∩ the token's scope
//!          → signed with rti = "pat:<id>" (no refresh token is ever made from a PAT)
//! revoke   revoked_at set → /introspect answers inactive for every token with that rti
//! ```

use super::policy::{Granted, Subject};
use super::random;
use crate::db::access_tokens::{self, AccessToken, NewAccessToken};
use crate::db::{now, users, DbError};
use crate::error::{Error, Result};
use crate::state::Index;
use pier_shared::{Action, RepoName, Scope};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// What every secret starts with, so that a password can be told from one at a glance.
pub const SECRET_PREFIX: &str = "pier_pat_";
/// The `rti` claim of tokens issued from an access token is this prefix and its id.
/// (`random::id()` is base64url, which has no `:`, so no refresh-token id looks like one.)
pub const RTI_PREFIX: &str = "pat:";
/// The longest expiry a token may be given, in days.
pub const MAX_DAYS: u32 = 366;

/// Is `password` shaped like an access-token secret?
pub fn is_secret(password: &str) -> bool {
    password.starts_with(SECRET_PREFIX)
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// What a token allows: repositories (`ns/repo` or `ns/*`; none: all) and actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatScope {
    pub repositories: Vec<String>,
    pub actions: BTreeSet<Action>,
}

impl PatScope {
    /// Parse what a user typed: patterns separated by spaces or commas; actions chosen.
    pub fn parse(repositories: &str, actions: &[Action]) -> Result<PatScope> {
        let mut patterns = Vec::new();
        for p in repositories
            .split([' ', ',', '\n'])
            .filter(|p| !p.is_empty())
        {
            let valid = match p.strip_suffix("/*") {
                Some(ns) => !ns.is_empty() && format!("{ns}/x").parse::<RepoName>().is_ok(),
                None => p.parse::<RepoName>().is_ok(),
            };
            if !valid {
                return Err(Error::BadRequest(format!(
                    "{p:?} is neither a repository name nor namespace/*"
                )));
            }
            patterns.push(p.to_string());
        }
        let actions: BTreeSet<Action> = actions
            .iter()
            .filter(|a| matches!(a, Action::Pull | Action::Push | Action::Delete))
            .cloned()
            .collect();
        if actions.is_empty() {
            return Err(Error::BadRequest("choose at least one action".into()));
        }
        Ok(PatScope {
            repositories: patterns,
            actions,
        })
    }

    fn of(t: &AccessToken) -> PatScope {
        PatScope {
            repositories: t
                .repositories
                .split(' ')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
            actions: t
                .actions
                .split(',')
                .map(|a| Action::from(a.to_string()))
                .collect(),
        }
    }

    /// Does this scope cover the repository `name`?
    pub fn covers(&self, name: &str) -> bool {
        self.repositories.is_empty()
            || self
                .repositories
                .iter()
                .any(|p| match p.strip_suffix("/*") {
                    Some(ns) => name.strip_prefix(ns).is_some_and(|r| r.starts_with('/')),
                    None => p == name,
                })
    }

    /// `granted` cut down to this scope (the catalog only with pull).
    pub fn restrict(&self, granted: Granted) -> Granted {
        let scopes = granted
            .scopes
            .into_iter()
            .filter_map(|mut s| {
                match s.resource_type.as_str() {
                    "repository" if self.covers(&s.name) => {
                        s.actions.retain(|a| self.actions.contains(a));
                    }
                    "registry" if self.actions.contains(&Action::Pull) => {}
                    _ => return None,
                }
                (!s.actions.is_empty()).then_some(s)
            })
            .collect::<Vec<Scope>>();
        let push = self.actions.contains(&Action::Push);
        let allocate = granted
            .allocate
            .into_iter()
            .filter(|n| push && self.covers(n.as_str()))
            .collect();
        Granted { scopes, allocate }
    }

    pub fn repositories_text(&self) -> String {
        self.repositories.join(" ")
    }

    pub fn actions_text(&self) -> String {
        let a: Vec<&str> = self.actions.iter().map(Action::as_str).collect();
        a.join(",")
    }
}

/// An access token as its owner sees it (never the secret or its hash).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccessTokenView {
    pub id: String,
    pub name: String,
    pub repositories: String,
    pub actions: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub active: bool,
}

impl From<AccessToken> for AccessTokenView {
    fn from(t: AccessToken) -> Self {
        AccessTokenView {
            active: t.is_valid_at(now()),
            id: t.id,
            name: t.name,
            repositories: t.repositories,
            actions: t.actions,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// A just-created token and its secret, which is never available again.
pub struct Created {
    pub token: AccessTokenView,
    pub secret: String,
}

/// Create a token for `subject`; `days`: expiry (`None`: never).
pub async fn create(
    index: &Index,
    subject: &Subject,
    name: &str,
    scope: PatScope,
    days: Option<u32>,
) -> Result<Created> {
    let name = name.trim().to_string();
    if name.is_empty() || name.len() > 100 {
        return Err(Error::BadRequest(
            "a token needs a name of 1 to 100 characters".into(),
        ));
    }
    if days.is_some_and(|d| d == 0 || d > MAX_DAYS) {
        return Err(Error::BadRequest(format!(
            "expiry is 1 to {MAX_DAYS} days, or never"
        )));
    }
    let (id, secret) = (random::id(), format!("{SECRET_PREFIX}{}", random::token()));
    let (user_id, token_hash, owned_id) = (subject.id, hash(&secret), id.clone());
    let created = now();
    let expires_at = days.map(|d| created + i64::from(d) * 86_400);
    let view = index
        .db
        .run(move |c| -> Result<AccessTokenView> {
            access_tokens::insert(
                c,
                &NewAccessToken {
                    id: &owned_id,
                    user_id,
                    name: &name,
                    token_hash: &token_hash,
                    repositories: &scope.repositories_text(),
                    actions: &scope.actions_text(),
                    created_at: created,
                    expires_at,
                },
            )?;
            let row = access_tokens::find(c, &owned_id)?;
            row.map(Into::into)
                .ok_or_else(|| Error::Internal("access token vanished".into()))
        })
        .await?;
    index.audit.record(
        &index.db,
        &subject.name,
        "access_token.create",
        &id,
        Some(view.name.clone()),
    );
    Ok(Created {
        token: view,
        secret,
    })
}

pub async fn list(index: &Index, subject: &Subject) -> Result<Vec<AccessTokenView>> {
    let id = subject.id;
    let rows = index
        .db
        .run(move |c| access_tokens::list_for_user(c, id))
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Revoke one of `subject`'s tokens (admins: anyone's). Tokens issued from it turn
/// inactive at `/introspect` at once (the registry may hold its confirmation for its
/// cache TTL).
pub async fn revoke(index: &Index, subject: &Subject, id: &str) -> Result<()> {
    let (who, owned) = (subject.clone(), id.to_string());
    index
        .db
        .transaction(move |c| -> Result<()> {
            let missing = || Error::NotFound(format!("no access token {owned}"));
            let t = access_tokens::find(c, &owned)?.ok_or_else(missing)?;
            if t.user_id != who.id && !who.is_admin {
                return Err(missing());
            }
            access_tokens::revoke(c, &owned)?;
            Ok(())
        })
        .await?;
    index
        .audit
        .record(&index.db, &subject.name, "access_token.revoke", id, None);
    Ok(())
}

/// A login with an access token: who, and what the token limits them to.
pub struct PatLogin {
    pub subject: Subject,
    pub scope: PatScope,
    /// The `rti` of tokens issued from it.
    pub rti: String,
}

/// Check `user`:`secret` (a SHA-256 lookup): the token exists, is `user`'s, is neither
/// revoked nor expired, and `user` is enabled.
pub async fn authenticate(index: &Index, user: &str, secret: &str) -> Result<PatLogin> {
    let (token_hash, name) = (hash(secret), user.to_string());
    let found = index
        .db
        .run(move |c| -> Result<_, DbError> {
            let Some(t) = access_tokens::find_by_hash(c, &token_hash)? else {
                return Ok(None);
            };
            let Some(u) = users::find_by_id(c, t.user_id)? else {
                return Ok(None);
            };
            if u.name != name || u.disabled || !t.is_valid_at(now()) {
                return Ok(None);
            }
            access_tokens::touch(c, &t.id)?;
            Ok(Some((u, t)))
        })
        .await?;
    let (u, t) = found.ok_or(Error::Unauthenticated)?;
    Ok(PatLogin {
        subject: Subject {
            id: u.id,
            name: u.name,
            is_admin: u.is_admin,
        },
        scope: PatScope::of(&t),
        rti: format!("{RTI_PREFIX}{}", t.id),
    })
}

/// Is the access token behind `rti` (without its prefix) still `user_id`'s and valid?
pub fn still_valid(conn: &mut crate::db::Conn, id: &str, user_id: i64) -> Result<bool, DbError> {
    Ok(
        access_tokens::find(conn, id)?
            .is_some_and(|t| t.user_id == user_id && t.is_valid_at(now())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(repos: &str, actions: &[Action]) -> PatScope {
        PatScope::parse(repos, actions).unwrap()
    }

    #[test]
    fn patterns_cover_names_and_namespaces() {
        let s = scope("alice/app bob/*", &[Action::Pull]);
        assert!(s.covers("alice/app"));
        assert!(!s.covers("alice/app2"));
        assert!(s.covers("bob/x"));
        assert!(s.covers("bob/x/y"));
        assert!(!s.covers("bobby/x"));
        assert!(scope("", &[Action::Pull]).covers("anything/at-all"));
    }

    #[test]
    fn bad_patterns_and_no_actions_are_refused() {
        assert!(PatScope::parse("Not A Name", &[Action::Pull]).is_err());
        assert!(PatScope::parse("/*", &[Action::Pull]).is_err());
        assert!(PatScope::parse("alice/app", &[]).is_err());
        assert!(PatScope::parse("alice/app", &[Action::All]).is_err());
    }

    #[test]
    fn restrict_cuts_actions_repositories_and_allocation() {
        let s = scope("alice/*", &[Action::Pull]);
        let granted = Granted {
            scopes: vec![
                Scope::repository("alice/app", &[Action::Pull, Action::Push]),
                Scope::repository("carol/app", &[Action::Pull]),
                Scope::catalog(),
            ],
            allocate: vec!["alice/new".parse().unwrap()],
        };
        let cut = s.restrict(granted);
        assert_eq!(
            cut.scopes,
            vec![
                Scope::repository("alice/app", &[Action::Pull]),
                Scope::catalog()
            ]
        );
        assert!(cut.allocate.is_empty());
    }
}
