//! Per-namespace webhooks (docs/notifications.md): the registry reads the set from the
//! (fake) index with its introspection credentials, delivers each webhook only its
//! namespace's events, follows a changed URL, drops the queue of a deleted webhook, and
//! keeps delivering the webhooks it knows while the index cannot be asked.

use super::common::*;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use pier_registry::db::outbox;
use pier_registry::notifications::deliver;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const HOOK_SECRET: &str = "hook-secret";

#[derive(Default)]
struct Receiver {
    /// (body, X-Pier-Signature) of every accepted request.
    accepted: Mutex<Vec<(Vec<u8>, String)>>,
    down: AtomicBool,
}

impl Receiver {
    fn events(&self) -> Vec<Value> {
        let got = self.accepted.lock().unwrap();
        got.iter()
            .flat_map(|(body, _)| {
                let v: Value = serde_json::from_slice(body).expect("an envelope");
                v["events"].as_array().expect("events[]").clone()
            })
            .collect()
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, r: web::Data<Arc<Receiver>>) -> HttpResponse {
    if r.down.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let sig = req
        .headers()
        .get("x-pier-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    r.accepted.lock().unwrap().push((body.to_vec(), sig));
    HttpResponse::Ok().finish()
}

/// A receiver on a free port of 127.0.0.1: it, its URL and its server's handle.
fn receiver() -> (Arc<Receiver>, String, actix_web::dev::ServerHandle) {
    let r = Arc::new(Receiver::default());
    let data = web::Data::new(Arc::clone(&r));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hook", web::post().to(receive))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind the receiver");
    let url = format!("http://{}/hook", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (r, url, handle)
}

fn hook(id: &str, namespace: &str, url: &str) -> Value {
    json!({"id": id, "namespace": namespace, "url": url,
           "actions": ["push", "delete"], "secret": HOOK_SECRET})
}

async fn registry() -> Env {
    start_with(|c| c.notifications.webhook_refresh_seconds = 1).await
}

/// Wait (at most 15 s) for `done`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..150 {
        if done() {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn pending(env: &Env, queue: &str) -> usize {
    let q = queue.to_string();
    env.reg
        .db
        .run_sync(move |c| outbox::pending(c, &q, 100))
        .unwrap()
        .len()
}

async fn state(env: &Env) -> Value {
    let b = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("registry:{SECRET}"),
    );
    let res = env
        .raw(
            actix_web::test::TestRequest::with_uri("/pier/v1/notifications")
                .insert_header(("Authorization", format!("Basic {b}"))),
        )
        .await;
    res.expect(200);
    res.json()
}

#[actix_web::test]
async fn a_webhook_gets_its_namespaces_events_only_signed_with_its_secret() {
    let env = registry().await;
    let (rec, url, server) = receiver();
    env.index
        .state
        .set_webhooks(vec![hook("w1", "alice", &url)]);
    let delivery = deliver::spawn(&env.reg);
    until("the webhook to be known", || {
        env.reg.notifier.webhooks().len() == 1
    })
    .await;
    assert!(env.index.state.webhook_reads() >= 1);

    let digest = env.push_image("alice/app", "v1").await;
    env.push_image("bob/app", "v1").await;
    env.push_image("alicex/app", "v1").await;
    until("the push event", || !rec.events().is_empty()).await;
    // The other namespaces' pushes were never queued for it.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let events = rec.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["action"], "push");
    assert_eq!(events[0]["target"]["repository"], "alice/app");
    assert_eq!(events[0]["target"]["digest"], digest.as_str());
    assert_eq!(events[0]["actor"]["name"], "alice");

    let (body, sig) = rec.accepted.lock().unwrap()[0].clone();
    let tag = hex::decode(sig.strip_prefix("sha256=").expect("signed")).unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, HOOK_SECRET.as_bytes());
    ring::hmac::verify(&key, &body, &tag).expect("signed with the webhook's secret");

    let s = state(&env).await;
    let entry = s["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["webhook"] == "w1")
        .unwrap_or_else(|| panic!("{s}"))
        .clone();
    assert_eq!(entry["name"], "webhook-w1");
    assert_eq!(entry["namespace"], "alice");
    assert_eq!(entry["delivered"], 1, "{s}");
    assert_eq!(entry["pending"], 0, "{s}");
    delivery.stop().await;
    server.stop(false).await;
}

#[actix_web::test]
async fn a_changed_url_gets_the_pending_events_and_a_deleted_webhook_its_queue_dropped() {
    let env = registry().await;
    let (old, old_url, old_server) = receiver();
    let (new, new_url, new_server) = receiver();
    old.down.store(true, Ordering::SeqCst);
    env.index
        .state
        .set_webhooks(vec![hook("w1", "alice", &old_url)]);
    let delivery = deliver::spawn(&env.reg);
    until("the webhook to be known", || {
        env.reg.notifier.webhooks().len() == 1
    })
    .await;
    env.push_image("alice/app", "v1").await;
    assert_eq!(pending(&env, "webhook-w1"), 1);

    // The owner points it elsewhere: the queued event follows.
    env.index
        .state
        .set_webhooks(vec![hook("w1", "alice", &new_url)]);
    until("delivery to the new URL", || new.events().len() == 1).await;
    assert!(old.events().is_empty());
    assert_eq!(new.events()[0]["target"]["repository"], "alice/app");

    // Down again, an event waits; then the webhook is deleted in the index.
    new.down.store(true, Ordering::SeqCst);
    env.push_image("alice/app", "v2").await;
    assert_eq!(pending(&env, "webhook-w1"), 1);
    env.index.state.set_webhooks(vec![]);
    until("the webhook to be forgotten", || {
        env.reg.notifier.webhooks().is_empty()
    })
    .await;
    until("its queue to be dropped", || {
        pending(&env, "webhook-w1") == 0
    })
    .await;
    // Pushes after the deletion are queued for no one.
    env.push_image("alice/app", "v3").await;
    assert_eq!(pending(&env, "webhook-w1"), 0);
    let s = state(&env).await;
    assert!(
        s["endpoints"].as_array().unwrap().is_empty(),
        "the state of a deleted webhook is gone: {s}"
    );
    delivery.stop().await;
    old_server.stop(false).await;
    new_server.stop(false).await;
}

#[actix_web::test]
async fn known_webhooks_keep_delivering_while_the_index_is_down() {
    let env = registry().await;
    let (rec, url, server) = receiver();
    rec.down.store(true, Ordering::SeqCst);
    env.index
        .state
        .set_webhooks(vec![hook("w1", "alice", &url)]);
    let delivery = deliver::spawn(&env.reg);
    until("the webhook to be known", || {
        env.reg.notifier.webhooks().len() == 1
    })
    .await;
    let digest = env.push_image("alice/app", "v1").await;
    assert_eq!(pending(&env, "webhook-w1"), 1);
    env.index.stop().await;
    let reads = env.index.state.webhook_reads();
    // Refreshes fail now; the webhook stays known and its event goes out.
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(env.index.state.webhook_reads(), reads);
    assert_eq!(env.reg.notifier.webhooks().len(), 1);
    rec.down.store(false, Ordering::SeqCst);
    until("the event", || rec.events().len() == 1).await;
    assert_eq!(rec.events()[0]["target"]["digest"], digest.as_str());
    delivery.stop().await;
    server.stop(false).await;
}

#[actix_web::test]
async fn no_webhook_is_known_when_the_index_refuses_the_registrys_credentials() {
    let env = start_with(|c| {
        c.notifications.webhook_refresh_seconds = 1;
        c.auth.introspection_secret = pier_registry::config::Secret::new("not-the-secret");
    })
    .await;
    let (_rec, url, server) = receiver();
    env.index
        .state
        .set_webhooks(vec![hook("w1", "alice", &url)]);
    let delivery = deliver::spawn(&env.reg);
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(env.index.state.webhook_reads(), 0);
    assert!(env.reg.notifier.webhooks().is_empty());
    delivery.stop().await;
    server.stop(false).await;
}
