//! Which access a request needs: distribution's table, computed from (method, route, query).
//!
//! ```text
//! GET/HEAD  /v2/<name>/…                     repository:<name>:pull
//! POST/PUT/PATCH /v2/<name>/…                repository:<name>:pull,push
//! DELETE    /v2/<name>/…                     repository:<name>:delete
//! POST      …/blobs/uploads/?mount=&from=<f> the above, and repository:<f>:pull (optional)
//! GET       /v2/_catalog                     registry:catalog:*
//! GET       /v2/                             nothing, but a valid token
//! ```
//!
//! Pull on a cross-repo mount's `from` is *optional*: without it the mount is not attempted
//! and the client gets a plain upload session (202), as distribution does. Pure functions
//! only: no I/O, no configuration.

use crate::routes::path::Route;
use actix_web::http::Method;
use pier_shared::{Action, RepoName, Scope};

/// What one request needs, and what it would like.
#[derive(Debug, Clone, PartialEq)]
pub struct Required {
    /// Access the request cannot be served without.
    pub needed: Vec<Scope>,
    /// Pull on a cross-repo mount's `from`: the mount happens only if this is granted.
    pub mount_from: Option<Scope>,
    /// The request asks for a mount (`?mount=`, with or without `from`).
    pub mount: bool,
    /// Deletes are confirmed with the index every time, never from the cache.
    pub always_confirm: bool,
    /// `GET /v2/_catalog`: the answer is filtered to what the caller may pull.
    pub catalog: bool,
}

impl Required {
    /// Does the request change anything (push or delete on some repository)?
    pub fn writes(&self) -> bool {
        self.needed.iter().any(|s| {
            s.actions
                .iter()
                .any(|a| matches!(a, Action::Push | Action::Delete))
        })
    }

    /// Every scope the challenge names: the needed ones, then the optional one.
    pub fn challenge_scopes(&self) -> Vec<Scope> {
        let mut all = self.needed.clone();
        all.extend(self.mount_from.iter().cloned());
        all
    }
}

/// The actions a method needs on a repository (distribution's `appendAccessRecords`).
/// Methods no route serves need `pull`, so that probing them reveals nothing.
fn repository_actions(method: &Method) -> &'static [Action] {
    match *method {
        Method::POST | Method::PUT | Method::PATCH => &[Action::Pull, Action::Push],
        Method::DELETE => &[Action::Delete],
        _ => &[Action::Pull],
    }
}

/// The access `method` on `route` needs; `mount` and `from` are the query's values.
pub fn required(
    method: &Method,
    route: &Route,
    mount: Option<&str>,
    from: Option<&str>,
) -> Required {
    let mut r = Required {
        needed: Vec::new(),
        mount_from: None,
        mount: false,
        always_confirm: *method == Method::DELETE,
        catalog: false,
    };
    match route {
        Route::Base => {}
        Route::Catalog => {
            r.needed.push(Scope::catalog());
            r.catalog = true;
        }
        _ => {
            let Some(name) = route.repository() else {
                return r;
            };
            r.needed
                .push(Scope::repository(name.as_str(), repository_actions(method)));
            if matches!(route, Route::UploadStart(_)) && *method == Method::POST && mount.is_some()
            {
                r.mount = true;
                r.mount_from = from
                    .and_then(|f| f.parse::<RepoName>().ok())
                    .map(|f| Scope::repository(f.as_str(), &[Action::Pull]));
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::path::parse;

    fn need(method: Method, path: &str) -> Vec<String> {
        let route = parse(path).unwrap();
        required(&method, &route, None, None)
            .needed
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn distribution_table() {
        assert_eq!(
            need(Method::GET, "a/b/manifests/1"),
            ["repository:a/b:pull"]
        );
        assert_eq!(
            need(Method::HEAD, &format!("a/blobs/{D}")),
            ["repository:a:pull"]
        );
        assert_eq!(
            need(Method::PUT, "a/manifests/1"),
            ["repository:a:pull,push"]
        );
        assert_eq!(
            need(Method::POST, "a/blobs/uploads/"),
            ["repository:a:pull,push"]
        );
        assert_eq!(
            need(Method::PATCH, "a/blobs/uploads/x"),
            ["repository:a:pull,push"]
        );
        assert_eq!(
            need(Method::DELETE, "a/manifests/1"),
            ["repository:a:delete"]
        );
        assert_eq!(need(Method::GET, "a/tags/list"), ["repository:a:pull"]);
        assert_eq!(need(Method::GET, "_catalog"), ["registry:catalog:*"]);
        assert!(need(Method::GET, "").is_empty());
        assert_eq!(need(Method::OPTIONS, "a/tags/list"), ["repository:a:pull"]);
    }

    #[test]
    fn mount_wants_pull_on_from() {
        let route = parse("a/blobs/uploads/").unwrap();
        let r = required(&Method::POST, &route, Some(D), Some("b/c"));
        assert!(r.mount);
        assert_eq!(
            r.mount_from.as_ref().map(ToString::to_string).as_deref(),
            Some("repository:b/c:pull")
        );
        let all: Vec<String> = r.challenge_scopes().iter().map(|s| s.to_string()).collect();
        assert_eq!(all, ["repository:a:pull,push", "repository:b/c:pull"]);
        // An invalid `from` is never asked for; automatic mount has no `from`.
        let r = required(&Method::POST, &route, Some(D), Some("../x"));
        assert!(r.mount && r.mount_from.is_none());
        let r = required(&Method::POST, &route, Some(D), None);
        assert!(r.mount && r.mount_from.is_none());
        // `from` without `mount` is not a mount.
        let r = required(&Method::POST, &route, None, Some("b"));
        assert!(!r.mount && r.mount_from.is_none());
        assert!(required(&Method::DELETE, &route, None, None).always_confirm);
        assert!(required(&Method::DELETE, &route, None, None).writes());
        assert!(required(&Method::PUT, &route, None, None).writes());
        assert!(!required(&Method::GET, &route, None, None).writes());
    }
}
