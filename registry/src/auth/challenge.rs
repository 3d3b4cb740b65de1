//! The 401 answer: an RFC 6750 `WWW-Authenticate: Bearer …` challenge and an OCI
//! `UNAUTHORIZED` body listing the access asked for, in distribution's format.
//!
//! ```text
//! 401 Www-Authenticate: Bearer realm="http://index/token",service="pier-registry",
//!                       scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"
//! {"errors":[{"code":"UNAUTHORIZED","message":"…",
//!   "detail":[{"Type":"repository","Name":"a","Action":"push"}]}]}
//! ```
//!
//! All scopes go into ONE `scope` parameter, space-joined. The body is written by the one
//! error writer (`OciError`); this module only chooses its parts.

use actix_web::http::header::WWW_AUTHENTICATE;
use pier_shared::{ErrorCode, OciError, Scope};

/// Why the request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// No token (or a non-Bearer scheme): no `error` parameter, the client fetches one.
    NoToken,
    /// The token is malformed, badly signed, expired, for someone else, or revoked.
    InvalidToken,
    /// The token is good but does not grant the access needed.
    InsufficientScope,
}

/// Where clients get tokens, and the name they ask them for.
#[derive(Debug, Clone)]
pub struct Realm {
    pub realm: String,
    pub service: String,
}

impl Realm {
    /// The `WWW-Authenticate` value for a request that needs `scopes`.
    pub fn header(&self, scopes: &[Scope], problem: Problem) -> String {
        let mut h = format!(
            "Bearer realm=\"{}\",service=\"{}\"",
            self.realm, self.service
        );
        if !scopes.is_empty() {
            let joined: Vec<String> = scopes.iter().map(ToString::to_string).collect();
            h.push_str(&format!(",scope=\"{}\"", joined.join(" ")));
        }
        match problem {
            Problem::NoToken => {}
            Problem::InvalidToken => h.push_str(",error=\"invalid_token\""),
            Problem::InsufficientScope => h.push_str(",error=\"insufficient_scope\""),
        }
        h
    }

    /// The whole refusal. `scopes` go into the challenge, `missing` into the body's detail.
    pub fn refuse(&self, scopes: &[Scope], missing: &[Scope], problem: Problem) -> OciError {
        let message = match problem {
            Problem::NoToken => "authentication required",
            Problem::InvalidToken => "authentication required: the token is not valid",
            Problem::InsufficientScope => "access to the requested resource is not authorized",
        };
        let mut e = OciError::with_message(ErrorCode::Unauthorized, message)
            .header(WWW_AUTHENTICATE, self.header(scopes, problem));
        let detail = detail(missing);
        if !detail.is_empty() {
            e = e.detail(serde_json::Value::Array(detail));
        }
        e
    }
}

/// One `{"Type","Name","Action"}` per action, as distribution's access records.
fn detail(scopes: &[Scope]) -> Vec<serde_json::Value> {
    scopes
        .iter()
        .flat_map(|s| {
            s.actions.iter().map(move |a| {
                serde_json::json!({"Type": s.resource_type, "Name": s.name, "Action": a.as_str()})
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pier_shared::Action;

    fn realm() -> Realm {
        Realm {
            realm: "http://index/token".into(),
            service: "pier-registry".into(),
        }
    }

    #[test]
    fn header_shapes() {
        let r = realm();
        assert_eq!(
            r.header(&[], Problem::NoToken),
            r#"Bearer realm="http://index/token",service="pier-registry""#
        );
        let scopes = [
            Scope::repository("a", &[Action::Push, Action::Pull]),
            Scope::repository("b", &[Action::Pull]),
        ];
        assert_eq!(
            r.header(&scopes, Problem::InsufficientScope),
            r#"Bearer realm="http://index/token",service="pier-registry",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope""#
        );
        assert!(r
            .header(&[Scope::catalog()], Problem::InvalidToken)
            .ends_with(r#",scope="registry:catalog:*",error="invalid_token""#));
    }

    #[test]
    fn body_lists_missing_access() {
        let scopes = [Scope::repository("a", &[Action::Pull, Action::Push])];
        let e = realm().refuse(&scopes, &scopes, Problem::NoToken);
        assert_eq!(e.status.as_u16(), 401);
        let body: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
        assert_eq!(
            body["errors"][0]["detail"],
            serde_json::json!([
                {"Type": "repository", "Name": "a", "Action": "pull"},
                {"Type": "repository", "Name": "a", "Action": "push"}
            ])
        );
        let e = realm().refuse(&[], &[], Problem::NoToken);
        assert!(e.detail.is_none());
    }
}
