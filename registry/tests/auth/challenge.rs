//! Which access each request needs, and the 401 challenges when the token lacks it.

use crate::common::start;
use actix_web::http::Method;
use actix_web::test::TestRequest;

const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[actix_web::test]
async fn no_token_gets_a_challenge_with_the_scope_needed() {
    let env = start().await;
    let res = env.get("/v2/alice/app/manifests/latest", "").await;
    res.expect_challenge(r#",scope="repository:alice/app:pull""#);
    let body = res.json();
    assert_eq!(
        body["errors"][0]["detail"],
        serde_json::json!([{"Type": "repository", "Name": "alice/app", "Action": "pull"}])
    );
    env.send(Method::PUT, "/v2/a/manifests/1", "", b"{}")
        .await
        .expect_challenge(r#",scope="repository:a:pull,push""#);
    env.send(Method::DELETE, &format!("/v2/a/blobs/{D}"), "", b"")
        .await
        .expect_challenge(r#",scope="repository:a:delete""#);
    env.send(Method::HEAD, &format!("/v2/a/blobs/{D}"), "", b"")
        .await
        .expect_challenge(r#",scope="repository:a:pull""#);
    env.get("/v2/_catalog", "")
        .await
        .expect_challenge(r#",scope="registry:catalog:*""#);
    assert_eq!(env.index.state.calls(), 0, "no token, no introspection");
}

#[actix_web::test]
async fn base_without_token_is_challenged_without_scope_and_with_one_is_200() {
    let env = start().await;
    let res = env.get("/v2/", "").await;
    res.expect_challenge(r#"/token",service="pier-registry""#);
    assert!(res.json()["errors"][0].get("detail").is_none());
    env.get("/v2/", &env.token(&[])).await.expect(200);
}

#[actix_web::test]
async fn basic_credentials_get_a_bearer_challenge() {
    let env = start().await;
    let r = TestRequest::with_uri("/v2/a/tags/list")
        .insert_header(("Authorization", "Basic YWxpY2U6cGFzc3dvcmQ="));
    env.raw(r)
        .await
        .expect_challenge(r#",scope="repository:a:pull""#);
}

#[actix_web::test]
async fn pull_token_pulls_but_cannot_push_or_delete() {
    let env = start().await;
    let digest = env.push_image("alice/app", "1").await;
    let pull = env.token(&["repository:alice/app:pull"]);
    env.get("/v2/alice/app/manifests/1", &pull)
        .await
        .expect(200);
    env.send(
        Method::HEAD,
        &format!("/v2/alice/app/manifests/{digest}"),
        &pull,
        b"",
    )
    .await
    .expect(200);
    env.get("/v2/alice/app/tags/list", &pull).await.expect(200);
    let res = env
        .send(Method::POST, "/v2/alice/app/blobs/uploads/", &pull, b"")
        .await;
    res.expect_challenge(r#",scope="repository:alice/app:pull,push",error="insufficient_scope""#);
    assert_eq!(
        res.json()["errors"][0]["detail"],
        serde_json::json!([{"Type": "repository", "Name": "alice/app", "Action": "push"}]),
        "the detail lists only what is missing"
    );
    env.send(
        Method::DELETE,
        &format!("/v2/alice/app/manifests/{digest}"),
        &pull,
        b"",
    )
    .await
    .expect_challenge(r#",scope="repository:alice/app:delete",error="insufficient_scope""#);
    env.get("/v2/_catalog", &pull)
        .await
        .expect_challenge(r#",scope="registry:catalog:*",error="insufficient_scope""#);
}

#[actix_web::test]
async fn token_for_repo_a_is_refused_on_repo_b() {
    let env = start().await;
    env.push_image("b", "1").await;
    let a = env.token(&["repository:a:pull,push,delete"]);
    env.get("/v2/b/manifests/1", &a)
        .await
        .expect_challenge(r#",scope="repository:b:pull",error="insufficient_scope""#);
    env.send(Method::POST, "/v2/b/blobs/uploads/", &a, b"")
        .await
        .expect_challenge(r#",error="insufficient_scope""#);
    // A name that merely starts like the granted one is another repository.
    env.get("/v2/a/b/tags/list", &a)
        .await
        .expect_challenge(r#",error="insufficient_scope""#);
}

#[actix_web::test]
async fn push_and_delete_with_the_right_token() {
    let env = start().await;
    let digest = env.push_image("alice/app", "1").await;
    let del = env.token(&["repository:alice/app:delete"]);
    env.send(
        Method::DELETE,
        &format!("/v2/alice/app/manifests/{digest}"),
        &del,
        b"",
    )
    .await
    .expect(202);
    let pull = env.token(&["repository:alice/app:pull"]);
    env.get("/v2/alice/app/manifests/1", &pull)
        .await
        .expect(404);
}

#[actix_web::test]
async fn wildcard_action_grants_everything_on_that_resource() {
    let env = start().await;
    let all = env.token(&["repository:a:*"]);
    env.send(Method::POST, "/v2/a/blobs/uploads/", &all, b"")
        .await
        .expect(202);
}
