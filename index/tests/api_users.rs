//! JSON API: users (admin and self-service), refresh tokens, authentication failures.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{basic, bearer, token_request, TestIndex, ADMIN_PASSWORD};
use serde_json::json;

const ADMIN: (&str, &str) = ("admin", ADMIN_PASSWORD);

fn as_user(req: TestRequest, (u, p): (&str, &str)) -> TestRequest {
    req.insert_header(basic(u, p))
}

#[actix_web::test]
async fn admins_manage_users() {
    let t = TestIndex::new();
    let app = app!(t);
    let create = TestRequest::post()
        .uri("/api/v1/users")
        .set_json(json!({"name": "dave", "email": "d@example.org"}));
    let r = call!(app, as_user(create, ADMIN));
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let generated = r.json()["password"].as_str().unwrap().to_string();
    assert_eq!(r.json()["name"], "dave");
    assert_eq!(r.json()["email"], "d@example.org");
    let r = call!(
        app,
        token_request("service=pier-registry", Some(("dave", &generated)))
    );
    assert_eq!(r.status, StatusCode::OK);

    let create = TestRequest::post()
        .uri("/api/v1/users")
        .set_json(json!({"name": "erin", "password": "erin-pw"}));
    let r = call!(app, as_user(create, ADMIN));
    assert!(
        r.json().get("password").is_none(),
        "given passwords are not echoed"
    );
    let r = call!(app, as_user(TestRequest::get().uri("/api/v1/users"), ADMIN));
    let list = r.json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "dave", "erin"]);

    // Non-admins may not.
    let r = call!(
        app,
        as_user(TestRequest::get().uri("/api/v1/users"), ("erin", "erin-pw"))
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let create = TestRequest::post()
        .uri("/api/v1/users")
        .set_json(json!({"name": "x"}));
    assert_eq!(
        call!(app, as_user(create, ("erin", "erin-pw"))).status,
        StatusCode::FORBIDDEN
    );

    // Disable, enable, reset.
    let disable = TestRequest::post().uri("/api/v1/users/erin/disable");
    assert_eq!(
        call!(app, as_user(disable, ADMIN)).status,
        StatusCode::NO_CONTENT
    );
    let r = call!(
        app,
        token_request("service=pier-registry", Some(("erin", "erin-pw")))
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let enable = TestRequest::post().uri("/api/v1/users/erin/enable");
    assert_eq!(
        call!(app, as_user(enable, ADMIN)).status,
        StatusCode::NO_CONTENT
    );
    let reset = TestRequest::put()
        .uri("/api/v1/users/erin/password")
        .set_json(json!({}));
    let r = call!(app, as_user(reset, ADMIN));
    let new = r.json()["password"].as_str().unwrap().to_string();
    assert_eq!(
        call!(
            app,
            token_request("service=pier-registry", Some(("erin", "erin-pw")))
        )
        .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call!(
            app,
            token_request("service=pier-registry", Some(("erin", &new)))
        )
        .status,
        StatusCode::OK
    );
    let missing = TestRequest::post().uri("/api/v1/users/ghost/disable");
    assert_eq!(
        call!(app, as_user(missing, ADMIN)).status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn users_change_their_own_password_only() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    let alice = ("alice", "alice-pw");
    let wrong = TestRequest::put()
        .uri("/api/v1/users/alice/password")
        .set_json(json!({"current_password": "nope", "password": "alice-pw2"}));
    assert_eq!(
        call!(app, as_user(wrong, alice)).status,
        StatusCode::FORBIDDEN
    );
    let other = TestRequest::put()
        .uri("/api/v1/users/bob/password")
        .set_json(json!({"password": "x"}));
    assert_eq!(
        call!(app, as_user(other, alice)).status,
        StatusCode::FORBIDDEN
    );
    let ok = TestRequest::put()
        .uri("/api/v1/users/alice/password")
        .set_json(json!({"current_password": "alice-pw", "password": "alice-pw2"}));
    assert_eq!(
        call!(app, as_user(ok, alice)).status,
        StatusCode::NO_CONTENT
    );
    let me = TestRequest::get().uri("/api/v1/user");
    assert_eq!(
        call!(app, as_user(me, alice)).status,
        StatusCode::UNAUTHORIZED,
        "old password"
    );
    let me = TestRequest::get().uri("/api/v1/user");
    let r = call!(app, as_user(me, ("alice", "alice-pw2")));
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.json()["name"].as_str(), r.json()["is_admin"].as_bool()),
        (Some("alice"), Some(false))
    );
}

#[actix_web::test]
async fn refresh_tokens_are_listed_and_revoked_by_their_owner() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    let alice = ("alice", "alice-pw");
    let q = "service=pier-registry&offline_token=true&client_id=docker";
    let refresh = call!(app, token_request(q, Some(alice))).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = call!(
        app,
        as_user(TestRequest::get().uri("/api/v1/refresh-tokens"), alice)
    );
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        (list[0]["client_id"].as_str(), list[0]["active"].as_bool()),
        (Some("docker"), Some(true))
    );
    assert!(
        !r.text().contains(&refresh),
        "the token itself is never shown again"
    );
    let id = list[0]["id"].as_str().unwrap().to_string();
    let uri = format!("/api/v1/refresh-tokens/{id}");
    let by_bob = TestRequest::delete().uri(&uri);
    assert_eq!(
        call!(app, as_user(by_bob, ("bob", "bob-pw"))).status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call!(app, as_user(TestRequest::delete().uri(&uri), alice)).status,
        StatusCode::NO_CONTENT
    );
    let r = call!(
        app,
        as_user(TestRequest::get().uri("/api/v1/refresh-tokens"), alice)
    );
    assert_eq!(r.json()[0]["active"], false);
    assert!(r.json()[0]["revoked_at"].is_string());
}

#[actix_web::test]
async fn authentication_failures_are_problems_with_a_challenge() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let anonymous_token = call!(app, token_request("service=pier-registry", None)).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let cases = [
        TestRequest::get().uri("/api/v1/user"),
        as_user(TestRequest::get().uri("/api/v1/user"), ("alice", "bad")),
        TestRequest::get()
            .uri("/api/v1/user")
            .insert_header(("Authorization", "Digest x")),
        TestRequest::get()
            .uri("/api/v1/user")
            .insert_header(bearer("x.y.z")),
        TestRequest::get()
            .uri("/api/v1/user")
            .insert_header(bearer(&anonymous_token)),
    ];
    for req in cases {
        let r = call!(app, req);
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.header("content-type"), "application/problem+json");
        assert_eq!(r.header("www-authenticate"), r#"Basic realm="pier-index""#);
        assert_eq!(r.json()["status"], 401);
    }
    let r = call!(app, TestRequest::get().uri("/api/v1/nowhere"));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["type"], "urn:pier:problem:no-route");
    let bad_json = TestRequest::post()
        .uri("/api/v1/orgs")
        .insert_header(("Content-Type", "application/json"))
        .set_payload("{");
    let r = call!(app, as_user(bad_json, ("alice", "alice-pw")));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.header("content-type"), "application/problem+json");
}
