//! JSON API: personal access tokens (`/api/v1/access-tokens`).

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{basic, token_request, TestIndex};
use serde_json::json;

const ALICE: (&str, &str) = ("alice", "alice-pw");

#[actix_web::test]
async fn create_use_list_and_revoke_through_the_api() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let body = json!({"name": "ci", "repositories": ["alice/*"], "actions": ["pull", "push"],
                      "expires_in_days": 7});
    let create = TestRequest::post()
        .uri("/api/v1/access-tokens")
        .insert_header(basic(ALICE.0, ALICE.1))
        .set_json(&body);
    let r = call!(app, create);
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let created = r.json();
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["token"]["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("pier_pat_"));
    assert_eq!(created["token"]["actions"], "pull,push");
    assert_eq!(created["token"]["active"], true);

    let q = "service=pier-registry&scope=repository:alice/app:pull,push,delete";
    let r = call!(app, token_request(q, Some(("alice", &secret))));
    assert_eq!(r.json()["scope"], "repository:alice/app:pull,push");

    // A PAT manages no PATs.
    let list = |creds: (&str, &str)| {
        TestRequest::get()
            .uri("/api/v1/access-tokens")
            .insert_header(basic(creds.0, creds.1))
    };
    assert_eq!(
        call!(app, list(("alice", &secret))).status,
        StatusCode::UNAUTHORIZED
    );
    let r = call!(app, list(ALICE));
    assert_eq!(r.status, StatusCode::OK);
    let listed = r.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!r.text().contains(&secret) && !r.text().contains("token_hash"));

    let revoke = TestRequest::delete()
        .uri(&format!("/api/v1/access-tokens/{id}"))
        .insert_header(basic(ALICE.0, ALICE.1));
    assert_eq!(call!(app, revoke).status, StatusCode::NO_CONTENT);
    let r = call!(app, token_request(q, Some(("alice", &secret))));
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(call!(app, list(ALICE)).json()[0]["active"], false);
}

#[actix_web::test]
async fn bad_requests_are_problems() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    for body in [
        json!({"name": "x", "actions": ["fly"]}),
        json!({"name": "x", "actions": []}),
        json!({"name": "", "actions": ["pull"]}),
        json!({"name": "x", "actions": ["pull"], "repositories": ["Not/A Name"]}),
        json!({"name": "x", "actions": ["pull"], "expires_in_days": 0}),
        json!({"name": "x", "actions": ["pull"], "extra": 1}),
    ] {
        let req = TestRequest::post()
            .uri("/api/v1/access-tokens")
            .insert_header(basic(ALICE.0, ALICE.1))
            .set_json(&body);
        let r = call!(app, req);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text());
        assert_eq!(r.header("content-type"), "application/problem+json");
    }
    let req = TestRequest::post()
        .uri("/api/v1/access-tokens")
        .insert_header(basic(ALICE.0, ALICE.1))
        .set_json(json!({"name": "x", "actions": ["pull"]}));
    let id = call!(app, req).json()["token"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Bob cannot revoke alice's token (and cannot tell it exists).
    let req = TestRequest::delete()
        .uri(&format!("/api/v1/access-tokens/{id}"))
        .insert_header(basic("bob", "bob-pw"));
    assert_eq!(call!(app, req).status, StatusCode::NOT_FOUND);
}
