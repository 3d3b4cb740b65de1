//! Confirmation with the index: inactive tokens, scopes the index no longer grants, the
//! answer cache, deletes that always ask, and an index that is down or unreachable.

use crate::common::{start, start_with, Mode};
use actix_web::http::Method;

const URI: &str = "/v2/alice/app/tags/list";

#[actix_web::test]
async fn inactive_token_is_refused_although_the_jwt_is_valid() {
    let env = start().await;
    env.push_image("alice/app", "1").await;
    env.index.state.set(Mode::Inactive);
    let t = env.token(&["repository:alice/app:pull"]);
    env.get(URI, &t)
        .await
        .expect_challenge(r#",scope="repository:alice/app:pull",error="invalid_token""#);
    assert_eq!(
        env.index
            .state
            .asked
            .lock()
            .unwrap()
            .last()
            .map(String::as_str),
        Some("repository:alice/app:pull"),
        "the index is asked about the scope needed now"
    );
}

#[actix_web::test]
async fn scope_no_longer_granted_by_the_index_is_insufficient() {
    let env = start().await;
    env.push_image("alice/app", "1").await;
    // E.g. write access removed since the token was issued: pull still, push no more.
    env.index
        .state
        .set(Mode::Grant("repository:alice/app:pull".into()));
    let t = env.token(&["repository:alice/app:pull,push"]);
    env.get(URI, &t).await.expect(200);
    env.send(Method::POST, "/v2/alice/app/blobs/uploads/", &t, b"")
        .await
        .expect_challenge(r#",scope="repository:alice/app:pull,push",error="insufficient_scope""#);
}

#[actix_web::test]
async fn answers_are_cached_for_the_ttl_per_token_and_scope() {
    let env = start_with(|c| c.auth.confirm_ttl_seconds = 1).await;
    env.push_image("alice/app", "1").await;
    let t = env.token(&["repository:alice/app:pull,push"]);
    let before = env.index.state.calls();
    env.get(URI, &t).await.expect(200);
    assert_eq!(env.index.state.calls(), before + 1);
    env.get(URI, &t).await.expect(200);
    env.get("/v2/alice/app/manifests/1", &t).await.expect(200);
    assert_eq!(
        env.index.state.calls(),
        before + 1,
        "within the TTL: no round trip"
    );
    // Another scope is another question.
    env.send(Method::POST, "/v2/alice/app/blobs/uploads/", &t, b"")
        .await
        .expect(202);
    assert_eq!(env.index.state.calls(), before + 2);
    // A revocation is seen once the TTL has passed.
    env.index.state.set(Mode::Inactive);
    env.get(URI, &t).await.expect(200);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    env.get(URI, &t)
        .await
        .expect_challenge(r#",error="invalid_token""#);
    assert_eq!(env.index.state.calls(), before + 3);
}

#[actix_web::test]
async fn deletes_always_ask_the_index() {
    let env = start().await;
    let digest = env.push_image("alice/app", "1").await;
    let t = env.token(&["repository:alice/app:pull,delete"]);
    let before = env.index.state.calls();
    let uri = format!("/v2/alice/app/manifests/{digest}");
    env.send(Method::DELETE, &uri, &t, b"").await.expect(202);
    env.send(Method::DELETE, &uri, &t, b"").await.expect(404);
    assert_eq!(env.index.state.calls(), before + 2, "no cache for deletes");
    env.index.state.set(Mode::Inactive);
    env.send(Method::DELETE, "/v2/alice/app/manifests/1", &t, b"")
        .await
        .expect_challenge(r#",error="invalid_token""#);
}

#[actix_web::test]
async fn index_down_cached_reads_and_writes_go_on_others_get_503() {
    let env = start().await;
    let digest = env.push_image("alice/app", "1").await;
    let t = env.token(&["repository:alice/app:pull,push,delete"]);
    // Cache both the read and the write scope.
    env.get(URI, &t).await.expect(200);
    let loc = env
        .send(Method::POST, "/v2/alice/app/blobs/uploads/", &t, b"")
        .await;
    loc.expect(202);
    let location = loc.header("location").unwrap().to_string();
    env.index.state.set(Mode::Down);
    env.get(URI, &t).await.expect(200);
    let done = format!(
        "{location}?digest=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    env.send(Method::PUT, &done, &t, b"").await.expect(201);
    // Uncached: another token, the same repository.
    let other = env.token(&["repository:alice/app:pull"]);
    let res = env.get(URI, &other).await;
    res.expect(503);
    assert_eq!(res.json()["errors"][0]["code"], "UNAVAILABLE");
    let del = format!("/v2/alice/app/manifests/{digest}");
    env.send(Method::DELETE, &del, &t, b"").await.expect(503);
}

#[actix_web::test]
async fn index_unreachable_is_503_never_500() {
    let env = start().await;
    let t = env.token(&["repository:alice/app:pull,delete"]);
    env.get(URI, &t).await.expect(404); // keys fetched, answer cached
    env.index.stop().await;
    env.get(URI, &t).await.expect(404);
    let fresh = env.token(&["repository:alice/app:pull"]);
    let res = env.get(URI, &fresh).await;
    res.expect(503);
    assert_eq!(res.json()["errors"][0]["code"], "UNAVAILABLE");
    env.send(Method::DELETE, "/v2/alice/app/manifests/1", &t, b"")
        .await
        .expect(503);
}

#[actix_web::test]
async fn keys_unreachable_at_first_use_is_503() {
    let env = start().await;
    env.index.stop().await;
    let res = env
        .get(URI, &env.token(&["repository:alice/app:pull"]))
        .await;
    res.expect(503);
}

#[actix_web::test]
async fn wrong_introspection_secret_is_503_not_a_pass() {
    let env =
        start_with(|c| c.auth.introspection_secret = pier_registry::config::Secret::new("wrong"))
            .await;
    env.get(URI, &env.token(&["repository:alice/app:pull"]))
        .await
        .expect(503);
}
