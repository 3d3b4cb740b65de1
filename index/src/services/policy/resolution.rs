//! How the policy reads a repository name once pull-through mirrors are registered
//! (`db::mirrors`): under a mirror's namespace, through the default mirror, or ordinary.
//! Names only; what each reading allows is decided in `policy`.

use crate::db::mirrors::{self, Mirror};
use crate::db::{namespaces, Conn, DbError};
use pier_shared::RepoName;
use std::collections::BTreeSet;

/// The registered mirrors, read once per decision (a handful of rows).
#[derive(Debug, Clone, Default)]
pub struct Mirrors(Vec<Mirror>);

impl Mirrors {
    pub fn load(conn: &mut Conn) -> Result<Mirrors, DbError> {
        Ok(Mirrors(mirrors::list(conn)?))
    }

    /// The mirror whose namespace is `namespace`.
    pub fn of(&self, namespace: &str) -> Option<&Mirror> {
        self.0.iter().find(|m| m.prefix == namespace)
    }

    fn default_mirror(&self) -> Option<&Mirror> {
        self.0.iter().find(|m| m.is_default)
    }

    /// Namespaces of the public mirrors: everyone sees their repositories.
    pub(super) fn public_namespaces(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.iter().filter(|m| m.public).map(|m| m.namespace_id)
    }
}

/// How a repository name is decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// An ordinary name: its namespace's rules (or nobody's namespace yet).
    Local,
    /// Under the namespace of a mirror.
    Mirrored(Mirror),
    /// The namespace is neither a user nor an organization and a default mirror is
    /// registered: decided as `local` (`<default>/<name>`), pull only. `local` is `None`
    /// when that name would be too long to be a repository name: nothing is granted.
    Default {
        mirror: Mirror,
        local: Option<RepoName>,
    },
}

/// How `name` is decided, given the registered `mirrors`.
pub fn resolve(conn: &mut Conn, mirrors: &Mirrors, name: &RepoName) -> Result<Resolution, DbError> {
    if let Some(m) = mirrors.of(name.namespace()) {
        return Ok(Resolution::Mirrored(m.clone()));
    }
    let Some(default) = mirrors.default_mirror() else {
        return Ok(Resolution::Local);
    };
    // Every user has a namespace row of their name, so one lookup covers both kinds.
    if namespaces::find(conn, name.namespace())?.is_some() {
        return Ok(Resolution::Local);
    }
    Ok(Resolution::Default {
        local: format!("{}/{}", default.prefix, name.as_str()).parse().ok(),
        mirror: default.clone(),
    })
}

/// The repository a granted `name` is decided on: `<default>/<name>` when default-mapped.
pub(super) fn decided_as(
    conn: &mut Conn,
    mirrors: &Mirrors,
    name: &str,
) -> Result<String, DbError> {
    let Ok(repo) = name.parse::<RepoName>() else {
        return Ok(name.to_string());
    };
    Ok(match resolve(conn, mirrors, &repo)? {
        Resolution::Default {
            local: Some(local), ..
        } => local.to_string(),
        _ => name.to_string(),
    })
}

/// Those of `names` that are decided through the default mirror (the introspection
/// answer's `pier_mirrored`), whatever is granted on them. A name whose `<default>/<name>`
/// is too long is not: the registry could not store it either.
pub fn default_mapped<'a>(
    conn: &mut Conn,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, DbError> {
    let mirrors = Mirrors::load(conn)?;
    let mut out = BTreeSet::new();
    for name in names {
        let Ok(repo) = name.parse::<RepoName>() else {
            continue;
        };
        if let Resolution::Default { local: Some(_), .. } = resolve(conn, &mirrors, &repo)? {
            out.insert(name.to_string());
        }
    }
    Ok(out.into_iter().collect())
}
