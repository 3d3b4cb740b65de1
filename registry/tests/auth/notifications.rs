//! Notifications in token mode: an event's `actor.name` is the token's subject, and the
//! delivery state (`GET /pier/v1/notifications`) is for the introspection client only:
//! a token cannot tell a site admin, since every signed-in user may hold
//! `registry:catalog:*`.

use super::common::*;
use actix_web::test::TestRequest;
use base64::Engine;
use pier_registry::config::EndpointConfig;

fn basic(user: &str, password: &str) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {b}")
}

async fn with_endpoint() -> Env {
    start_with(|c| {
        c.notifications.endpoints = vec![EndpointConfig {
            name: "ci".into(),
            // Never reached: no delivery task runs here.
            url: "http://127.0.0.1:9/events".into(),
            ..Default::default()
        }];
    })
    .await
}

#[actix_web::test]
async fn the_actor_is_the_tokens_subject() {
    let env = with_endpoint().await;
    let digest = env.push_image("alice/app", "v1").await;
    let rows = env
        .reg
        .db
        .run_sync(|c| pier_registry::db::outbox::pending(c, "ci", 10))
        .unwrap();
    assert_eq!(rows.len(), 1);
    let event: serde_json::Value = serde_json::from_str(&rows[0].payload).unwrap();
    assert_eq!(event["id"], rows[0].event_id.as_str());
    assert_eq!(event["action"], "push");
    assert_eq!(event["actor"]["name"], "alice");
    assert_eq!(event["target"]["digest"], digest.as_str());
}

#[actix_web::test]
async fn the_delivery_state_needs_the_introspection_credentials() {
    let env = with_endpoint().await;
    let get = |auth: Option<String>| {
        let mut r = TestRequest::with_uri("/pier/v1/notifications");
        if let Some(a) = auth {
            r = r.insert_header(("Authorization", a));
        }
        env.raw(r)
    };
    let res = get(None).await;
    res.expect(401);
    assert_eq!(
        res.header("www-authenticate"),
        Some("Basic realm=\"pier-registry\"")
    );
    assert!(res.text().contains("UNAUTHORIZED"), "{}", res.text());
    let catalog = env.token(&["registry:catalog:*"]);
    get(Some(format!("Bearer {catalog}"))).await.expect(401);
    get(Some(basic("registry", "wrong"))).await.expect(401);
    get(Some(basic("alice", SECRET))).await.expect(401);
    let res = get(Some(basic("registry", SECRET))).await;
    res.expect(200);
    let v = res.json();
    assert_eq!(v["endpoints"][0]["name"], "ci");
    assert_eq!(v["endpoints"][0]["pending"], 0);
    assert!(
        !res.text().contains("Authorization"),
        "headers are never shown"
    );
}
