//! Token authorization of `/v2` requests (Docker Registry v2 token auth, issue #3).
//!
//! With `auth.mode = "none"` every request is served, as before. With `"token"`, every
//! request goes through [`Gate::authorize`] in `routes::dispatch`, before any handler:
//!
//! ```text
//! access::required(method, route, query)   what the request needs       (access.rs)
//! header::credentials(headers)             Bearer token, or a challenge (header.rs)
//! Verifier::verify(token)                  signature, iss, aud, exp/nbf (verify.rs, keys.rs)
//! claims grant the needed scopes?          else insufficient_scope
//! Confirmer::confirm(token, scopes)        index still agrees? (cached) (confirm.rs, cache.rs)
//! ```
//!
//! Refusals are 401 with a Bearer challenge (challenge.rs); an index that cannot be asked
//! is a 503 UNAVAILABLE, and so is a write while the index is known not to answer
//! (watch.rs), even when a cached confirmation would cover it. Handlers keep their signatures: what a grant changes (no mount
//! without pull on `from`, a catalog filtered to what the caller may pull) is handed to
//! `dispatch` as a [`Grant`]. This module never touches the database or storage, and never
//! logs a token or the introspection secret.

pub mod access;
pub mod cache;
pub mod challenge;
pub mod client;
pub mod confirm;
pub mod header;
pub mod keys;
pub mod verify;
pub mod watch;

use crate::config::{AuthConfig, AuthMode};
use access::Required;
use actix_web::http::header::HeaderMap;
use challenge::{Problem, Realm};
use client::IndexClient;
use confirm::Confirmer;
use header::Credentials;
use pier_shared::{Claims, ErrorCode, OciError, Scope};
use std::sync::Arc;
use std::time::Duration;
use verify::{Failure, Verifier};

/// What an authorized request may do beyond what its route needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// A requested blob mount may be attempted.
    pub mount: bool,
    /// `_catalog`: only these repositories may be listed (`None`: all).
    pub catalog: Option<Vec<String>>,
    /// The verified token's subject (`None`: anonymous, or `auth.mode = "none"`), what
    /// `[rate_limit]` counts a user's requests by.
    pub subject: Option<String>,
    /// Token mode: repositories the index resolved through the default pull-through
    /// mirror (their namespace is not local); `auth.mode = "none"` decides it locally.
    pub mirrored: Vec<String>,
}

impl Grant {
    fn open() -> Grant {
        Grant {
            mount: true,
            catalog: None,
            subject: None,
            mirrored: Vec::new(),
        }
    }
}

/// The authorization in force.
pub enum Gate {
    /// `mode = "none"`: everything is allowed.
    Open,
    Token(Box<TokenAuth>),
}

pub struct TokenAuth {
    realm: Realm,
    verifier: Verifier,
    confirmer: Confirmer,
}

fn unavailable() -> OciError {
    OciError::with_message(
        ErrorCode::Unavailable,
        "the token cannot be confirmed with the index now; try again later",
    )
}

/// The actions of `need` that `claims` do not grant, if any.
fn missing_in_claims(claims: &Claims, need: &Scope) -> Option<Scope> {
    let actions: std::collections::BTreeSet<_> = need
        .actions
        .iter()
        .filter(|a| !claims.allows(&need.resource_type, &need.name, a))
        .cloned()
        .collect();
    (!actions.is_empty()).then(|| Scope {
        actions,
        ..need.clone()
    })
}

impl Gate {
    /// Build the gate `config` asks for; reads `jwks_file` now. Its calls to the index
    /// and confirmation-cache lookups are counted in `metrics`.
    pub fn from_config(
        c: &AuthConfig,
        metrics: &crate::metrics::IndexMetrics,
    ) -> Result<Gate, String> {
        if c.mode == AuthMode::None {
            return Ok(Gate::Open);
        }
        let client = Arc::new(
            IndexClient::new(
                Duration::from_secs(c.index_timeout_seconds.max(1)),
                &c.ca_certificate,
            )?
            .with_metrics(metrics.clone()),
        );
        let file_keys = if c.jwks_file.is_empty() {
            Default::default()
        } else {
            let text = std::fs::read_to_string(&c.jwks_file)
                .map_err(|e| format!("auth.jwks_file {}: {e}", c.jwks_file))?;
            keys::parse_jwks(&text).map_err(|e| format!("auth.jwks_file {}: {e}", c.jwks_file))?
        };
        let url = (!c.jwks_url.is_empty()).then(|| c.jwks_url.clone());
        let algorithms = c
            .algorithms
            .iter()
            .map(|a| verify::parse_algorithm(a))
            .collect::<Result<_, _>>()?;
        Ok(Gate::Token(Box::new(TokenAuth {
            realm: Realm {
                realm: c.realm.clone(),
                service: c.service.clone(),
            },
            verifier: Verifier {
                keys: keys::KeyStore::new(
                    file_keys,
                    url,
                    Duration::from_secs(c.jwks_refetch_seconds),
                    Arc::clone(&client),
                ),
                algorithms,
                issuer: c.issuer.clone(),
                audience: c.service.clone(),
                leeway: c.leeway_seconds,
                verified: cache::TtlCache::new(verify::VERIFIED_TTL, c.confirm_cache_entries),
            },
            confirmer: Confirmer {
                client,
                url: c.introspection_url.clone(),
                user: c.introspection_client.clone(),
                secret: c.introspection_secret.expose().to_string(),
                cache: cache::TtlCache::new(
                    Duration::from_secs(c.confirm_ttl_seconds),
                    c.confirm_cache_entries,
                ),
                watch: Default::default(),
                metrics: metrics.clone(),
            },
        })))
    }

    /// Fetch the index's keys now (at start), so the first token needs no round trip.
    pub async fn prefetch(&self) {
        if let Gate::Token(t) = self {
            t.verifier.keys.prefetch().await;
        }
    }

    /// Probe the index every `every` (forever; run it as a task), so that writes stop
    /// soon after the index goes away even when every request is answered from the cache.
    pub async fn watch_index(&self, every: Duration) {
        let Gate::Token(t) = self else { return };
        if every.is_zero() {
            return;
        }
        loop {
            t.confirmer.probe().await;
            actix_web::rt::time::sleep(every).await;
        }
    }

    /// May a request with these headers do what `need` says? The refusal is the response.
    pub async fn authorize(&self, headers: &HeaderMap, need: &Required) -> Result<Grant, OciError> {
        match self {
            Gate::Open => Ok(Grant::open()),
            Gate::Token(t) => t.authorize(headers, need).await,
        }
    }
}

impl TokenAuth {
    async fn authorize(&self, headers: &HeaderMap, need: &Required) -> Result<Grant, OciError> {
        let scopes = need.challenge_scopes();
        let refuse = |missing: &[Scope], problem| Err(self.realm.refuse(&scopes, missing, problem));
        let token = match header::credentials(headers) {
            Credentials::Absent | Credentials::OtherScheme => {
                return refuse(&scopes, Problem::NoToken)
            }
            Credentials::Malformed => {
                log::info!("token refused: malformed Authorization header");
                return refuse(&scopes, Problem::InvalidToken);
            }
            Credentials::Bearer(t) => t,
        };
        let claims = match self.verifier.verify(token).await {
            Ok(c) => c,
            Err(Failure::Invalid(why)) => {
                log::info!("token refused: {why}");
                return refuse(&scopes, Problem::InvalidToken);
            }
            Err(Failure::KeysUnavailable) => return Err(unavailable()),
        };
        let missing: Vec<Scope> = need
            .needed
            .iter()
            .filter_map(|s| missing_in_claims(&claims, s))
            .collect();
        if !missing.is_empty() {
            return refuse(&missing, Problem::InsufficientScope);
        }
        if need.writes() && !self.confirmer.watch.is_up() {
            return Err(OciError::with_message(
                ErrorCode::Unavailable,
                "the index does not answer; writes are refused until it does (reads go on)",
            ));
        }
        // Pull on a mount's `from` is asked about only if the token claims it.
        let from = need
            .mount_from
            .as_ref()
            .filter(|f| missing_in_claims(&claims, f).is_none());
        let ask: Vec<String> = need
            .needed
            .iter()
            .chain(from)
            .map(ToString::to_string)
            .collect();
        let answer = self
            .confirmer
            .confirm(token, &ask.join(" "), need.always_confirm)
            .await
            .map_err(|_| unavailable())?;
        if !answer.active {
            log::info!(
                "token of {:?} refused: the index says it is not active",
                claims.sub
            );
            return refuse(&scopes, Problem::InvalidToken);
        }
        let missing: Vec<Scope> = need
            .needed
            .iter()
            .filter(|s| !answer.grants(s))
            .cloned()
            .collect();
        if !missing.is_empty() {
            log::info!(
                "token of {:?}: the index no longer grants all it claims",
                claims.sub
            );
            return refuse(&missing, Problem::InsufficientScope);
        }
        Ok(Grant {
            subject: Some(claims.sub.clone()).filter(|s| !s.is_empty()),
            // Automatic mount (no `from`) would need pull on whichever repository holds the
            // blob; it is not attempted in token mode.
            mount: need.mount && from.is_some_and(|f| answer.grants(f)),
            catalog: need
                .catalog
                .then(|| answer.pullable.clone().unwrap_or_default()),
            mirrored: answer.mirrored.clone(),
        })
    }
}
