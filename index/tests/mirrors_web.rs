//! The web UI's "cached from <url>" marks: with the registry's hit/miss counts when a
//! registry answers (a stand-in on 127.0.0.1 serving the contract's listing), and shown
//! as unknown when none can be reached.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use common::web::get;
use common::{basic, TestIndex, ADMIN_PASSWORD, REGISTRY_SECRET};
use serde_json::json;
use std::sync::{Arc, Mutex};

const HUB: &str = "https://registry-1.docker.io";

/// Register the `hub` mirror (public, default) and the cached `hub/library/alpine`.
macro_rules! mirror_alpine {
    ($app:expr) => {{
        let set = json!({"default": "hub", "upstreams": [{"prefix": "hub", "url": HUB, "public": true}]});
        let r = call!(
            $app,
            TestRequest::put()
                .uri("/pier/v1/mirrors")
                .insert_header(basic("registry", REGISTRY_SECRET))
                .set_json(&set)
        );
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        let r = call!(
            $app,
            TestRequest::put()
                .uri("/pier/v1/mirrors/repositories/hub/library/alpine")
                .insert_header(basic("registry", REGISTRY_SECRET))
        );
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }};
}

#[actix_web::test]
async fn without_a_registry_the_pages_render_with_the_counts_unknown() {
    let t = TestIndex::new();
    let alice = t.add_user("alice", "alice-pw").await;
    t.index
        .db
        .transaction(move |c| -> Result<(), pier_index::db::DbError> {
            let ns = pier_index::db::namespaces::find(c, &alice.name)?.unwrap();
            pier_index::db::repositories::allocate(c, ns.id, "alice/app")?;
            Ok(())
        })
        .await
        .unwrap();
    let app = app!(t);
    mirror_alpine!(app);
    let (cookie, _) = login!(app, "admin", ADMIN_PASSWORD);
    let list = call!(app, get("/ui/", &cookie));
    assert_eq!(list.status, StatusCode::OK);
    let html = list.text();
    assert!(html.contains("hub/library/alpine") && html.contains("alice/app"));
    let marks = html.matches(r#"class="badge cached""#).count();
    assert_eq!(marks, 1, "only the mirrored repository is marked: {html}");
    assert!(html.contains(&format!("cached from {HUB} · hits and misses unknown")));

    let page = call!(app, get("/ui/r/hub/library/alpine", &cookie));
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(&format!("cached from {HUB} · hits and misses unknown")));
    let own = call!(app, get("/ui/r/alice/app", &cookie)).text();
    assert!(!own.contains("cached from"));
}

/// What the stand-in registry saw: the `Authorization` of each listing request.
type Seen = Arc<Mutex<Vec<String>>>;

async fn listing(req: HttpRequest, seen: web::Data<Seen>) -> HttpResponse {
    let auth = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    seen.lock().unwrap().push(auth);
    HttpResponse::Ok().json(json!({"repositories": [{
        "name": "hub/library/alpine", "prefix": "hub", "url": HUB,
        "hits": 12, "misses": 3, "bytes": 3145728, "last_pulled": 1764800000}]}))
}

#[actix_web::test]
async fn the_counts_come_from_the_registry_with_a_catalog_token_for_the_web_user() {
    let seen: Seen = Arc::default();
    let data = web::Data::new(seen.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/pier/v1/mirror/repositories", web::get().to(listing))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let t = TestIndex::with(|c| c.registry.url = format!("http://{addr}"));
    let app = app!(t);
    mirror_alpine!(app);
    let (cookie, _) = login!(app, "admin", ADMIN_PASSWORD);
    let html = call!(app, get("/ui/", &cookie)).text();
    assert!(
        html.contains(&format!("cached from {HUB} · 12 hits · 3 misses")),
        "{html}"
    );
    let html = call!(app, get("/ui/r/hub/library/alpine", &cookie)).text();
    assert!(html.contains("12 hits · 3 misses"), "{html}");
    assert!(html.contains("No tags cached yet"), "{html}");
    handle.stop(true).await;

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let token = seen[0].strip_prefix("Bearer ").expect("a Bearer token");
    let (_, claims) = common::jwt_parts(token);
    assert_eq!(claims["sub"], "admin");
    assert_eq!(common::access(&claims), vec!["registry:catalog:*"]);
}
