//! Event notifications (docs/notifications.md) to a receiver on 127.0.0.1 that records
//! every delivery: the events a push, pull, tag delete, mount and repository delete
//! produce, the signature, actions filtering, a receiver that refuses for a while, a
//! registry restarted with events pending, and two replicas sharing one queue.

use super::common::*;
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use pier_registry::config::EndpointConfig;
use pier_registry::notifications::deliver::{self, Delivery};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec-test";

/// One request the receiver accepted.
#[derive(Clone, Debug)]
struct Delivered {
    body: Vec<u8>,
    content_type: String,
    signature: String,
    authorization: String,
}

#[derive(Default)]
struct Receiver {
    accepted: Mutex<Vec<Delivered>>,
    /// Answer 503 to everything (the receiver is "down").
    down: AtomicBool,
    refused: AtomicUsize,
}

impl Receiver {
    fn events(&self) -> Vec<Value> {
        self.accepted
            .lock()
            .unwrap()
            .iter()
            .flat_map(|d| {
                let v: Value = serde_json::from_slice(&d.body).expect("envelope is JSON");
                v["events"].as_array().expect("events[]").clone()
            })
            .collect()
    }

    /// Wait (at most 30 s) until `n` events have arrived; returns them.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..300 {
            let got = self.events();
            if got.len() >= n {
                return got;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("only {} of {n} events arrived", self.events().len());
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, r: web::Data<Arc<Receiver>>) -> HttpResponse {
    if r.down.load(Ordering::SeqCst) {
        r.refused.fetch_add(1, Ordering::SeqCst);
        return HttpResponse::ServiceUnavailable().finish();
    }
    let h = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    r.accepted.lock().unwrap().push(Delivered {
        body: body.to_vec(),
        content_type: h("content-type"),
        signature: h("x-pier-signature"),
        authorization: h("authorization"),
    });
    HttpResponse::Ok().finish()
}

/// A receiver on a free port: its URL and handle.
fn serve(r: Arc<Receiver>) -> (String, actix_web::dev::ServerHandle) {
    let data = web::Data::new(r);
    let (base, handle) = serve_http(move |c| {
        c.app_data(data.clone())
            .route("/events", web::post().to(receive));
    });
    (format!("{base}/events"), handle)
}

fn endpoint(name: &str, url: &str, actions: &[&str]) -> EndpointConfig {
    let mut e = EndpointConfig {
        name: name.into(),
        url: url.into(),
        secret: pier_shared::config::Secret::new(SECRET),
        backoff_seconds: 1,
        backoff_max_seconds: 2,
        ..Default::default()
    };
    e.headers
        .insert("Authorization".into(), "Bearer xyz".into());
    if !actions.is_empty() {
        e.actions = actions.iter().map(|a| a.to_string()).collect();
    }
    e
}

/// A registry in `env` sending to `endpoints`, with its delivery tasks running.
async fn registry(env: &Env, endpoints: Vec<EndpointConfig>) -> (Api, Delivery) {
    let mut c = env.config();
    c.gc.interval_seconds = 0;
    c.notifications.endpoints = endpoints;
    let api = env.api_with(c).await;
    let delivery = deliver::spawn(&api.reg);
    (api, delivery)
}

/// A request as a client on another machine sends it.
fn client(method: Method, uri: &str) -> actix_web::test::TestRequest {
    req(method, uri)
        .insert_header(("Host", "registry.example:5000"))
        .insert_header(("User-Agent", "docker/27.0 test"))
        .peer_addr("192.0.2.7:40000".parse().unwrap())
}

fn verify_signature(d: &Delivered) {
    let hex = d
        .signature
        .strip_prefix("sha256=")
        .unwrap_or_else(|| panic!("signature {:?}", d.signature));
    let tag = hex::decode(hex).expect("hex signature");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    ring::hmac::verify(&key, &d.body, &tag).expect("signature verifies");
}

async fn state(api: &Api) -> Value {
    let res = api.get("/pier/v1/notifications").await;
    res.expect(200);
    res.json()
}

#[actix_web::test]
async fn push_pull_deletes_and_mount_produce_distribution_events() {
    let rec = Arc::new(Receiver::default());
    let (url, handle) = serve(Arc::clone(&rec));
    let env = Env::new();
    let all = ["push", "pull", "delete", "mount"];
    let (api, delivery) = registry(
        &env,
        vec![
            endpoint("all", &url, &all),
            endpoint("pushes", &url, &["push"]),
        ],
    )
    .await;

    let (manifest, config, layer) = image("events");
    push_blob(&api, "team/app", &config).await;
    let layer_digest = push_blob(&api, "team/app", &layer).await;
    let res = api
        .send(
            client(Method::PUT, "/v2/team/app/manifests/v1")
                .insert_header(("Content-Type", OCI_MANIFEST))
                .insert_header(("X-Request-Id", "req-push-1"))
                .set_payload(manifest.clone()),
        )
        .await;
    res.expect(201);
    let digest = sha256(&manifest);
    api.send(client(Method::GET, "/v2/team/app/manifests/v1"))
        .await
        .expect(200);
    // A HEAD is not a pull.
    api.send(client(Method::HEAD, "/v2/team/app/manifests/v1"))
        .await
        .expect(200);
    let mount = format!("/v2/team/other/blobs/uploads/?mount={layer_digest}&from=team/app");
    api.send(client(Method::POST, &mount)).await.expect(201);
    api.send(client(Method::DELETE, "/v2/team/app/manifests/v1"))
        .await
        .expect(202);
    api.send(client(Method::DELETE, "/pier/v1/repositories/team/other"))
        .await
        .expect(202);

    // "all" gets five events, "pushes" one: six in all.
    let events = rec.wait_for(6).await;
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rec.events().len(), 6, "{:#?}", rec.events());
    let deliveries = rec.accepted.lock().unwrap().clone();
    for d in &deliveries {
        verify_signature(d);
        assert_eq!(
            d.content_type,
            "application/vnd.docker.distribution.events.v1+json"
        );
        assert_eq!(d.authorization, "Bearer xyz");
    }
    let pushes: Vec<&Value> = events.iter().filter(|e| e["action"] == "push").collect();
    assert_eq!(pushes.len(), 2, "both endpoints get the push");
    assert_eq!(pushes[0]["id"], pushes[1]["id"], "one event, one id");
    let of_all: Vec<&Value> = {
        let mut seen = std::collections::HashSet::new();
        events
            .iter()
            .filter(|e| seen.insert(e["id"].as_str().unwrap().to_string()))
            .collect()
    };
    let actions: Vec<&str> = of_all
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["push", "pull", "mount", "delete", "delete"]);

    let push = of_all[0];
    let url_of = format!("http://registry.example:5000/v2/team/app/manifests/{digest}");
    assert_eq!(
        push["target"],
        serde_json::json!({
            "mediaType": OCI_MANIFEST,
            "size": manifest.len(),
            "digest": digest,
            "length": manifest.len(),
            "repository": "team/app",
            "url": url_of,
            "tag": "v1",
        })
    );
    assert_eq!(
        push["request"],
        serde_json::json!({
            "id": "req-push-1",
            "addr": "192.0.2.7:40000",
            "host": "registry.example:5000",
            "method": "PUT",
            "useragent": "docker/27.0 test",
        })
    );
    assert_eq!(push["actor"], serde_json::json!({}), "anonymous: no name");
    assert_eq!(
        push["source"]["instanceID"],
        api.reg.notifier.instance_id.as_str()
    );
    assert_eq!(push["source"]["addr"], api.reg.config.http.listen.as_str());
    assert!(
        chrono::DateTime::parse_from_rfc3339(push["timestamp"].as_str().unwrap()).is_ok(),
        "{push}"
    );

    let pull = of_all[1];
    assert_eq!(pull["target"]["digest"], digest.as_str());
    assert_eq!(pull["target"]["tag"], "v1");
    assert_eq!(pull["request"]["method"], "GET");
    let id = pull["request"]["id"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "a fresh request id: {id}"
    );

    assert_eq!(
        of_all[2]["target"],
        serde_json::json!({
            "mediaType": "application/octet-stream",
            "size": layer.len(),
            "digest": layer_digest,
            "length": layer.len(),
            "repository": "team/other",
            "fromRepository": "team/app",
            "url": format!("http://registry.example:5000/v2/team/other/blobs/{layer_digest}"),
        })
    );
    assert_eq!(
        of_all[3]["target"],
        serde_json::json!({ "repository": "team/app", "tag": "v1" })
    );
    assert_eq!(
        of_all[4]["target"],
        serde_json::json!({ "repository": "team/other" })
    );

    let s = state(&api).await;
    let all_state = &s["endpoints"][0];
    assert_eq!(all_state["name"], "all");
    assert_eq!(all_state["pending"], 0, "{s}");
    assert_eq!(all_state["delivered"], 5, "{s}");
    assert!(all_state["last_success_at"].is_i64(), "{s}");
    assert_eq!(s["endpoints"][1]["delivered"], 1, "{s}");
    assert_eq!(
        all_state["delivering"],
        api.reg.notifier.instance_id.as_str()
    );
    delivery.stop().await;
    handle.stop(false).await;
}

#[actix_web::test]
async fn default_actions_leave_pulls_out_and_nothing_is_queued_for_no_one() {
    let rec = Arc::new(Receiver::default());
    let (url, handle) = serve(Arc::clone(&rec));
    let env = Env::new();
    let (api, delivery) = registry(&env, vec![endpoint("ci", &url, &[])]).await;
    let img = push_image(&api, "a/b", "v1", "filter").await;
    api.get("/v2/a/b/manifests/v1").await.expect(200);
    api.delete(&format!("/v2/a/b/manifests/{}", img.digest))
        .await
        .expect(202);
    let events = rec.wait_for(2).await;
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let actions: Vec<String> = rec
        .events()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["push", "delete"]);
    assert_eq!(
        events[1]["target"],
        serde_json::json!({ "repository": "a/b", "digest": img.digest })
    );
    delivery.stop().await;
    handle.stop(false).await;

    // Without endpoints, nothing is written at all.
    let env = Env::new();
    let (api, delivery) = registry(&env, vec![]).await;
    push_image(&api, "a/b", "v1", "none").await;
    let rows = api
        .reg
        .db
        .run_sync(|c| pier_registry::db::outbox::pending(c, "ci", 10))
        .unwrap();
    assert!(rows.is_empty());
    assert_eq!(state(&api).await["endpoints"], serde_json::json!([]));
    delivery.stop().await;
}

#[actix_web::test]
async fn a_receiver_down_for_a_while_gets_every_event_in_order() {
    let rec = Arc::new(Receiver::default());
    rec.down.store(true, Ordering::SeqCst);
    let (url, handle) = serve(Arc::clone(&rec));
    let env = Env::new();
    let (api, delivery) = registry(&env, vec![endpoint("ci", &url, &["push"])]).await;
    let mut digests = Vec::new();
    for i in 0..5 {
        let img = push_image(&api, "a/b", &format!("t{i}"), &format!("down-{i}")).await;
        digests.push(img.digest);
    }
    // Refused at least twice (a first attempt and a retry after backoff).
    for _ in 0..100 {
        if rec.refused.load(Ordering::SeqCst) >= 2 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rec.refused.load(Ordering::SeqCst) >= 2);
    let s = state(&api).await;
    let ci = &s["endpoints"][0];
    assert_eq!(ci["pending"], 5, "{s}");
    assert!(ci["failures"].as_i64().unwrap() >= 1, "{s}");
    assert!(ci["last_error"].as_str().unwrap().contains("503"), "{s}");
    assert!(ci["last_success_at"].is_null(), "{s}");
    assert!(rec.events().is_empty());

    rec.down.store(false, Ordering::SeqCst);
    let events = rec.wait_for(5).await;
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rec.events().len(), 5, "no duplicates: {:#?}", rec.events());
    let tags: Vec<&str> = events
        .iter()
        .map(|e| e["target"]["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["t0", "t1", "t2", "t3", "t4"]);
    let got: Vec<&str> = events
        .iter()
        .map(|e| e["target"]["digest"].as_str().unwrap())
        .collect();
    assert_eq!(got, digests);
    let s = state(&api).await;
    assert_eq!(s["endpoints"][0]["pending"], 0, "{s}");
    assert_eq!(s["endpoints"][0]["failures"], 0, "{s}");
    delivery.stop().await;
    handle.stop(false).await;
}

/// A free port nothing listens on.
fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/events")
}

#[actix_web::test]
async fn a_restarted_registry_delivers_what_was_pending() {
    let env = Env::new();
    let (api, delivery) = registry(&env, vec![endpoint("ci", &closed_url(), &[])]).await;
    let first = api.reg.notifier.instance_id.clone();
    for i in 0..3 {
        push_image(&api, "a/b", &format!("r{i}"), &format!("restart-{i}")).await;
    }
    for _ in 0..100 {
        if state(&api).await["endpoints"][0]["failures"].as_i64() >= Some(1) {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state(&api).await["endpoints"][0]["pending"], 3);
    delivery.stop().await;
    drop(api);

    // Restarted, the endpoint (same name) now reachable.
    let rec = Arc::new(Receiver::default());
    let (url, handle) = serve(Arc::clone(&rec));
    let (api, delivery) = registry(&env, vec![endpoint("ci", &url, &[])]).await;
    assert_ne!(api.reg.notifier.instance_id, first);
    let events = rec.wait_for(3).await;
    let tags: Vec<&str> = events
        .iter()
        .map(|e| e["target"]["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["r0", "r1", "r2"]);
    // The events are the ones queued before the restart, not rebuilt.
    assert!(events
        .iter()
        .all(|e| e["source"]["instanceID"] == first.as_str()));
    for d in rec.accepted.lock().unwrap().iter() {
        verify_signature(d);
    }
    delivery.stop().await;
    handle.stop(false).await;
}

#[actix_web::test]
async fn two_replicas_deliver_each_event_once() {
    let rec = Arc::new(Receiver::default());
    let (url, handle) = serve(Arc::clone(&rec));
    let env = Env::new();
    let (a, da) = registry(&env, vec![endpoint("ci", &url, &[])]).await;
    let (b, db) = registry(&env, vec![endpoint("ci", &url, &[])]).await;
    for i in 0..3 {
        push_image(&a, "a/b", &format!("a{i}"), &format!("replica-a-{i}")).await;
        push_image(&b, "a/b", &format!("b{i}"), &format!("replica-b-{i}")).await;
    }
    let events = rec.wait_for(6).await;
    actix_web::rt::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(rec.events().len(), 6, "{:#?}", rec.events());
    let tags: Vec<&str> = events
        .iter()
        .map(|e| e["target"]["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["a0", "b0", "a1", "b1", "a2", "b2"]);
    let holder = state(&a).await["endpoints"][0]["delivering"].clone();
    let ids = [
        a.reg.notifier.instance_id.as_str(),
        b.reg.notifier.instance_id.as_str(),
    ];
    assert!(ids.iter().any(|i| holder == *i), "{holder}");
    da.stop().await;
    db.stop().await;
    handle.stop(false).await;
}

/// The queued rows of endpoint `ci`, as events.
async fn queued(api: &Api) -> Vec<Value> {
    let rows = api
        .reg
        .db
        .run_sync(|c| pier_registry::db::outbox::pending(c, "ci", 100))
        .unwrap();
    rows.iter()
        .map(|r| {
            let v: Value = serde_json::from_str(&r.payload).unwrap();
            assert_eq!(v["id"], r.event_id.as_str());
            v
        })
        .collect()
}

#[actix_web::test]
async fn events_are_queued_with_their_change_and_only_then() {
    let env = Env::new();
    let mut c = env.config();
    c.gc.interval_seconds = 0;
    // No delivery task: the rows stay for the test to read.
    c.notifications.endpoints = vec![endpoint("ci", &closed_url(), &["push", "pull", "delete"])];
    let api = env.api_with(c).await;

    // Refused changes queue nothing.
    let (manifest, config, layer) = image("atomic");
    push_blob(&api, "a/b", &config).await;
    put_manifest(&api, "a/b", "v1", OCI_MANIFEST, &manifest)
        .await
        .expect_error(400, "MANIFEST_BLOB_UNKNOWN");
    api.delete("/v2/a/b/manifests/nope")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    api.get("/v2/a/b/manifests/nope")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    assert!(queued(&api).await.is_empty());

    // By digest with two ?tag=: one event per tag, each its own id.
    push_blob(&api, "a/b", &layer).await;
    let digest = sha256(&manifest);
    let uri = format!("/v2/a/b/manifests/{digest}?tag=x&tag=y");
    api.send(
        req(Method::PUT, &uri)
            .insert_header(("Content-Type", OCI_MANIFEST))
            .set_payload(manifest.clone()),
    )
    .await
    .expect(201);
    // By digest alone: no tag. A HEAD: nothing. A GET by digest: a pull without tag.
    push_blob(&api, "a/c", &config).await;
    push_blob(&api, "a/c", &layer).await;
    push_manifest(&api, "a/c", &digest, OCI_MANIFEST, &manifest).await;
    api.head(&format!("/v2/a/b/manifests/{digest}"))
        .await
        .expect(200);
    api.get(&format!("/v2/a/b/manifests/{digest}"))
        .await
        .expect(200);
    let q = queued(&api).await;
    let summary: Vec<(String, String, String)> = q
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["target"]["repository"].as_str().unwrap().to_string(),
                e["target"]["tag"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let want = [
        ("push", "a/b", "x"),
        ("push", "a/b", "y"),
        ("push", "a/c", "-"),
        ("pull", "a/b", "-"),
    ];
    assert_eq!(
        summary,
        want.iter()
            .map(|(a, r, t)| (a.to_string(), r.to_string(), t.to_string()))
            .collect::<Vec<_>>(),
        "{q:#?}"
    );
    assert_ne!(q[0]["id"], q[1]["id"]);
    assert!(q.iter().all(|e| e["target"]["digest"] == digest.as_str()));
}
