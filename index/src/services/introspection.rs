//! RFC 7662 introspection for the registry: is this token still good, and what of its
//! access does its subject still hold now?
//!
//! Inactive when the JWT does not verify (signature, iss, aud, exp with leeway), its
//! subject is unknown or disabled, or the refresh token it came from (`rti`) is revoked or
//! expired. Otherwise the token's access is re-evaluated by `policy::still_granted`, and
//! the repository names asked about (the registry's `scope`, else the token's) that the
//! policy decides through the default mirror are listed in `pier_mirrored`.

use super::access_tokens::{self, RTI_PREFIX};
use super::policy::{self, Subject};
use crate::db::{now, refresh_tokens, users, DbError};
use crate::error::Result;
use crate::state::Index;
use pier_shared::{Claims, Introspection, Scope};

/// Whom a verified token speaks for now.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    Anonymous,
    User(Subject),
    /// The user is gone or disabled, or the session (`rti`) was revoked or expired.
    Revoked,
}

impl Standing {
    pub fn subject(&self) -> Option<&Subject> {
        match self {
            Standing::User(s) => Some(s),
            _ => None,
        }
    }
}

/// The standing of a verified token's subject now.
pub async fn standing(index: &Index, claims: &Claims) -> Result<Standing> {
    let (sub, rti) = (claims.sub.clone(), claims.rti.clone());
    if sub.is_empty() {
        return Ok(if rti.is_none() {
            Standing::Anonymous
        } else {
            Standing::Revoked
        });
    }
    let found = index
        .db
        .run(move |c| -> Result<_, DbError> {
            let user = users::find(c, &sub)?;
            let uid = user.as_ref().map_or(-1, |u| u.id);
            let session = match rti.as_deref().map(|r| (r, r.strip_prefix(RTI_PREFIX))) {
                Some((_, Some(pat))) => Some(access_tokens::still_valid(c, pat, uid)?),
                Some((id, None)) => Some(
                    refresh_tokens::find(c, id)?
                        .is_some_and(|rt| rt.user_id == uid && rt.is_valid_at(now())),
                ),
                None => None,
            };
            Ok((user, session))
        })
        .await?;
    let (Some(user), session) = found else {
        return Ok(Standing::Revoked);
    };
    let session_ok = session.unwrap_or(true);
    if user.disabled || !session_ok {
        return Ok(Standing::Revoked);
    }
    Ok(Standing::User(Subject {
        id: user.id,
        name: user.name,
        is_admin: user.is_admin,
    }))
}

/// Introspect `token`, restricted to `wanted` scopes if given.
pub async fn introspect(
    index: &Index,
    token: &str,
    wanted: Option<Vec<Scope>>,
) -> Result<Introspection> {
    let Some(claims) = index.verify_token(token).await else {
        return Ok(Introspection::default());
    };
    if let Some(job) = super::deletions::job_of(&claims) {
        return super::deletions::introspect(index, &claims, job, wanted).await;
    }
    let standing = standing(index, &claims).await?;
    if standing == Standing::Revoked {
        return Ok(Introspection::default());
    }
    let (who, held) = (standing.subject().cloned(), claims.clone());
    let (scopes, pullable, mirrored) = index
        .db
        .run(move |c| -> Result<_, DbError> {
            let scopes = policy::still_granted(c, who.as_ref(), &held, wanted.as_deref())?;
            let catalog = scopes.iter().any(|s| s.resource_type == "registry");
            let pullable = if catalog {
                Some(policy::pullable(c, who.as_ref())?)
            } else {
                None
            };
            let mirrored = policy::default_mapped(c, asked(&held, wanted.as_deref()))?;
            Ok((scopes, pullable, mirrored))
        })
        .await?;
    let scope: Vec<String> = scopes.iter().map(Scope::to_string).collect();
    let scope = scope.join(" ");
    index.audit.record(
        &index.db,
        &claims.sub,
        "token.confirm",
        &claims.aud,
        Some(format!("jti={} scope={scope}", claims.jti)),
    );
    Ok(Introspection {
        active: true,
        sub: Some(claims.sub),
        exp: Some(claims.exp),
        jti: Some(claims.jti),
        scope: Some(scope),
        pullable,
        pier_mirrored: Some(mirrored).filter(|m| !m.is_empty()),
    })
}

/// The repository names an introspection asks about: the registry's `wanted` scopes if
/// given, else the token's access.
fn asked<'a>(held: &'a Claims, wanted: Option<&'a [Scope]>) -> Vec<&'a str> {
    let repository = |ty: &str| ty == "repository";
    match wanted {
        Some(w) => w
            .iter()
            .filter(|s| repository(&s.resource_type))
            .map(|s| s.name.as_str())
            .collect(),
        None => held
            .access
            .iter()
            .filter(|ra| repository(&ra.resource_type))
            .map(|ra| ra.name.as_str())
            .collect(),
    }
}
