//! `[rate_limit]` on the index: off by default; when on, anonymous callers (and Basic
//! credentials, which are not verified before the limit) by client address, Bearer tokens
//! by subject; 429 with `Retry-After` in the path's protocol.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{bearer, token_request, TestIndex, ADMIN_PASSWORD};
use std::net::SocketAddr;

fn from(req: TestRequest, addr: &str) -> TestRequest {
    req.peer_addr(addr.parse::<SocketAddr>().unwrap())
}

fn limited() -> TestIndex {
    TestIndex::with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.anonymous_burst = 3;
        c.rate_limit.anonymous_per_second = 0.01;
        c.rate_limit.user_burst = 2;
        c.rate_limit.user_per_second = 0.01;
    })
}

#[actix_web::test]
async fn off_by_default() {
    let t = TestIndex::new();
    let app = app!(t);
    for _ in 0..50 {
        let r = call!(
            app,
            from(
                TestRequest::get().uri("/api/v1/repositories"),
                "192.0.2.1:1"
            )
        );
        assert_eq!(r.status, StatusCode::OK);
    }
}

#[actix_web::test]
async fn anonymous_callers_per_address_in_each_protocol() {
    let t = limited();
    let app = app!(t);
    let a = "192.0.2.1:1";
    for _ in 0..3 {
        let r = call!(app, from(TestRequest::get().uri("/api/v1/repositories"), a));
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = call!(app, from(TestRequest::get().uri("/api/v1/repositories"), a));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["type"], "urn:pier:problem:too-many-requests");
    let retry: u64 = r.header("retry-after").parse().unwrap();
    assert!(retry >= 1, "{retry}");
    let r = call!(app, from(token_request("service=pier-registry", None), a));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["errors"][0]["code"], "TOOMANYREQUESTS");
    let r = call!(app, from(TestRequest::get().uri("/v1/_ping"), a));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.json()["error"].as_str().unwrap().contains("rate limit"));
    // Another address, and health checks, are not affected.
    let r = call!(
        app,
        from(
            TestRequest::get().uri("/api/v1/repositories"),
            "192.0.2.2:1"
        )
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        call!(app, from(TestRequest::get().uri("/healthz"), a)).status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn bearer_callers_per_subject_whatever_their_address() {
    let t = limited();
    let app = app!(t);
    let r = call!(
        app,
        from(
            token_request("service=pier-registry", Some(("admin", ADMIN_PASSWORD))),
            "192.0.2.9:1"
        )
    );
    assert_eq!(r.status, StatusCode::OK);
    let token = r.json()["token"].as_str().unwrap().to_string();
    let me = |addr: &str| {
        from(
            TestRequest::get()
                .uri("/api/v1/user")
                .insert_header(bearer(&token)),
            addr,
        )
    };
    assert_eq!(call!(app, me("192.0.2.10:1")).status, StatusCode::OK);
    assert_eq!(call!(app, me("192.0.2.11:1")).status, StatusCode::OK);
    let r = call!(app, me("192.0.2.12:1"));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!r.header("retry-after").is_empty());
    // The addresses' own anonymous buckets are untouched.
    let r = call!(
        app,
        from(
            TestRequest::get().uri("/api/v1/repositories"),
            "192.0.2.12:1"
        )
    );
    assert_eq!(r.status, StatusCode::OK);
}
