//! Cross-repo mounts need pull on `from` (else a plain upload, never a leaked blob), and
//! `_catalog` lists only what the caller may pull.

use crate::common::{start, Mode};
use actix_web::http::Method;

#[actix_web::test]
async fn mount_without_pull_on_from_is_a_plain_upload() {
    let env = start().await;
    let blob = env.push_blob("b", b"secret layer of b").await;
    let uri = format!("/v2/a/blobs/uploads/?mount={blob}&from=b");
    // The challenge names both scopes, in one parameter.
    env.send(Method::POST, &uri, "", b"")
        .await
        .expect_challenge(r#",scope="repository:a:pull,push repository:b:pull""#);
    let a_only = env.token(&["repository:a:pull,push"]);
    let res = env.send(Method::POST, &uri, &a_only, b"").await;
    res.expect(202);
    assert!(res
        .header("location")
        .unwrap()
        .starts_with("/v2/a/blobs/uploads/"));
    assert_eq!(
        env.index
            .state
            .asked
            .lock()
            .unwrap()
            .last()
            .map(String::as_str),
        Some("repository:a:pull,push"),
        "pull on b is not even asked for"
    );
    env.get(&format!("/v2/a/blobs/{blob}"), &a_only)
        .await
        .expect(404);
    // The token claims pull on b, but the index no longer grants it.
    let both = env.token(&["repository:a:pull,push", "repository:b:pull"]);
    env.index
        .state
        .set(Mode::Grant("repository:a:pull,push".into()));
    env.send(Method::POST, &uri, &both, b"").await.expect(202);
    env.get(&format!("/v2/a/blobs/{blob}"), &both)
        .await
        .expect(404);
}

#[actix_web::test]
async fn mount_with_pull_on_from_mounts() {
    let env = start().await;
    let blob = env.push_blob("b", b"shared layer").await;
    let both = env.token(&["repository:a:pull,push", "repository:b:pull"]);
    let uri = format!("/v2/a/blobs/uploads/?mount={blob}&from=b");
    env.send(Method::POST, &uri, &both, b"").await.expect(201);
    assert_eq!(
        env.index
            .state
            .asked
            .lock()
            .unwrap()
            .last()
            .map(String::as_str),
        Some("repository:a:pull,push repository:b:pull")
    );
    env.get(&format!("/v2/a/blobs/{blob}"), &both)
        .await
        .expect(200);
}

#[actix_web::test]
async fn automatic_mount_is_off_in_token_mode() {
    let env = start().await;
    let blob = env.push_blob("b", b"someone else's layer").await;
    let a = env.token(&["repository:a:pull,push"]);
    let uri = format!("/v2/a/blobs/uploads/?mount={blob}");
    env.send(Method::POST, &uri, &a, b"").await.expect(202);
    env.get(&format!("/v2/a/blobs/{blob}"), &a)
        .await
        .expect(404);
}

#[actix_web::test]
async fn catalog_is_filtered_to_what_the_caller_may_pull() {
    let env = start().await;
    for repo in ["a", "b", "c/d", "f"] {
        env.push_image(repo, "1").await;
    }
    env.push_blob("e", b"no manifest here").await;
    *env.index.state.pullable.lock().unwrap() = vec![
        "f".into(),
        "a".into(),
        "c/d".into(),
        "e".into(),
        "zzz".into(),
    ];
    let t = env.token(&["registry:catalog:*"]);
    let res = env.get("/v2/_catalog", &t).await;
    res.expect(200);
    assert_eq!(
        res.json()["repositories"],
        serde_json::json!(["a", "c/d", "f"])
    );
    let res = env.get("/v2/_catalog?n=2", &t).await;
    assert_eq!(res.json()["repositories"], serde_json::json!(["a", "c/d"]));
    assert_eq!(
        res.header("link"),
        Some("</v2/_catalog?n=2&last=c%2Fd>; rel=\"next\"")
    );
    let res = env.get("/v2/_catalog?n=2&last=c%2Fd", &t).await;
    assert_eq!(res.json()["repositories"], serde_json::json!(["f"]));
    assert_eq!(res.header("link"), None);
    let res = env.get("/v2/_catalog?n=0", &t).await;
    assert_eq!(res.json()["repositories"], serde_json::json!([]));
    // An index that grants the catalog but lists nothing: nothing is listed.
    *env.index.state.pullable.lock().unwrap() = Vec::new();
    let t = env.token(&["registry:catalog:*"]);
    let res = env.get("/v2/_catalog", &t).await;
    assert_eq!(res.json()["repositories"], serde_json::json!([]));
}
