//! Who may do what: pure functions over the database, the one place permissions are decided.
//!
//! On `repository:<namespace>/<rest>`:
//! - a site admin: pull, push, delete;
//! - the user whose namespace it is, and the owners of an organization: pull, push, delete;
//! - team roles in the namespace: `admin` pull, push, delete; `write` pull, push; `read` pull;
//! - a public repository: pull, for everyone including anonymous;
//! - disabled users never become a [`Subject`], so they get nothing (callers check).
//!
//! Pull-through mirrors (`db::mirrors`, registered by the registry, docs/mirror.md):
//! - under a mirror's namespace (`<prefix>/…`): the rules above, plus pull for everyone
//!   when the mirror is public (with or without a repository row); never push (the
//!   registry serves mirrored repositories read-only, so nothing is allocated there);
//! - default mapping: a name whose namespace is neither a user nor an organization, while
//!   a default mirror `D` is registered, is decided as `D/<name>` for pull (push and delete:
//!   the name's own rules, i.e. a site admin's push that creates the namespace)
//!   ([`Resolution::Default`]; reported to the registry as mirrored at `/introspect`).
//!
//! `registry:catalog:*` is granted to any authenticated user. A grant is the intersection
//! of what was asked and what is allowed; missing rights are never an error. Push on a
//! repository that does not exist yet, in a namespace the subject may write, is granted and
//! returned in [`Granted::allocate`] for the caller to create.

mod resolution;

pub use resolution::{default_mapped, resolve, Mirrors, Resolution};

use crate::db::mirrors::Mirror;
use crate::db::namespaces::{self, Namespace};
use crate::db::repositories::{self, Visible};
use crate::db::{teams, Conn, DbError};
use pier_shared::{Action, Claims, RepoName, Scope};
use std::collections::{BTreeMap, BTreeSet};

/// An authenticated, enabled user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
}

pub type Actions = BTreeSet<Action>;

/// pull, push, delete.
pub fn every_action() -> Actions {
    [Action::Pull, Action::Push, Action::Delete].into()
}

/// What a team role grants.
pub fn role_actions(role: &str) -> Actions {
    match role {
        "admin" => every_action(),
        "write" => [Action::Pull, Action::Push].into(),
        "read" => [Action::Pull].into(),
        _ => Actions::new(),
    }
}

/// May `subject` manage `ns` (teams, members, visibility)? Its user, org owners, admins.
pub fn can_manage(conn: &mut Conn, subject: &Subject, ns: &Namespace) -> Result<bool, DbError> {
    if subject.is_admin || (ns.kind == namespaces::USER && ns.name == subject.name) {
        return Ok(true);
    }
    namespaces::is_owner(conn, ns.id, subject.id)
}

/// What `subject` may do on every repository of `ns`.
pub fn namespace_actions(
    conn: &mut Conn,
    subject: &Subject,
    ns: &Namespace,
) -> Result<Actions, DbError> {
    if can_manage(conn, subject, ns)? {
        return Ok(every_action());
    }
    let roles = teams::roles_in(conn, ns.id, subject.id)?;
    Ok(roles.iter().flat_map(|r| role_actions(r)).collect())
}

/// What `subject` (None: anonymous) may do on repository `name` now.
pub fn repository_actions(
    conn: &mut Conn,
    subject: Option<&Subject>,
    name: &RepoName,
) -> Result<Actions, DbError> {
    let mirrors = Mirrors::load(conn)?;
    actions_with(conn, &mirrors, subject, name)
}

/// [`repository_actions`] with the mirrors already read.
fn actions_with(
    conn: &mut Conn,
    mirrors: &Mirrors,
    subject: Option<&Subject>,
    name: &RepoName,
) -> Result<Actions, DbError> {
    match resolve(conn, mirrors, name)? {
        Resolution::Local => namespace_rules(conn, subject, name),
        Resolution::Mirrored(m) => mirrored_actions(conn, subject, name, &m),
        Resolution::Default {
            mirror,
            local: Some(local),
        } => {
            // Pull as the mirror's `<default>/<name>` allows. Beside it, what the name's own
            // rules give on a namespace nobody has yet: nothing, except a site admin's
            // push, which creates the namespace (`tokens::allocate`); from then on the
            // name is local.
            let mut actions = mirrored_actions(conn, subject, &local, &mirror)?;
            actions.retain(|a| *a == Action::Pull);
            actions.extend(
                namespace_rules(conn, subject, name)?
                    .into_iter()
                    .filter(|a| *a != Action::Pull),
            );
            Ok(actions)
        }
        Resolution::Default { local: None, .. } => Ok(Actions::new()),
    }
}

/// Under a mirror's namespace: the namespace's rules, pull for all when it is public,
/// never push.
fn mirrored_actions(
    conn: &mut Conn,
    subject: Option<&Subject>,
    name: &RepoName,
    mirror: &Mirror,
) -> Result<Actions, DbError> {
    let mut actions = namespace_rules(conn, subject, name)?;
    if mirror.public {
        actions.insert(Action::Pull);
    }
    actions.remove(&Action::Push);
    Ok(actions)
}

/// The rules of the module doc's first list, mirrors aside.
fn namespace_rules(
    conn: &mut Conn,
    subject: Option<&Subject>,
    name: &RepoName,
) -> Result<Actions, DbError> {
    let mut actions = Actions::new();
    if let Some(repo) = repositories::find_live(conn, name.as_str())? {
        if repo.visibility == repositories::PUBLIC {
            actions.insert(Action::Pull);
        }
    }
    let Some(subject) = subject else {
        return Ok(actions);
    };
    if subject.is_admin {
        return Ok(every_action());
    }
    if let Some(ns) = namespaces::find(conn, name.namespace())? {
        actions.extend(namespace_actions(conn, subject, &ns)?);
    }
    Ok(actions)
}

/// The outcome of a token request.
#[derive(Debug, Default, PartialEq)]
pub struct Granted {
    /// Granted scopes, one per resource, none empty.
    pub scopes: Vec<Scope>,
    /// Repositories to create (private) because push was granted on them.
    pub allocate: Vec<RepoName>,
}

/// `requested` with duplicates merged per resource (`type`, `name`).
fn merge(requested: &[Scope]) -> BTreeMap<(String, String), Actions> {
    let mut merged: BTreeMap<(String, String), Actions> = BTreeMap::new();
    for s in requested {
        let key = (s.resource_type.clone(), s.name.clone());
        merged
            .entry(key)
            .or_default()
            .extend(s.actions.iter().cloned());
    }
    merged
}

/// `asked` ∩ `allowed`; `*` asks for everything allowed.
fn intersect(asked: &Actions, allowed: &Actions) -> Actions {
    if asked.contains(&Action::All) {
        return allowed.clone();
    }
    asked.intersection(allowed).cloned().collect()
}

/// What `subject` may have of `requested` now.
pub fn grant(
    conn: &mut Conn,
    subject: Option<&Subject>,
    requested: &[Scope],
) -> Result<Granted, DbError> {
    let mirrors = Mirrors::load(conn)?;
    grant_with(conn, &mirrors, subject, requested)
}

/// [`grant`] with the mirrors already read.
fn grant_with(
    conn: &mut Conn,
    mirrors: &Mirrors,
    subject: Option<&Subject>,
    requested: &[Scope],
) -> Result<Granted, DbError> {
    let mut out = Granted::default();
    for ((ty, name), asked) in merge(requested) {
        let actions = match ty.as_str() {
            "repository" => {
                let Ok(repo) = name.parse::<RepoName>() else {
                    continue;
                };
                let mut allowed = actions_with(conn, mirrors, subject, &repo)?;
                super::deletions::filter_push(conn, repo.as_str(), &mut allowed)?;
                let granted = intersect(&asked, &allowed);
                if granted.contains(&Action::Push)
                    && repositories::find_live(conn, repo.as_str())?.is_none()
                {
                    out.allocate.push(repo);
                }
                granted
            }
            "registry" if name == "catalog" && subject.is_some() => {
                intersect(&asked, &[Action::All].into())
            }
            _ => Actions::new(),
        };
        if !actions.is_empty() {
            out.scopes.push(Scope {
                resource_type: ty,
                name,
                actions,
            });
        }
    }
    Ok(out)
}

/// Is the repository `name` the one a token issued at `iat` referred to? Not if it was
/// deleted since, or deleted and allocated again since. A name that was vacant when the
/// token was issued (never used, or deleted before) refers to whatever is created there
/// next: a token asked for `pull` before another client's push created the repository
/// keeps it (a cross-repository mount from a repository created meanwhile, say).
fn same_repository(conn: &mut Conn, name: &str, iat: i64) -> Result<bool, DbError> {
    let deleted_since = repositories::last_deleted_at(conn, name)?.is_some_and(|d| d >= iat);
    match repositories::find_live(conn, name)? {
        Some(live) => Ok(live.created_at <= iat || !deleted_since),
        None => Ok(!deleted_since),
    }
}

/// What of `claims.access` `subject` still may do now, restricted to `wanted` if given.
pub fn still_granted(
    conn: &mut Conn,
    subject: Option<&Subject>,
    claims: &Claims,
    wanted: Option<&[Scope]>,
) -> Result<Vec<Scope>, DbError> {
    let held: Vec<Scope> = claims
        .access
        .iter()
        .map(|ra| Scope {
            resource_type: ra.resource_type.clone(),
            name: ra.name.clone(),
            actions: ra.actions.iter().cloned().collect(),
        })
        .collect();
    let mirrors = Mirrors::load(conn)?;
    let now = grant_with(conn, &mirrors, subject, &held)?;
    let wanted = wanted.map(merge);
    let mut out = Vec::new();
    for mut scope in now.scopes {
        if scope.resource_type == "repository" {
            let decided = resolution::decided_as(conn, &mirrors, &scope.name)?;
            if !same_repository(conn, &decided, claims.iat)? {
                continue;
            }
        }
        if let Some(wanted) = &wanted {
            let key = (scope.resource_type.clone(), scope.name.clone());
            let asked = wanted.get(&key).cloned().unwrap_or_default();
            scope.actions = intersect(&asked, &scope.actions);
        }
        if !scope.actions.is_empty() {
            out.push(scope);
        }
    }
    Ok(out)
}

/// Which live repositories `subject` may see in listings.
pub fn visible(conn: &mut Conn, subject: Option<&Subject>) -> Result<Visible, DbError> {
    let mirrors = Mirrors::load(conn)?;
    let mut ids: Vec<i64> = mirrors.public_namespaces().collect();
    let Some(subject) = subject else {
        return Ok(Visible::PublicOr(ids));
    };
    if subject.is_admin {
        return Ok(Visible::All);
    }
    ids.extend(namespaces::owned_by(conn, subject.id)?);
    ids.extend(
        teams::roles_of(conn, subject.id)?
            .into_iter()
            .map(|(ns, _)| ns),
    );
    if let Some(own) = namespaces::find(conn, &subject.name)? {
        if own.kind == namespaces::USER {
            ids.push(own.id);
        }
    }
    Ok(Visible::PublicOr(ids))
}

/// Names of the live repositories `subject` may pull (for a filtered `_catalog`).
pub fn pullable(conn: &mut Conn, subject: Option<&Subject>) -> Result<Vec<String>, DbError> {
    let visible = visible(conn, subject)?;
    let repos = repositories::list_live(conn, &visible, None, 0, i64::MAX)?;
    Ok(repos.into_iter().map(|r| r.name).collect())
}
