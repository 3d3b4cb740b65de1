//! Pull-through mirrors at the index: the registry's registration endpoints, what the
//! policy grants under a mirror's namespace and through the default mapping, what
//! `/introspect` reports as mirrored, and where mirrored repositories show.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{basic, introspect, token_request, TestIndex, ADMIN_PASSWORD, REGISTRY_SECRET};
use pier_index::db::{audit, mirrors, repositories};
use pier_index::services::policy::Subject;
use serde_json::{json, Value};

const HUB: &str = "https://registry-1.docker.io";
const ADMIN: Option<(&str, &str)> = Some(("admin", ADMIN_PASSWORD));

fn hub(public: bool) -> Value {
    json!({"default": "hub", "upstreams": [{"prefix": "hub", "url": HUB, "public": public}]})
}

fn put_mirrors(body: &Value) -> TestRequest {
    TestRequest::put()
        .uri("/pier/v1/mirrors")
        .insert_header(basic("registry", REGISTRY_SECRET))
        .set_json(body)
}

fn put_repository(name: &str) -> TestRequest {
    TestRequest::put()
        .uri(&format!("/pier/v1/mirrors/repositories/{name}"))
        .insert_header(basic("registry", REGISTRY_SECRET))
}

/// `register!(app, body)`: `PUT /pier/v1/mirrors`, expecting 204.
macro_rules! register {
    ($app:expr, $body:expr) => {{
        let r = call!($app, put_mirrors(&$body));
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }};
}

/// `granted!(app, query, creds)`: the `scope` a `/token` request was granted, and the token.
macro_rules! granted {
    ($app:expr, $scope:expr, $creds:expr) => {{
        let q = format!("service=pier-registry&scope={}", $scope);
        let r = call!($app, token_request(&q, $creds));
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        (
            v["scope"].as_str().unwrap().to_string(),
            v["token"].as_str().unwrap().to_string(),
        )
    }};
}

macro_rules! confirm {
    ($app:expr, $token:expr) => {{
        let r = call!($app, introspect(&$token));
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }};
}

async fn admin(t: &TestIndex) -> Subject {
    let u = t
        .index
        .db
        .run(|c| pier_index::db::users::find(c, "admin"))
        .await
        .unwrap()
        .unwrap();
    Subject {
        id: u.id,
        name: u.name,
        is_admin: true,
    }
}

async fn live(t: &TestIndex, name: &str) -> Option<repositories::Repository> {
    let name = name.to_string();
    t.index
        .db
        .run(move |c| repositories::find_live(c, &name))
        .await
        .unwrap()
}

async fn events(t: &TestIndex, action: &'static str) -> Vec<audit::Event> {
    t.index.audit.flush(&t.index.db).await;
    t.index
        .db
        .run(move |c| audit::recent(c, action, 100))
        .await
        .unwrap()
}

#[actix_web::test]
async fn registration_takes_the_registry_s_credentials() {
    let t = TestIndex::new();
    let app = app!(t);
    let body = hub(true);
    for auth in [
        None,
        Some(basic("registry", "wrong")),
        Some(basic("admin", ADMIN_PASSWORD)),
    ] {
        let mut req = TestRequest::put().uri("/pier/v1/mirrors").set_json(&body);
        if let Some(a) = auth {
            req = req.insert_header(a);
        }
        let r = call!(app, req);
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.header("content-type"), "application/problem+json");
        let r = call!(
            app,
            TestRequest::put().uri("/pier/v1/mirrors/repositories/hub/library/alpine")
        );
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let none = t.index.db.run(mirrors::list).await.unwrap();
    assert!(none.is_empty());

    let off = TestIndex::with(|c| c.registry.introspection_secret = Default::default());
    let app = app!(off);
    let r = call!(app, put_mirrors(&body));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn registration_is_idempotent_and_makes_an_organization_without_owner() {
    let t = TestIndex::new();
    let app = app!(t);
    register!(app, hub(true));
    register!(app, hub(true));
    let rows = t.index.db.run(mirrors::list).await.unwrap();
    assert_eq!(rows.len(), 1);
    let m = &rows[0];
    assert_eq!((m.prefix.as_str(), m.url.as_str()), ("hub", HUB));
    assert!(m.public && m.is_default);
    let r = call!(
        app,
        TestRequest::get()
            .uri("/api/v1/orgs")
            .insert_header(basic("admin", ADMIN_PASSWORD))
    );
    assert_eq!(r.json(), json!([{"name": "hub", "owners": []}]));
    assert_eq!(events(&t, "org.create").await.len(), 1);
    assert_eq!(events(&t, "mirrors.register").await.len(), 1);

    // A different set replaces the old one; the organization stays.
    let two = json!({"default": "", "upstreams": [
        {"prefix": "quay", "url": "https://quay.io", "public": false}]});
    register!(app, two);
    let rows = t.index.db.run(mirrors::list).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].prefix, "quay");
    assert!(!rows[0].public && !rows[0].is_default);
    assert_eq!(events(&t, "org.create").await.len(), 2);
    assert_eq!(events(&t, "mirrors.register").await.len(), 2);
}

#[actix_web::test]
async fn a_user_s_namespace_cannot_be_a_mirror_and_bad_sets_are_refused() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let body = json!({"default": "hub", "upstreams": [
        {"prefix": "hub", "url": HUB, "public": true},
        {"prefix": "alice", "url": "https://quay.io", "public": true}]});
    let r = call!(app, put_mirrors(&body));
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["type"], "urn:pier:problem:conflict");
    // One transaction: neither the mirrors nor hub's organization were written.
    assert!(t.index.db.run(mirrors::list).await.unwrap().is_empty());
    let hub_ns = t
        .index
        .db
        .run(|c| pier_index::db::namespaces::find(c, "hub"))
        .await
        .unwrap();
    assert!(hub_ns.is_none());

    for bad in [
        json!({"default": "nope", "upstreams": [{"prefix": "hub", "url": HUB}]}),
        json!({"upstreams": [{"prefix": "Hub", "url": HUB}]}),
        json!({"upstreams": [{"prefix": "hub", "url": "registry-1.docker.io"}]}),
        json!({"upstreams": [{"prefix": "hub", "url": HUB}, {"prefix": "hub", "url": HUB}]}),
        json!({"default": "hub"}),
    ] {
        let r = call!(app, put_mirrors(&bad));
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.header("content-type"), "application/problem+json");
    }
}

#[actix_web::test]
async fn anyone_may_pull_under_a_public_mirror_even_before_it_is_cached() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    register!(app, hub(true));
    let (scope, token) = granted!(app, "repository:hub/library/x:pull", None);
    assert_eq!(scope, "repository:hub/library/x:pull");
    let answer = confirm!(app, token);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "repository:hub/library/x:pull");
    assert!(answer.get("pier_mirrored").is_none(), "{answer}");
    let alice = Some(("alice", "alice-pw"));
    let (scope, _) = granted!(app, "repository:hub/library/x:pull,push", alice);
    assert_eq!(scope, "repository:hub/library/x:pull");

    // Private: the namespace's rules only.
    register!(app, hub(false));
    let (scope, _) = granted!(app, "repository:hub/library/x:pull", None);
    assert_eq!(scope, "");
    assert_eq!(confirm!(app, token)["scope"], "");
    let (scope, _) = granted!(app, "repository:hub/library/x:pull", ADMIN);
    assert_eq!(scope, "repository:hub/library/x:pull");
}

#[actix_web::test]
async fn push_is_never_granted_under_a_mirror_and_delete_follows_the_usual_rules() {
    let t = TestIndex::new();
    let bob = t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    register!(app, hub(false));
    let (scope, _) = granted!(app, "repository:hub/library/x:pull,push,delete", ADMIN);
    assert_eq!(scope, "repository:hub/library/x:pull,delete");
    let (scope, _) = granted!(app, "repository:hub/library/x:*", ADMIN);
    assert_eq!(scope, "repository:hub/library/x:pull,delete");
    assert!(
        live(&t, "hub/library/x").await.is_none(),
        "nothing allocated"
    );

    // A team with write in the mirror's organization still pulls only.
    let admin = admin(&t).await;
    use pier_index::services::namespaces;
    namespaces::create_team(&t.index, &admin, "hub", "cache", "write")
        .await
        .unwrap();
    namespaces::set_member(&t.index, &admin, "hub", "cache", "bob", true)
        .await
        .unwrap();
    let (scope, _) = granted!(
        app,
        "repository:hub/library/x:pull,push",
        Some(("bob", "bob-pw"))
    );
    assert_eq!(scope, "repository:hub/library/x:pull");
    namespaces::create_team(&t.index, &admin, "hub", "keepers", "admin")
        .await
        .unwrap();
    namespaces::set_member(&t.index, &admin, "hub", "keepers", &bob.name, true)
        .await
        .unwrap();
    let (scope, _) = granted!(app, "repository:hub/library/x:*", Some(("bob", "bob-pw")));
    assert_eq!(scope, "repository:hub/library/x:pull,delete");
}

#[actix_web::test]
async fn a_name_no_namespace_owns_is_decided_through_the_default_mirror() {
    let t = TestIndex::new();
    let app = app!(t);
    // Without a default mirror, library/alpine is nobody's: nothing for anonymous.
    let (scope, _) = granted!(app, "repository:library/alpine:pull", None);
    assert_eq!(scope, "");
    register!(app, hub(true));

    let (scope, token) = granted!(app, "repository:library/alpine:pull", None);
    assert_eq!(scope, "repository:library/alpine:pull");
    let answer = confirm!(app, token);
    assert_eq!(answer["scope"], "repository:library/alpine:pull");
    assert_eq!(answer["pier_mirrored"], json!(["library/alpine"]));
    // Restricted to what the registry asks about: it says which of those are mirrored.
    let form = [
        ("token", token.as_str()),
        (
            "scope",
            "repository:library/alpine:pull repository:admin/app:pull",
        ),
    ];
    let r = call!(
        app,
        TestRequest::post()
            .uri("/introspect")
            .insert_header(basic("registry", REGISTRY_SECRET))
            .insert_header(common::web::FORM)
            .set_payload(serde_urlencoded::to_string(form).unwrap())
    );
    assert_eq!(r.json()["pier_mirrored"], json!(["library/alpine"]));

    // A site admin may still create the namespace by pushing (its own rules); a pull-only
    // token of theirs stays default-mapped meanwhile.
    let (scope, admin_token) = granted!(app, "repository:library/alpine:pull", ADMIN);
    assert_eq!(scope, "repository:library/alpine:pull");
    assert!(live(&t, "library/alpine").await.is_none());
    let (scope, _) = granted!(app, "repository:newns/app:pull,push", ADMIN);
    assert_eq!(scope, "repository:newns/app:pull,push");
    assert!(
        live(&t, "newns/app").await.is_some(),
        "the admin's push allocates it"
    );
    let (scope, _) = granted!(app, "repository:other/app:pull,push", None);
    assert_eq!(
        scope, "repository:other/app:pull",
        "anonymous: the mirror's pull only"
    );

    // Once `library` is an organization, the name is local again.
    let admin = admin(&t).await;
    pier_index::services::namespaces::create_org(&t.index, &admin, "library")
        .await
        .unwrap();
    let (scope, _) = granted!(app, "repository:library/alpine:pull", None);
    assert_eq!(scope, "");
    let answer = confirm!(app, token);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "");
    assert!(answer.get("pier_mirrored").is_none(), "{answer}");
    let answer = confirm!(app, admin_token);
    assert_eq!(answer["scope"], "repository:library/alpine:pull");
    assert!(answer.get("pier_mirrored").is_none(), "{answer}");
}

#[actix_web::test]
async fn a_user_s_namespace_is_never_default_mapped() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    register!(app, hub(true));
    let (scope, token) = granted!(app, "repository:alice/app:pull", None);
    assert_eq!(scope, "");
    assert!(confirm!(app, token).get("pier_mirrored").is_none());
    let alice = Some(("alice", "alice-pw"));
    let (scope, _) = granted!(app, "repository:alice/app:pull,push", alice);
    assert_eq!(scope, "repository:alice/app:pull,push");
}

#[actix_web::test]
async fn a_cached_repository_is_registered_once_and_shows_in_listings_and_search() {
    let t = TestIndex::new();
    let app = app!(t);
    let r = call!(app, put_repository("hub/library/alpine"));
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no mirror yet");
    assert_eq!(r.header("content-type"), "application/problem+json");
    register!(app, hub(true));
    for _ in 0..2 {
        let r = call!(app, put_repository("hub/library/alpine"));
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }
    let repo = live(&t, "hub/library/alpine").await.unwrap();
    assert_eq!(repo.visibility, "public");
    assert_eq!(events(&t, "repository.register").await.len(), 1);
    for (name, status) in [
        ("library/alpine", StatusCode::NOT_FOUND),
        ("hubx/alpine", StatusCode::NOT_FOUND),
        ("hub", StatusCode::NOT_FOUND),
        ("hub/Alpine", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(call!(app, put_repository(name)).status, status, "{name}");
    }

    let r = call!(app, TestRequest::get().uri("/api/v1/repositories"));
    let names: Vec<Value> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("hub/library/alpine")]);
    let r = call!(app, TestRequest::get().uri("/v1/search?q=alpine"));
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["results"][0]["name"], "hub/library/alpine");
    let r = call!(
        app,
        TestRequest::get().uri("/api/v1/repositories/hub/library/alpine")
    );
    assert_eq!(r.status, StatusCode::OK);

    // A private mirror's repositories are private: not listed for anonymous callers.
    register!(app, hub(false));
    call!(app, put_repository("hub/library/busybox"));
    assert_eq!(
        live(&t, "hub/library/busybox").await.unwrap().visibility,
        "private"
    );
    let r = call!(
        app,
        TestRequest::get().uri("/api/v1/repositories?q=busybox")
    );
    assert_eq!(r.json(), json!([]));
    let r = call!(
        app,
        TestRequest::get()
            .uri("/api/v1/repositories?q=busybox")
            .insert_header(basic("admin", ADMIN_PASSWORD))
    );
    assert_eq!(r.json()[0]["name"], "hub/library/busybox");
}

#[actix_web::test]
async fn listings_follow_a_public_mirror_even_for_a_repository_made_private() {
    let t = TestIndex::new();
    let app = app!(t);
    register!(app, hub(true));
    call!(app, put_repository("hub/library/alpine"));
    pier_index::services::repositories::set_visibility(
        &t.index,
        None,
        "hub/library/alpine",
        "private",
    )
    .await
    .unwrap();
    // Pull stays granted to anyone (the mirror is public), so the listing keeps it.
    let (scope, _) = granted!(app, "repository:hub/library/alpine:pull", None);
    assert_eq!(scope, "repository:hub/library/alpine:pull");
    let r = call!(app, TestRequest::get().uri("/api/v1/repositories"));
    assert_eq!(r.json()[0]["name"], "hub/library/alpine");
}

#[actix_web::test]
async fn a_name_too_long_to_live_under_the_default_mirror_gets_nothing() {
    let t = TestIndex::new();
    let app = app!(t);
    register!(app, hub(true));
    // Valid alone, one character too long once `hub/` is put in front.
    let name = format!(
        "library/{}",
        "a".repeat(pier_shared::name::MAX_NAME_LEN - 11)
    );
    assert_eq!(name.len() + 4, pier_shared::name::MAX_NAME_LEN + 1);
    let (scope, token) = granted!(app, format!("repository:{name}:pull"), None);
    assert_eq!(scope, "");
    assert!(confirm!(app, token).get("pier_mirrored").is_none());
}
