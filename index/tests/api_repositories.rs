//! JSON API: repositories (listing with search and paging, visibility, deletion).

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{basic, token_request, TestIndex};
use serde_json::json;

const ALICE: (&str, &str) = ("alice", "alice-pw");
const BOB: (&str, &str) = ("bob", "bob-pw");

fn names(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

macro_rules! list {
    ($app:expr, $query:expr, $creds:expr) => {{
        let mut req = TestRequest::get().uri(&format!("/api/v1/repositories{}", $query));
        if let Some((u, p)) = $creds {
            req = req.insert_header(basic(u, p));
        }
        let r = call!($app, req);
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        names(&r.json())
    }};
}

#[actix_web::test]
async fn listing_shows_what_the_caller_may_pull() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    let q = "service=pier-registry&scope=repository:alice/web:push&scope=repository:alice/api:push\
             &scope=repository:alice/web_tools:push";
    assert_eq!(
        call!(app, token_request(q, Some(ALICE))).status,
        StatusCode::OK
    );
    let q = "service=pier-registry&scope=repository:bob/lib:push";
    assert_eq!(
        call!(app, token_request(q, Some(BOB))).status,
        StatusCode::OK
    );

    assert_eq!(
        list!(app, "", Some(ALICE)),
        ["alice/api", "alice/web", "alice/web_tools"]
    );
    assert_eq!(list!(app, "", None::<(&str, &str)>), Vec::<String>::new());
    assert_eq!(list!(app, "", Some(BOB)), ["bob/lib"]);
    assert_eq!(
        list!(app, "?q=web", Some(ALICE)),
        ["alice/web", "alice/web_tools"]
    );
    // `_` and `%` are literal in searches.
    assert_eq!(list!(app, "?q=b_t", Some(ALICE)), ["alice/web_tools"]);
    assert_eq!(list!(app, "?q=%25", Some(ALICE)), Vec::<String>::new());
    assert_eq!(
        list!(app, "?per_page=2&page=2", Some(ALICE)),
        ["alice/web_tools"]
    );
    let admin = Some(("admin", common::ADMIN_PASSWORD));
    assert_eq!(list!(app, "", admin).len(), 4);

    let r = call!(
        app,
        TestRequest::get().uri("/api/v1/repositories?per_page=0")
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.header("content-type"), "application/problem+json");
    let r = call!(app, TestRequest::get().uri("/api/v1/repositories?page=x"));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.header("content-type"), "application/problem+json");
}

#[actix_web::test]
async fn owners_set_visibility_and_public_repositories_are_open() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    let q = "service=pier-registry&scope=repository:alice/web:push";
    assert_eq!(
        call!(app, token_request(q, Some(ALICE))).status,
        StatusCode::OK
    );

    let get = || TestRequest::get().uri("/api/v1/repositories/alice/web");
    assert_eq!(
        call!(app, get()).status,
        StatusCode::NOT_FOUND,
        "private: hidden"
    );
    let r = call!(app, get().insert_header(basic(ALICE.0, ALICE.1)));
    assert_eq!(r.json()["visibility"], "private");
    assert_eq!(r.json()["namespace"], "alice");

    let patch = |creds: (&str, &str), vis: &str| {
        TestRequest::patch()
            .uri("/api/v1/repositories/alice/web")
            .insert_header(basic(creds.0, creds.1))
            .set_json(json!({ "visibility": vis }))
    };
    assert_eq!(
        call!(app, patch(BOB, "public")).status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call!(app, patch(ALICE, "open")).status,
        StatusCode::BAD_REQUEST
    );
    let r = call!(app, patch(ALICE, "public"));
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["visibility"], "public");
    assert_eq!(call!(app, get()).json()["name"], "alice/web");
    assert_eq!(list!(app, "", None::<(&str, &str)>), ["alice/web"]);
    // Public: bob can see it but still not change it.
    assert_eq!(
        call!(app, patch(BOB, "private")).status,
        StatusCode::FORBIDDEN
    );

    let del = |creds: (&str, &str)| {
        TestRequest::delete()
            .uri("/api/v1/repositories/alice/web")
            .insert_header(basic(creds.0, creds.1))
    };
    assert_eq!(call!(app, del(BOB)).status, StatusCode::FORBIDDEN);
    assert_eq!(call!(app, del(ALICE)).status, StatusCode::NO_CONTENT);
    assert_eq!(call!(app, get()).status, StatusCode::NOT_FOUND);
    assert_eq!(call!(app, del(ALICE)).status, StatusCode::NOT_FOUND);
    let r = call!(
        app,
        TestRequest::get().uri("/api/v1/repositories/Not..Valid")
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
