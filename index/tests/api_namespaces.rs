//! JSON API: organizations, teams and members, and what they change at `/token`.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{access, basic, bearer, jwt_parts, token_request, TestIndex};
use serde_json::json;

fn post_json(uri: &str, body: serde_json::Value) -> TestRequest {
    TestRequest::post().uri(uri).set_json(body)
}

macro_rules! granted {
    ($app:expr, $scope:expr, $creds:expr) => {{
        let r = call!(
            $app,
            token_request(
                &format!("service=pier-registry&scope={}", $scope),
                Some($creds)
            )
        );
        assert_eq!(r.status, StatusCode::OK);
        access(&jwt_parts(r.json()["token"].as_str().unwrap()).1)
    }};
}

const ALICE: (&str, &str) = ("alice", "alice-pw");
const BOB: (&str, &str) = ("bob", "bob-pw");

#[actix_web::test]
async fn bob_pushes_to_alice_only_after_joining_a_write_team() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    assert!(granted!(app, "repository:alice/app:pull,push", BOB).is_empty());

    // alice works with a Bearer token from /token: either credential works on the API.
    let r = call!(app, token_request("service=pier-registry", Some(ALICE)));
    let alice_token = r.json()["token"].as_str().unwrap().to_string();
    let create = post_json(
        "/api/v1/namespaces/alice/teams",
        json!({"name": "dev", "role": "write"}),
    )
    .insert_header(bearer(&alice_token));
    let r = call!(app, create);
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"namespace": "alice", "name": "dev", "role": "write", "members": []})
    );

    // bob may not add himself.
    let sneak = TestRequest::put()
        .uri("/api/v1/namespaces/alice/teams/dev/members/bob")
        .insert_header(basic(BOB.0, BOB.1));
    let r = call!(app, sneak);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert!(granted!(app, "repository:alice/app:pull,push", BOB).is_empty());

    let add = TestRequest::put()
        .uri("/api/v1/namespaces/alice/teams/dev/members/bob")
        .insert_header(bearer(&alice_token));
    let r = call!(app, add);
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["members"], json!(["bob"]));
    assert_eq!(
        granted!(app, "repository:alice/app:pull,push,delete", BOB),
        ["repository:alice/app:pull,push"]
    );
    // bob now sees the team list; removing him takes the rights away again.
    let list = TestRequest::get()
        .uri("/api/v1/namespaces/alice/teams")
        .insert_header(basic(BOB.0, BOB.1));
    assert_eq!(call!(app, list).json()[0]["name"], "dev");
    let remove = TestRequest::delete()
        .uri("/api/v1/namespaces/alice/teams/dev/members/bob")
        .insert_header(basic(ALICE.0, ALICE.1));
    assert_eq!(call!(app, remove).status, StatusCode::OK);
    assert!(granted!(app, "repository:alice/app:push", BOB).is_empty());
}

#[actix_web::test]
async fn organizations_are_owned_by_their_creator() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    t.add_user("carol", "carol-pw").await;
    let app = app!(t);
    let r = call!(
        app,
        post_json("/api/v1/orgs", json!({"name": "acme"})).insert_header(basic(ALICE.0, ALICE.1))
    );
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json(), json!({"name": "acme", "owners": ["alice"]}));
    let r = call!(
        app,
        TestRequest::get()
            .uri("/api/v1/orgs")
            .insert_header(basic(BOB.0, BOB.1))
    );
    assert_eq!(r.json(), json!([{"name": "acme", "owners": ["alice"]}]));

    // Names are one namespace: taken by an org or a user, twice is a conflict.
    for name in ["acme", "bob"] {
        let r = call!(
            app,
            post_json("/api/v1/orgs", json!({"name": name})).insert_header(basic(BOB.0, BOB.1))
        );
        assert_eq!(r.status, StatusCode::CONFLICT, "{name}");
        assert_eq!(r.json()["type"], "urn:pier:problem:conflict");
    }
    let r = call!(
        app,
        post_json("/api/v1/orgs", json!({"name": "Bad/Name"})).insert_header(basic(BOB.0, BOB.1))
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Owner: everything; read team: pull; outsiders: nothing; site admin: everything.
    assert_eq!(
        granted!(app, "repository:acme/tool:*", ALICE),
        ["repository:acme/tool:pull,push,delete"]
    );
    let team = post_json(
        "/api/v1/namespaces/acme/teams",
        json!({"name": "readers", "role": "read"}),
    );
    let r = call!(app, team.insert_header(basic(BOB.0, BOB.1)));
    assert_eq!(r.status, StatusCode::FORBIDDEN, "bob does not manage acme");
    let team = post_json(
        "/api/v1/namespaces/acme/teams",
        json!({"name": "readers", "role": "read"}),
    );
    assert_eq!(
        call!(app, team.insert_header(basic(ALICE.0, ALICE.1))).status,
        StatusCode::CREATED
    );
    let add = TestRequest::put().uri("/api/v1/namespaces/acme/teams/readers/members/bob");
    assert_eq!(
        call!(app, add.insert_header(basic(ALICE.0, ALICE.1))).status,
        StatusCode::OK
    );
    assert_eq!(
        granted!(app, "repository:acme/tool:pull,push", BOB),
        ["repository:acme/tool:pull"]
    );
    assert!(granted!(app, "repository:acme/tool:pull,push", ("carol", "carol-pw")).is_empty());
    let admin = ("admin", common::ADMIN_PASSWORD);
    assert_eq!(
        granted!(app, "repository:acme/tool:delete", admin),
        ["repository:acme/tool:delete"]
    );
    // An admin team grants delete too.
    let team = post_json(
        "/api/v1/namespaces/acme/teams",
        json!({"name": "ops", "role": "admin"}),
    );
    assert_eq!(
        call!(app, team.insert_header(basic(ALICE.0, ALICE.1))).status,
        StatusCode::CREATED
    );
    let add = TestRequest::put().uri("/api/v1/namespaces/acme/teams/ops/members/carol");
    assert_eq!(
        call!(app, add.insert_header(basic(ALICE.0, ALICE.1))).status,
        StatusCode::OK
    );
    assert_eq!(
        granted!(
            app,
            "repository:acme/tool:pull,push,delete",
            ("carol", "carol-pw")
        ),
        ["repository:acme/tool:pull,push,delete"]
    );
}

#[actix_web::test]
async fn team_errors_are_problems() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let cases = [
        (
            post_json(
                "/api/v1/namespaces/alice/teams",
                json!({"name": "x", "role": "god"}),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            post_json(
                "/api/v1/namespaces/nope/teams",
                json!({"name": "x", "role": "read"}),
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            TestRequest::put().uri("/api/v1/namespaces/alice/teams/none/members/alice"),
            StatusCode::NOT_FOUND,
        ),
        (
            post_json("/api/v1/namespaces/alice/teams", json!({"nom": "x"})),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (req, status) in cases {
        let r = call!(app, req.insert_header(basic(ALICE.0, ALICE.1)));
        assert_eq!(r.status, status, "{}", r.text());
        assert_eq!(r.header("content-type"), "application/problem+json");
        let p = r.json();
        assert_eq!(p["status"], status.as_u16());
        assert!(p["type"].is_string() && p["title"].is_string() && p["detail"].is_string());
    }
    let team = post_json(
        "/api/v1/namespaces/alice/teams",
        json!({"name": "dev", "role": "read"}),
    );
    assert_eq!(
        call!(app, team.insert_header(basic(ALICE.0, ALICE.1))).status,
        StatusCode::CREATED
    );
    let add = TestRequest::put().uri("/api/v1/namespaces/alice/teams/dev/members/ghost");
    assert_eq!(
        call!(app, add.insert_header(basic(ALICE.0, ALICE.1))).status,
        StatusCode::NOT_FOUND
    );
}
