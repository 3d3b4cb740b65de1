//! Event notifications (issue #15, docs/notifications.md): what happened in the registry,
//! sent to the endpoints of `[[notifications.endpoints]]` in distribution's envelope
//! format, so that tools written for distribution's notifications work unchanged.
//!
//! ```text
//! services (in the change's own transaction) → events::*  → db::outbox (one row per endpoint)
//! deliver::spawn → one task per endpoint: lease, read the outbox in id order, POST, delete
//! ```
//!
//! Events are durable before the request that caused them is answered; delivery is
//! at-least-once, in order per endpoint, with a stable event `id` for receivers to drop
//! repeats. This module never sees actix request types: routes hand it an [`Origin`].

pub mod deliver;
pub mod event;
pub mod events;
pub mod sign;

use crate::config::{EndpointConfig, NotificationsConfig, Secret};
use std::sync::OnceLock;

pub use event::{Event, RequestInfo};

/// The configured endpoints and what every event says of this process.
pub struct Notifier {
    pub endpoints: Vec<Endpoint>,
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
}

impl Endpoint {
    pub fn wants(&self, action: &str) -> bool {
        self.config.actions.iter().any(|a| a == action)
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
                Ok(Endpoint {
                    config: c.clone(),
                    secret,
                    wake: tokio::sync::Notify::new(),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Notifier {
            endpoints,
            instance_id: uuid::Uuid::new_v4().to_string(),
            listen: listen.to_string(),
            bound: OnceLock::new(),
        })
    }

    /// Does any endpoint want events of `action`? (Nothing is written otherwise.)
    pub fn wants(&self, action: &str) -> bool {
        self.endpoints.iter().any(|e| e.wants(action))
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
