//! Confirmation with the index: "is this token still good for these scopes?" (RFC 7662).
//!
//! ```text
//! POST <index>/introspect   Authorization: Basic registry:<secret>
//!      token=<jwt>&scope=repository:a:pull,push
//! 200  {"active":true,"sub":"alice","scope":"repository:a:pull,push","jti":"…","exp":…}
//! ```
//!
//! The answer is cached per (token, scope asked) for `confirm_ttl_seconds`, so steady
//! traffic costs one round trip per token and scope per TTL; deletes skip the cache. If the
//! index cannot be asked, the caller answers 503 (an answer younger than the TTL is still
//! used for reads, since it is read before the index is asked at all). Every call's outcome
//! goes to the [`IndexWatch`], which writes consult (watch.rs).

use super::cache::{self, TtlCache};
use super::client::IndexClient;
use super::watch::IndexWatch;
use pier_shared::{Action, Introspection, Scope};
use std::sync::Arc;

/// What the index said, in the form the registry uses.
#[derive(Debug, Clone)]
pub struct Answer {
    pub active: bool,
    /// Scopes the index still grants.
    pub granted: Vec<Scope>,
    /// Repositories the subject may pull (only asked with `registry:catalog:*`).
    pub pullable: Option<Vec<String>>,
    /// Asked repositories the index resolved through the default mirror.
    pub mirrored: Vec<String>,
}

impl Answer {
    fn from_wire(i: Introspection) -> Answer {
        // Unparseable entries grant nothing; the rest still count.
        let granted = i
            .scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter_map(|s| s.parse::<Scope>().ok())
            .collect();
        Answer {
            active: i.active,
            granted,
            pullable: i.pullable,
            mirrored: i.pier_mirrored.unwrap_or_default(),
        }
    }

    /// Does the answer grant every action of `need`? `*` grants all.
    pub fn grants(&self, need: &Scope) -> bool {
        need.actions.iter().all(|a| {
            self.granted.iter().any(|g| {
                g.resource_type == need.resource_type
                    && g.name == need.name
                    && (g.actions.contains(a) || g.actions.contains(&Action::All))
            })
        })
    }
}

/// The index could not be asked (the reason is logged where it happened).
#[derive(Debug)]
pub struct Unavailable;

pub struct Confirmer {
    pub client: Arc<IndexClient>,
    pub url: String,
    pub user: String,
    pub secret: String,
    pub cache: TtlCache<Arc<Answer>>,
    pub watch: IndexWatch,
    /// `pier_registry_confirm_cache_total{result}`.
    pub metrics: crate::metrics::IndexMetrics,
}

impl Confirmer {
    /// The index's answer about `token` for `scope`; `fresh` skips the cache (deletes).
    pub async fn confirm(
        &self,
        token: &str,
        scope: &str,
        fresh: bool,
    ) -> Result<Arc<Answer>, Unavailable> {
        let key = cache::key(token, scope);
        if fresh {
            self.metrics.cache("bypass");
        } else if let Some(a) = self.cache.get(&key) {
            self.metrics.cache("hit");
            return Ok(a);
        } else {
            self.metrics.cache("miss");
        }
        let wire = self
            .client
            .introspect(&self.url, &self.user, &self.secret, token, scope)
            .await
            .map_err(|e| {
                self.watch.record(false);
                log::warn!("cannot confirm a token with the index: {e}");
                Unavailable
            })?;
        self.watch.record(true);
        let answer = Arc::new(Answer::from_wire(wire));
        if !fresh {
            self.cache.put(key, Arc::clone(&answer));
        }
        Ok(answer)
    }

    /// Ask the index about an empty token (always inactive) to learn whether it answers.
    pub async fn probe(&self) {
        let answered = self
            .client
            .introspect(&self.url, &self.user, &self.secret, "", "")
            .await
            .map_err(|e| log::debug!("index probe: {e}"))
            .is_ok();
        self.watch.record(answered);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_needs_every_action() {
        let a = Answer::from_wire(Introspection {
            active: true,
            scope: Some("repository:a:pull repository:b:pull,push registry:catalog:* bad".into()),
            ..Default::default()
        });
        let s = |x: &str| x.parse::<Scope>().unwrap();
        assert!(a.grants(&s("repository:a:pull")));
        assert!(!a.grants(&s("repository:a:pull,push")));
        assert!(a.grants(&s("repository:b:push,pull")));
        assert!(!a.grants(&s("repository:c:pull")));
        assert!(a.grants(&Scope::catalog()));
        let none = Answer::from_wire(Introspection::default());
        assert!(!none.active && !none.grants(&s("repository:a:pull")));
    }
}
