//! Event notifications (issue #15, docs/notifications.md): what happened in the registry,
//! sent to the endpoints of `[[notifications.endpoints]]` in distribution's envelope
//! format, so that tools written for distribution's notifications work unchanged.
//!
//! ```text
//! services (in the change's own transaction) → events::*  → db::outbox (one row per endpoint)
//! deliver::spawn → one task per endpoint: lease, read the outbox in id order, POST, delete
//! webhooks::run   → the index's per-namespace webhooks (`GET /pier/v1/webhooks`), each an
//!                   endpoint of its own (queue `webhook-<id>`) for its namespace's events
//! ```
//!
//! Events are durable before the request that caused them is answered; delivery is
//! at-least-once, in order per endpoint, with a stable event `id` for receivers to drop
//! repeats. This module never sees actix request types: routes hand it an [`Origin`].

pub mod deliver;
pub mod event;
pub mod events;
pub mod sign;
pub mod webhooks;

use crate::config::{EndpointConfig, NotificationsConfig, Secret};
use std::sync::{Arc, OnceLock, RwLock};

pub use event::{Event, RequestInfo};

/// The configured endpoints and what every event says of this process.
pub struct Notifier {
    /// The endpoints of the configuration file.
    pub endpoints: Vec<Arc<Endpoint>>,
    /// The per-namespace webhooks the index last named ([`webhooks`]), replaced whole.
    webhooks: RwLock<Arc<Vec<Arc<Endpoint>>>>,
    /// `source.instanceID`: a fresh UUID per process start (distribution's meaning); also
    /// this process's name as a lease owner.
    pub instance_id: String,
    /// `source.addr`: the listen address, the bound one once the server has bound it.
    listen: String,
    bound: OnceLock<String>,
}

/// One endpoint: its settings, its HMAC key (read at start), and the wake-up its
/// delivery task waits on when it has nothing to send.
pub struct Endpoint {
    pub config: EndpointConfig,
    secret: Secret,
    wake: tokio::sync::Notify,
    /// Set for a per-namespace webhook: only that namespace's events are sent to it.
    pub webhook: Option<Webhook>,
}

/// What makes an endpoint a per-namespace webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The index's id of the webhook (its queue is `webhook-<id>`).
    pub id: String,
    /// Events of repositories `<namespace>/…` only.
    pub namespace: String,
}

impl Endpoint {
    /// An endpoint of `config`, signing with `secret`.
    pub fn new(config: EndpointConfig, secret: Secret, webhook: Option<Webhook>) -> Endpoint {
        Endpoint {
            config,
            secret,
            wake: tokio::sync::Notify::new(),
            webhook,
        }
    }

    /// Does it take events of `action` (whatever the repository)?
    pub fn wants(&self, action: &str) -> bool {
        self.config.actions.iter().any(|a| a == action)
    }

    /// Does it take an event of `action` about `repository`?
    pub fn wants_event(&self, action: &str, repository: &str) -> bool {
        self.wants(action)
            && self.webhook.as_ref().is_none_or(|w| {
                repository
                    .strip_prefix(w.namespace.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
            })
    }

    /// Are `secret` and the delivery settings those of `other` (nothing to restart)?
    fn same_as(&self, other: &Endpoint) -> bool {
        self.config == other.config && self.secret == other.secret && self.webhook == other.webhook
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }
}

/// Who caused an event, and through which request: built by the route layer from the
/// HTTP request and the token's grant, carried into the service's transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    pub request: RequestInfo,
    /// `actor.name`: the token's subject; empty when anonymous (or `auth.mode = "none"`).
    pub actor: String,
    /// `scheme://host` the client used, for `target.url`.
    pub base_url: String,
}

impl Notifier {
    /// The endpoints of `config` (reading each `secret_file`); `listen`: `http.listen`.
    pub fn new(config: &NotificationsConfig, listen: &str) -> Result<Notifier, String> {
        let endpoints = config
            .endpoints
            .iter()
            .map(|c| {
                let secret = c.secret()?;
                if secret.is_empty() {
                    log::warn!(
                        "notifications: endpoint {} has no secret: its requests are not signed",
                        c.name
                    );
                }
                Ok(Arc::new(Endpoint::new(c.clone(), secret, None)))
            })
            .collect::<Result<_, String>>()?;
        Ok(Notifier {
            endpoints,
            webhooks: RwLock::default(),
            instance_id: uuid::Uuid::new_v4().to_string(),
            listen: listen.to_string(),
            bound: OnceLock::new(),
        })
    }

    /// The configured endpoints, then the webhooks known now.
    pub fn all(&self) -> Vec<Arc<Endpoint>> {
        let hooks = self.webhooks();
        self.endpoints.iter().chain(hooks.iter()).cloned().collect()
    }

    /// The webhooks known now.
    pub fn webhooks(&self) -> Arc<Vec<Arc<Endpoint>>> {
        Arc::clone(&self.webhooks.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replace the webhooks (the index's latest answer).
    pub(crate) fn set_webhooks(&self, hooks: Vec<Arc<Endpoint>>) {
        *self.webhooks.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(hooks);
    }

    /// Is there any endpoint at all? (Requests build no event origin otherwise.)
    pub fn any(&self) -> bool {
        !self.endpoints.is_empty() || !self.webhooks().is_empty()
    }

    /// Does any endpoint want events of `action`? (Nothing is written otherwise.)
    pub fn wants(&self, action: &str) -> bool {
        self.endpoints.iter().any(|e| e.wants(action))
            || self.webhooks().iter().any(|e| e.wants(action))
    }

    /// The server bound `addr` (port 0 resolved): events say that from now on.
    pub fn set_bound(&self, addr: std::net::SocketAddr) {
        let _ = self.bound.set(addr.to_string());
    }

    fn source_addr(&self) -> &str {
        self.bound
            .get()
            .map_or(self.listen.as_str(), String::as_str)
    }
}
