//! What the index signs and the registry verifies: Docker registry token claims, and the
//! RFC 7662 introspection answer the registry's confirmation reads.

use crate::scope::{Action, Scope};
use serde::{Deserialize, Serialize};

/// One entry of the `access` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceActions {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    pub actions: Vec<Action>,
}

impl From<&Scope> for ResourceActions {
    fn from(s: &Scope) -> Self {
        ResourceActions {
            resource_type: s.resource_type.clone(),
            name: s.name.clone(),
            actions: s.actions.iter().cloned().collect(),
        }
    }
}

/// The claim set of a registry token (distribution `docs/spec/auth/jwt.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// User name, `""` for anonymous.
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    #[serde(default)]
    pub access: Vec<ResourceActions>,
    /// Pier's private claim: the id of the refresh token (login session) this token was
    /// issued from, so that revoking the session revokes its access tokens too. Other
    /// registries ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rti: Option<String>,
}

impl Claims {
    /// Does the token grant `action` on `resource_type:name`? `*` grants every action.
    pub fn allows(&self, resource_type: &str, name: &str, action: &Action) -> bool {
        self.access.iter().any(|ra| {
            ra.resource_type == resource_type
                && ra.name == name
                && ra.actions.iter().any(|a| a == action || *a == Action::All)
        })
    }
}

/// RFC 7662 introspection response, with the token's subject and the access still valid.
///
/// `active: false` means: refuse (revoked, user disabled, repository deleted, unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Introspection {
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Space-separated scopes still granted (repositories deleted since issue are gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Pier extension: when the token carries `registry:catalog:*`, the repositories its
    /// subject may pull now, so the registry can filter `_catalog`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pullable: Option<Vec<String>>,
    /// Pier extension (pull-through mirrors, docs/mirror.md): the repository names among
    /// those asked about that the index decided through the default mirror (`<default>/
    /// <name>`), so the registry serves them from that mirror. Absent when none.
    #[serde(default, skip_serializing_if = "none_or_empty")]
    pub pier_mirrored: Option<Vec<String>>,
}

fn none_or_empty(v: &Option<Vec<String>>) -> bool {
    v.as_ref().is_none_or(Vec::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_wire_format_and_allows() {
        let c = Claims {
            iss: "pier-index".into(),
            sub: "alice".into(),
            aud: "pier-registry".into(),
            exp: 2,
            nbf: 1,
            iat: 1,
            jti: "j".into(),
            access: vec![
                (&Scope::repository("alice/app", &[Action::Pull])).into(),
                (&Scope::catalog()).into(),
            ],
            rti: None,
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["access"][0]["type"], "repository");
        assert_eq!(json["access"][0]["actions"][0], "pull");
        assert!(c.allows("repository", "alice/app", &Action::Pull));
        assert!(!c.allows("repository", "alice/app", &Action::Push));
        assert!(!c.allows("repository", "alice/other", &Action::Pull));
        assert!(c.allows("registry", "catalog", &Action::All));
        let back: Claims = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn introspection_reports_mirrored_names_only_when_there_are_some() {
        let mut answer = Introspection {
            active: true,
            scope: Some("repository:library/alpine:pull".into()),
            ..Default::default()
        };
        let json = |a: &Introspection| serde_json::to_value(a).unwrap();
        assert!(json(&answer).get("pier_mirrored").is_none());
        answer.pier_mirrored = Some(Vec::new());
        assert!(json(&answer).get("pier_mirrored").is_none());
        answer.pier_mirrored = Some(vec!["library/alpine".into()]);
        assert_eq!(
            json(&answer)["pier_mirrored"],
            serde_json::json!(["library/alpine"])
        );
        let back: Introspection = serde_json::from_value(json(&answer)).unwrap();
        assert_eq!(back, answer);
        let old: Introspection = serde_json::from_str(r#"{"active":true}"#).unwrap();
        assert_eq!(old.pier_mirrored, None);
    }
}
