//! `GET /healthz` and `GET /readyz`: unauthenticated; readiness is 503 with a reason when
//! the database gives no connection in time.

mod common;

use actix_web::test::TestRequest;
use common::TestIndex;
use serde_json::json;

#[actix_web::test]
async fn healthz_and_readyz_need_no_credentials() {
    let t = TestIndex::new();
    let app = app!(t);
    let r = call!(app, TestRequest::get().uri("/healthz"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok"}));
    let r = call!(app, TestRequest::get().uri("/readyz"));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"status": "ok", "checks": {"database": "ok"}})
    );
    assert_eq!(r.header("content-type"), "application/json");
}

#[actix_web::test]
async fn a_database_that_gives_no_connection_is_503_without_its_url() {
    let t = TestIndex::with(|c| c.database.pool_size = 1);
    let app = app!(t);
    let held = t.index.db.conn().expect("the pool's connection");
    let r = call!(app, TestRequest::get().uri("/readyz"));
    assert_eq!(r.status, 503);
    assert_eq!(
        r.json(),
        json!({"status": "unavailable", "checks": {"database": "timed out after 2s"}})
    );
    let url = t.index.config.database.url.expose().to_string();
    assert!(!r.text().contains(&url), "{}", r.text());
    let r = call!(app, TestRequest::get().uri("/healthz"));
    assert_eq!(r.status, 200);
    drop(held);
    let r = call!(app, TestRequest::get().uri("/readyz"));
    assert_eq!(r.status, 200);
}
