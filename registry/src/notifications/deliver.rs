//! Delivery: one task per endpoint, started by the server (like `gc::task`).
//!
//! ```text
//! loop: hold the lease `notifications:<name>`      (one replica delivers per endpoint)
//!       read up to BATCH queued events, oldest first (db::outbox::pending)
//!       POST {"events":[…]}  X-Pier-Signature: sha256=…
//!       2xx   → delete them, record the success, go on at once
//!       other → record the error, wait backoff_seconds · 2^(failures-1), at most
//!               backoff_max_seconds, and send the same events again
//! ```
//!
//! Everything that must survive a restart is in the database: the queue itself and the
//! failure count; a restarted process retries at once. An event is deleted only after
//! the endpoint answered 2xx, so a crash (or a lease lost) between the answer and the
//! delete sends it again: at-least-once, with the same `id`.

use super::event::{envelope, MEDIA_TYPE};
use super::{sign, Endpoint};
use crate::db::{self, DbError};
use crate::http_client::ThreadClient;
use crate::state::Registry;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Most events in one envelope.
pub const BATCH: i64 = 32;
/// How often an idle task looks for events another replica queued (events this process
/// queues wake it at once).
pub const POLL: Duration = Duration::from_secs(1);
/// Longest sleep between two renewals of the lease.
const RENEW: Duration = Duration::from_secs(5);

/// The running delivery tasks; [`Delivery::stop`] ends them and gives their leases up.
pub struct Delivery {
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Start one task per configured endpoint on the current actix system, and (token mode)
/// the task that keeps the per-namespace webhooks and their delivery tasks up to date.
pub fn spawn(reg: &Registry) -> Delivery {
    let cancel = CancellationToken::new();
    let mut tasks: Vec<_> = reg
        .notifier
        .endpoints
        .iter()
        .map(|ep| start(reg, Arc::clone(ep), cancel.child_token()))
        .collect();
    if let Some(link) = super::webhooks::Link::of(reg) {
        let (reg, cancel) = (reg.clone(), cancel.clone());
        tasks.push(actix_web::rt::spawn(async move {
            super::webhooks::run(reg, link, cancel).await
        }));
    }
    Delivery { cancel, tasks }
}

/// Start delivering to `ep` until `cancel`.
pub(crate) fn start(
    reg: &Registry,
    ep: Arc<Endpoint>,
    cancel: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    actix_web::rt::spawn(run(reg.clone(), ep, cancel))
}

impl Delivery {
    /// Stop delivering (a request in flight is abandoned: its events stay queued).
    pub async fn stop(self) {
        self.cancel.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Sleep for `d`, or less if cancelled.
async fn pause(cancel: &CancellationToken, d: Duration) {
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = actix_web::rt::time::sleep(d) => {}
    }
}

fn backoff(ep: &Endpoint, failures: i64) -> Duration {
    let c = &ep.config;
    let exp = failures.clamp(1, 32) as u32 - 1;
    let secs = c
        .backoff_seconds
        .saturating_mul(2u64.saturating_pow(exp))
        .min(c.backoff_max_seconds);
    Duration::from_secs(secs)
}

async fn run(reg: Registry, ep: Arc<Endpoint>, cancel: CancellationToken) {
    let ep = &*ep;
    let name = ep.name().to_string();
    let lease = format!("notifications:{name}");
    let owner = reg.notifier.instance_id.clone();
    let ttl = ep.config.timeout_seconds as i64 + 30;
    let client = match ThreadClient::new(Duration::from_secs(ep.config.timeout_seconds), "") {
        Ok(c) => c,
        Err(e) => {
            log::error!("notifications: endpoint {name}: {e}; nothing will be delivered");
            return;
        }
    };
    let mut next_attempt = Instant::now();
    while !cancel.is_cancelled() {
        let (l, o) = (lease.clone(), owner.clone());
        let held = reg
            .db
            .run(move |c| pier_shared::db::lease::try_acquire(c, &l, &o, ttl))
            .await;
        match held {
            Ok(true) => {}
            Ok(false) => {
                pause(&cancel, RENEW).await;
                continue;
            }
            Err(e) => {
                log::warn!("notifications: endpoint {name}: lease: {e}");
                pause(&cancel, RENEW).await;
                continue;
            }
        }
        let wait = next_attempt.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            pause(&cancel, wait.min(RENEW)).await;
            continue;
        }
        let n = name.clone();
        let rows = match reg.db.run(move |c| db::outbox::pending(c, &n, BATCH)).await {
            Ok(rows) => rows,
            Err(e) => {
                log::warn!("notifications: endpoint {name}: reading the outbox: {e}");
                pause(&cancel, RENEW).await;
                continue;
            }
        };
        let Some(last) = rows.last().map(|r| r.id) else {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = ep.wake.notified() => {}
                _ = actix_web::rt::time::sleep(POLL) => {}
            }
            continue;
        };
        let body = envelope(rows.iter().map(|r| r.payload.as_str()));
        let sent = tokio::select! {
            _ = cancel.cancelled() => break,
            r = send(ep, &client, body) => r,
        };
        let n = name.clone();
        let outcome: Result<Option<i64>, DbError> = match &sent {
            Ok(()) => {
                reg.db
                    .run(move |c| db::outbox::delivered(c, &n, last).map(|_| None))
                    .await
            }
            Err(why) => {
                let why = why.clone();
                reg.db
                    .run(move |c| db::outbox::failed(c, &n, &why).map(Some))
                    .await
            }
        };
        match (sent, outcome) {
            (Ok(()), Ok(_)) => {
                log::debug!("notifications: {} event(s) to {name}", rows.len());
            }
            (Err(why), Ok(failures)) => {
                let delay = backoff(ep, failures.unwrap_or(1));
                log::warn!(
                    "notifications: endpoint {name}: {why}; {} event(s) pending, retry in {} s",
                    rows.len(),
                    delay.as_secs()
                );
                next_attempt = Instant::now() + delay;
            }
            (_, Err(e)) => {
                log::warn!("notifications: endpoint {name}: recording the outcome: {e}");
                next_attempt = Instant::now() + RENEW;
            }
        }
    }
    let _ = reg
        .db
        .run(move |c| pier_shared::db::lease::release(c, &lease, &owner))
        .await;
}

/// POST one envelope; `Err` with what went wrong unless the answer is 2xx.
async fn send(ep: &Endpoint, client: &ThreadClient, body: String) -> Result<(), String> {
    let mut req = client
        .get()
        .post(&ep.config.url)
        .insert_header((actix_web::http::header::CONTENT_TYPE, MEDIA_TYPE))
        .insert_header((actix_web::http::header::USER_AGENT, "pier-registry"));
    if !ep.secret.is_empty() {
        let sig = sign::signature(ep.secret.expose().as_bytes(), body.as_bytes());
        req = req.insert_header((sign::HEADER, sig));
    }
    for (k, v) in &ep.config.headers {
        req = req.insert_header((k.as_str(), v.as_str()));
    }
    let res = req.send_body(body).await.map_err(|e| e.to_string())?;
    let status = res.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
}
