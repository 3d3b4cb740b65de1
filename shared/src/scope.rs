//! Docker token scopes: `repository:samalba/my-app:pull,push`, `registry:catalog:*`.
//!
//! Grammar (distribution `docs/spec/auth/scope.md`): `type[(class)]:name:action[,action]*`,
//! several scopes joined by single spaces. The name may contain one `:` (a host port), so a
//! scope is split at its first and last `:`. The resource class is deprecated and ignored.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// An action on a resource. Unknown actions are kept (and never granted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Action {
    Pull,
    Push,
    Delete,
    /// `*`: every action (used by `registry:catalog:*`).
    All,
    Other(String),
}

impl Action {
    pub fn as_str(&self) -> &str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
            Action::All => "*",
            Action::Other(s) => s,
        }
    }
}

impl From<String> for Action {
    fn from(s: String) -> Self {
        match s.as_str() {
            "pull" => Action::Pull,
            "push" => Action::Push,
            "delete" => Action::Delete,
            "*" => Action::All,
            _ => Action::Other(s),
        }
    }
}

impl From<Action> for String {
    fn from(a: Action) -> Self {
        a.as_str().to_string()
    }
}

/// One resource scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// `repository` or `registry` (class suffix removed).
    pub resource_type: String,
    pub name: String,
    pub actions: BTreeSet<Action>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid scope {0:?}: expected type:name:action[,action]")]
pub struct ScopeError(pub String);

impl Scope {
    pub fn repository(name: &str, actions: &[Action]) -> Scope {
        Scope {
            resource_type: "repository".into(),
            name: name.into(),
            actions: actions.iter().cloned().collect(),
        }
    }

    pub fn catalog() -> Scope {
        Scope {
            resource_type: "registry".into(),
            name: "catalog".into(),
            actions: [Action::All].into_iter().collect(),
        }
    }

    /// Parse a space-separated list, as found in one `scope` parameter.
    pub fn parse_list(s: &str) -> Result<Vec<Scope>, ScopeError> {
        s.split(' ')
            .filter(|p| !p.is_empty())
            .map(str::parse)
            .collect()
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ScopeError(s.chars().take(200).collect());
        let (ty, rest) = s.split_once(':').ok_or_else(err)?;
        let (name, actions) = rest.rsplit_once(':').ok_or_else(err)?;
        let ty = ty.split('(').next().unwrap_or(ty);
        let ok_ty = !ty.is_empty()
            && ty
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !ok_ty || name.is_empty() {
            return Err(err());
        }
        let actions = actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(|a| Action::from(a.to_string()))
            .collect();
        Ok(Scope {
            resource_type: ty.to_string(),
            name: name.to_string(),
            actions,
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let actions: Vec<&str> = self.actions.iter().map(Action::as_str).collect();
        write!(
            f,
            "{}:{}:{}",
            self.resource_type,
            self.name,
            actions.join(",")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_examples() {
        let s: Scope = "repository:samalba/my-app:pull,push".parse().unwrap();
        assert_eq!(s.resource_type, "repository");
        assert_eq!(s.name, "samalba/my-app");
        assert_eq!(
            s.actions,
            [Action::Pull, Action::Push].into_iter().collect()
        );
        let s: Scope = "repository(plugin):a/b:pull".parse().unwrap();
        assert_eq!(s.resource_type, "repository");
        let s: Scope = "repository:localhost:5000/a/b:pull".parse().unwrap();
        assert_eq!(s.name, "localhost:5000/a/b");
        assert_eq!(Scope::catalog().to_string(), "registry:catalog:*");
        let list = Scope::parse_list("repository:a:pull  repository:b:push").unwrap();
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "repository",
            "repository:a",
            ":a:pull",
            "Repo:a:pull",
            "repository::pull",
        ] {
            assert!(bad.parse::<Scope>().is_err(), "{bad:?}");
        }
    }
}
