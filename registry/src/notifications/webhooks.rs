//! Per-namespace webhooks (docs/notifications.md, "Per-namespace webhooks"): namespace
//! owners manage them in the index; every registry replica reads the set and delivers each
//! like a configured endpoint, with only the events of that namespace's repositories.
//!
//! ```text
//! every notifications.webhook_refresh_seconds (token mode):
//!   GET <index>/pier/v1/webhooks        Authorization: Basic <introspection client:secret>
//!   200 {"webhooks":[{"id":"3f2c…","namespace":"team","url":"https://ci.example/hook",
//!                     "actions":["push","delete"],"secret":"…"}]}
//!   new      → endpoint `webhook-<id>` (queue of that name) and its delivery task
//!   changed  → its task restarted with the new URL, actions or secret; the queue stays
//!   gone     → its task stopped, its queued events and delivery state dropped
//! ```
//!
//! Until the first answer no webhook gets events. While the index cannot be asked, the
//! webhooks last known keep getting and delivering events.

use super::{deliver, Endpoint, Webhook};
use crate::auth::client::IndexClient;
use crate::auth::Gate;
use crate::config::{EndpointConfig, Secret};
use crate::config::{ACTIONS, WEBHOOK_QUEUE_PREFIX};
use crate::db;
use crate::state::Registry;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const PATH: &str = "/pier/v1/webhooks";

/// One webhook as the index names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Hook {
    pub id: String,
    pub namespace: String,
    pub url: String,
    pub actions: Vec<String>,
    #[serde(default)]
    pub secret: String,
}

#[derive(Deserialize)]
struct Listing {
    webhooks: Vec<Hook>,
}

/// The index's answer; webhooks that cannot be delivered are left out, each with a reason.
pub fn parse(body: &[u8]) -> Result<(Vec<Hook>, Vec<String>), String> {
    let listing: Listing =
        serde_json::from_slice(body).map_err(|e| format!("unreadable webhook list: {e}"))?;
    let mut refused = Vec::new();
    let hooks = listing
        .webhooks
        .into_iter()
        .filter(|h| match check(h) {
            Ok(()) => true,
            Err(why) => {
                refused.push(format!("webhook {:?}: {why}", h.id));
                false
            }
        })
        .collect();
    Ok((hooks, refused))
}

fn check(h: &Hook) -> Result<(), String> {
    let id_ok = !h.id.is_empty()
        && h.id.len() <= 64
        && h.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !id_ok {
        return Err("the id must be 1 to 64 letters, digits or '-'".into());
    }
    if h.namespace.is_empty() || h.namespace.contains('/') {
        return Err(format!("{:?} is not a namespace", h.namespace));
    }
    let scheme_ok = h.url.starts_with("http://") || h.url.starts_with("https://");
    if !scheme_ok || h.url.parse::<actix_web::http::Uri>().is_err() {
        return Err("the url is not an http:// or https:// URL".into());
    }
    if h.actions.is_empty() {
        return Err("no actions".into());
    }
    if let Some(a) = h.actions.iter().find(|a| !ACTIONS.contains(&a.as_str())) {
        return Err(format!("{a:?} is not one of push, pull, delete, mount"));
    }
    Ok(())
}

/// The endpoint that delivers `h`.
pub fn endpoint(h: &Hook) -> Endpoint {
    let config = EndpointConfig {
        name: format!("{WEBHOOK_QUEUE_PREFIX}{}", h.id),
        url: h.url.clone(),
        actions: h.actions.clone(),
        ..Default::default()
    };
    let webhook = Webhook {
        id: h.id.clone(),
        namespace: h.namespace.clone(),
    };
    Endpoint::new(config, Secret::new(h.secret.clone()), Some(webhook))
}

/// How to read the set from the index.
pub struct Link {
    client: IndexClient,
    url: String,
    user: String,
    secret: String,
    every: Duration,
}

impl Link {
    /// In token mode with `notifications.webhook_refresh_seconds` > 0 and an index URL.
    pub fn of(reg: &Registry) -> Option<Link> {
        let every = reg.config.notifications.webhook_refresh_seconds;
        if every == 0 || !matches!(*reg.auth, Gate::Token(_)) {
            return None;
        }
        let auth = &reg.config.auth;
        let Some(base) = crate::mirror::register::index_base(auth) else {
            log::error!(
                "notifications: auth.introspection_url does not end in /introspect; \
                 per-namespace webhooks are not delivered"
            );
            return None;
        };
        let client = match IndexClient::new(
            Duration::from_secs(auth.index_timeout_seconds.max(1)),
            &auth.ca_certificate,
        ) {
            Ok(c) => c.with_metrics(reg.metrics.index.clone()),
            Err(e) => {
                log::error!("notifications: cannot reach the index for webhooks: {e}");
                return None;
            }
        };
        Some(Link {
            client,
            url: format!("{base}{PATH}"),
            user: auth.introspection_client.clone(),
            secret: auth.introspection_secret.expose().to_string(),
            every: Duration::from_secs(every),
        })
    }

    async fn fetch(&self) -> Result<Vec<Hook>, String> {
        let (status, body) = self
            .client
            .get_basic(&self.url, &self.user, &self.secret)
            .await
            .map_err(|e| e.to_string())?;
        if status != 200 {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Err(format!("{} answered {status}: {text}", self.url));
        }
        let (hooks, refused) = parse(&body)?;
        for why in refused {
            log::warn!("notifications: {why}; it is not delivered");
        }
        Ok(hooks)
    }
}

/// A webhook's running delivery.
struct Running {
    endpoint: Arc<Endpoint>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

/// Keep the webhooks and their delivery tasks as the index says, until `cancel`.
pub async fn run(reg: Registry, link: Link, cancel: CancellationToken) {
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut failing = false;
    while !cancel.is_cancelled() {
        let asked_at = pier_shared::db::now();
        match link.fetch().await {
            Ok(hooks) => {
                if failing {
                    log::info!("notifications: the index names the webhooks again");
                }
                failing = false;
                apply(&reg, &mut running, &hooks, &cancel).await;
                sweep(&reg, &running, asked_at).await;
            }
            Err(e) => {
                if !failing {
                    log::warn!(
                        "notifications: reading the webhooks: {e}; the {} known keep being \
                         delivered",
                        running.len()
                    );
                }
                failing = true;
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = actix_web::rt::time::sleep(link.every) => {}
        }
    }
    for (_, r) in running.drain() {
        r.stop().await;
    }
}

/// Make the running set `hooks`: start the new, restart the changed, stop the gone.
async fn apply(
    reg: &Registry,
    running: &mut HashMap<String, Running>,
    hooks: &[Hook],
    cancel: &CancellationToken,
) {
    let mut next: HashMap<String, Running> = HashMap::new();
    let mut order = Vec::with_capacity(hooks.len());
    for h in hooks {
        let ep = Arc::new(endpoint(h));
        let name = ep.name().to_string();
        if next.contains_key(&name) {
            continue;
        }
        let r = match running.remove(&name) {
            Some(r) if r.endpoint.same_as(&ep) => r,
            old => {
                // One sender per queue in this process: the old task ends (and gives its
                // lease up) before the new one starts.
                if let Some(old) = old {
                    old.stop().await;
                    log::info!(
                        "notifications: webhook {name} changed; delivering to {}",
                        h.url
                    );
                } else {
                    log::info!(
                        "notifications: webhook {name} of namespace {} → {}",
                        h.namespace,
                        h.url
                    );
                }
                let token = cancel.child_token();
                Running {
                    task: deliver::start(reg, Arc::clone(&ep), token.clone()),
                    endpoint: ep,
                    cancel: token,
                }
            }
        };
        order.push(Arc::clone(&r.endpoint));
        next.insert(name, r);
    }
    for (name, r) in running.drain() {
        log::info!("notifications: webhook {name} deleted in the index");
        r.stop().await;
    }
    reg.notifier.set_webhooks(order);
    *running = next;
}

/// Drop the queues of webhooks the index no longer names (deleted, perhaps while no
/// replica ran): only what was written before `asked_at`, the moment the set was asked.
async fn sweep(reg: &Registry, running: &HashMap<String, Running>, asked_at: i64) {
    let names = match reg
        .db
        .run(|c| db::outbox::queues_with_prefix(c, WEBHOOK_QUEUE_PREFIX))
        .await
    {
        Ok(n) => n,
        Err(e) => {
            log::warn!("notifications: listing webhook queues: {e}");
            return;
        }
    };
    for name in names.into_iter().filter(|n| !running.contains_key(n)) {
        let n = name.clone();
        match reg
            .db
            .transaction(move |c| db::outbox::drop_queue(c, &n, asked_at))
            .await
        {
            Ok(0) => {}
            Ok(dropped) => log::info!(
                "notifications: dropped {dropped} queued event(s) of deleted webhook {name}"
            ),
            Err(e) => log::warn!("notifications: dropping the queue {name}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_example_parses_and_bad_entries_are_left_out() {
        let body = br#"{"webhooks":[
            {"id":"3f2c","namespace":"team","url":"https://ci.example/hook",
             "actions":["push","delete"],"secret":"s"},
            {"id":"a b","namespace":"team","url":"https://x/","actions":["push"]},
            {"id":"b","namespace":"t/x","url":"https://x/","actions":["push"]},
            {"id":"c","namespace":"team","url":"ftp://x/","actions":["push"]},
            {"id":"d","namespace":"team","url":"https://x/","actions":["tag"]},
            {"id":"e","namespace":"team","url":"https://x/","actions":[],"extra":1}]}"#;
        let (hooks, refused) = parse(body).unwrap();
        assert_eq!(hooks.len(), 1, "{refused:?}");
        assert_eq!(refused.len(), 5, "{refused:?}");
        let ep = endpoint(&hooks[0]);
        assert_eq!(ep.name(), "webhook-3f2c");
        assert_eq!(ep.secret.expose(), "s");
        assert_eq!(ep.config.actions, ["push", "delete"]);
        assert!(parse(b"{}").is_err());
    }

    #[test]
    fn a_webhook_takes_only_its_namespace() {
        let h = Hook {
            id: "1".into(),
            namespace: "team".into(),
            url: "http://127.0.0.1:9/".into(),
            actions: vec!["push".into()],
            secret: String::new(),
        };
        let ep = endpoint(&h);
        assert!(ep.wants_event("push", "team/app"));
        assert!(ep.wants_event("push", "team/a/b"));
        assert!(!ep.wants_event("push", "teamx/app"));
        assert!(!ep.wants_event("push", "team"));
        assert!(!ep.wants_event("delete", "team/app"));
    }
}
