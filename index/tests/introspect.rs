//! `POST /introspect`: the registry's confirmation that a token still stands, and which of
//! its access its subject still holds now.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{basic, token_request, TestIndex, REGISTRY_SECRET};
use pier_index::services::{repositories, sessions, users};
use serde_json::{json, Value};

fn introspect(token: &str, scope: Option<&str>, secret: &str) -> TestRequest {
    let mut form = vec![("token", token)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    TestRequest::post()
        .uri("/introspect")
        .insert_header(basic("registry", secret))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(&form).unwrap())
}

macro_rules! token {
    ($app:expr, $query:expr, $creds:expr) => {{
        let r = call!($app, token_request($query, $creds));
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }};
}

macro_rules! confirm {
    ($app:expr, $token:expr, $scope:expr) => {{
        let r = call!($app, introspect($token, $scope, REGISTRY_SECRET));
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.header("cache-control"), "no-store");
        r.json()
    }};
}

fn tok(v: &Value) -> &str {
    v["token"].as_str().unwrap()
}

const ALICE: Option<(&str, &str)> = Some(("alice", "alice-pw"));

#[actix_web::test]
async fn an_active_token_reports_its_current_scope() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let issued = token!(
        app,
        "service=pier-registry&scope=repository:alice/app:pull,push",
        ALICE
    );
    let (_, claims) = common::jwt_parts(tok(&issued));
    let answer = confirm!(app, tok(&issued), None);
    assert_eq!(
        answer,
        json!({"active": true, "sub": "alice", "exp": claims["exp"], "jti": claims["jti"],
               "scope": "repository:alice/app:pull,push"})
    );
    // Restricted to what the registry needs now.
    let answer = confirm!(
        app,
        tok(&issued),
        Some("repository:alice/app:pull repository:alice/x:pull")
    );
    assert_eq!(answer["scope"], "repository:alice/app:pull");
    // Confirmations are audited (in batches: flush to see them).
    t.index.audit.flush(&t.index.db).await;
    let events = t
        .index
        .db
        .run(|c| pier_index::db::audit::recent(c, "token.confirm", 10))
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].actor, "alice");
    assert!(!events[0]
        .detail
        .clone()
        .unwrap_or_default()
        .contains(tok(&issued)));
}

#[actix_web::test]
async fn revoking_the_refresh_token_deactivates_its_access_tokens() {
    let t = TestIndex::new();
    let alice = t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let q =
        "service=pier-registry&offline_token=true&client_id=docker&scope=repository:alice/app:pull";
    let issued = token!(app, q, ALICE);
    let other = token!(
        app,
        "service=pier-registry&scope=repository:alice/app:pull",
        ALICE
    );
    assert_eq!(confirm!(app, tok(&issued), None)["active"], true);
    let id = sessions::list(&t.index, &alice).await.unwrap()[0]
        .id
        .clone();
    sessions::revoke(&t.index, &alice, &id).await.unwrap();
    assert_eq!(confirm!(app, tok(&issued), None), json!({"active": false}));
    // A token issued by password, outside that session, still stands.
    assert_eq!(confirm!(app, tok(&other), None)["active"], true);
}

#[actix_web::test]
async fn disabling_the_user_deactivates_their_tokens() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let issued = token!(
        app,
        "service=pier-registry&scope=repository:alice/app:pull",
        ALICE
    );
    users::set_disabled(&t.index, "admin", "alice", true)
        .await
        .unwrap();
    assert_eq!(confirm!(app, tok(&issued), None), json!({"active": false}));
    users::set_disabled(&t.index, "admin", "alice", false)
        .await
        .unwrap();
    assert_eq!(confirm!(app, tok(&issued), None)["active"], true);
}

#[actix_web::test]
async fn a_deleted_repository_drops_out_of_the_scope_even_if_allocated_again() {
    let t = TestIndex::new();
    let alice = t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let q = "service=pier-registry&scope=repository:alice/app:pull,push&scope=repository:alice/keep:push";
    let issued = token!(app, q, ALICE);
    assert_eq!(
        confirm!(app, tok(&issued), None)["scope"],
        "repository:alice/app:pull,push repository:alice/keep:push"
    );
    repositories::delete(&t.index, Some(&alice), "alice/app")
        .await
        .unwrap();
    let answer = confirm!(app, tok(&issued), None);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "repository:alice/keep:push");
    // While the registry has not deleted it yet, nobody gets push on the name.
    let blocked = token!(
        app,
        "service=pier-registry&scope=repository:alice/app:push",
        ALICE
    );
    assert_eq!(confirm!(app, tok(&blocked), None)["scope"], "");
    // The deletion job is done (the worker's last step, without a registry here).
    t.index
        .db
        .run(|c| {
            for job in pier_index::db::deletions::all(c)? {
                pier_index::db::deletions::done(c, &job.id)?;
            }
            Ok::<_, pier_index::db::DbError>(())
        })
        .await
        .unwrap();
    // Pushing again allocates a new repository; the old token does not reach it.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let fresh = token!(
        app,
        "service=pier-registry&scope=repository:alice/app:push",
        ALICE
    );
    assert_eq!(
        confirm!(app, tok(&issued), None)["scope"],
        "repository:alice/keep:push"
    );
    assert_eq!(
        confirm!(app, tok(&fresh), None)["scope"],
        "repository:alice/app:push"
    );
}

#[actix_web::test]
async fn a_token_asked_before_the_repository_existed_reaches_it_once_created() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    // Pull on a name nobody has pushed to yet (a mount source, say): granted, as the
    // namespace is alice's.
    let early = token!(
        app,
        "service=pier-registry&scope=repository:alice/src:pull",
        ALICE
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // Another client's push creates the repository a second later.
    token!(
        app,
        "service=pier-registry&scope=repository:alice/src:pull,push",
        ALICE
    );
    assert_eq!(
        confirm!(app, tok(&early), None)["scope"],
        "repository:alice/src:pull"
    );
}

#[actix_web::test]
async fn rights_lost_since_issue_are_dropped() {
    let t = TestIndex::new();
    let alice = t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    let ns =
        pier_index::services::namespaces::create_team(&t.index, &alice, "alice", "dev", "write");
    ns.await.unwrap();
    pier_index::services::namespaces::set_member(&t.index, &alice, "alice", "dev", "bob", true)
        .await
        .unwrap();
    let bob = Some(("bob", "bob-pw"));
    let issued = token!(
        app,
        "service=pier-registry&scope=repository:alice/app:pull,push",
        bob
    );
    assert_eq!(
        confirm!(app, tok(&issued), None)["scope"],
        "repository:alice/app:pull,push"
    );
    pier_index::services::namespaces::set_member(&t.index, &alice, "alice", "dev", "bob", false)
        .await
        .unwrap();
    assert_eq!(confirm!(app, tok(&issued), None)["scope"], "");
}

#[actix_web::test]
async fn catalog_tokens_carry_the_pullable_repositories() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    token!(
        app,
        "service=pier-registry&scope=repository:alice/a:push&scope=repository:alice/b:push",
        ALICE
    );
    token!(
        app,
        "service=pier-registry&scope=repository:bob/c:push",
        Some(("bob", "bob-pw"))
    );
    repositories::set_visibility(&t.index, None, "bob/c", "public")
        .await
        .unwrap();
    let issued = token!(app, "service=pier-registry&scope=registry:catalog:*", ALICE);
    let answer = confirm!(app, tok(&issued), None);
    assert_eq!(answer["scope"], "registry:catalog:*");
    assert_eq!(answer["pullable"], json!(["alice/a", "alice/b", "bob/c"]));
}

#[actix_web::test]
async fn the_registry_must_authenticate() {
    let t = TestIndex::new();
    let app = app!(t);
    let issued = token!(app, "service=pier-registry", None);
    let r = call!(app, introspect(tok(&issued), None, "wrong-secret"));
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("content-type"), "application/problem+json");
    let r = call!(
        app,
        TestRequest::post()
            .uri("/introspect")
            .set_payload("token=x")
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let as_admin = TestRequest::post()
        .uri("/introspect")
        .insert_header(basic("admin", REGISTRY_SECRET))
        .set_payload("token=x");
    assert_eq!(call!(app, as_admin).status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn garbage_tokens_are_inactive() {
    let t = TestIndex::new();
    let app = app!(t);
    let issued = token!(app, "service=pier-registry", None);
    let truncated = &tok(&issued)[..tok(&issued).len() - 5];
    for garbage in ["", "garbage", "a.b.c", truncated] {
        assert_eq!(
            confirm!(app, garbage, None),
            json!({"active": false}),
            "{garbage:?}"
        );
    }
    let r = call!(app, introspect("x", Some("not a scope"), REGISTRY_SECRET));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn introspection_is_off_without_a_secret() {
    let t = TestIndex::with(|c| c.registry.introspection_secret = Default::default());
    let app = app!(t);
    let r = call!(app, introspect("x", None, ""));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_deletion_token_is_active_for_its_pending_job_only() {
    use pier_index::services::deletions;
    let t = TestIndex::new();
    let alice = t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    token!(
        app,
        "service=pier-registry&scope=repository:alice/app:push",
        ALICE
    );
    repositories::delete(&t.index, Some(&alice), "alice/app")
        .await
        .unwrap();
    let job = t
        .index
        .db
        .run(pier_index::db::deletions::all)
        .await
        .unwrap()
        .pop()
        .expect("a pending job");
    assert_eq!(job.name, "alice/app");
    let token = deletions::mint(&t.index, &job).unwrap();
    let answer = confirm!(app, &token, Some("repository:alice/app:delete"));
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "repository:alice/app:delete");
    // It grants nothing else, even on the same repository.
    let answer = confirm!(app, &token, Some("repository:alice/app:pull"));
    assert_eq!(answer["scope"], "");
    // Once the job is done the token is dead.
    let id = job.id.clone();
    t.index
        .db
        .run(move |c| pier_index::db::deletions::done(c, &id))
        .await
        .unwrap();
    assert_eq!(confirm!(app, &token, None)["active"], false);
}
