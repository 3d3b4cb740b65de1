//! `DELETE /v2/<name>/manifests/<reference>`: a tag, or a manifest with its tags.

use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn delete_by_tag_removes_only_the_tag() {
    let (_env, api) = start().await;
    let img = push_image(&api, "a", "v1", "x").await;
    push_manifest(&api, "a", "v2", OCI_MANIFEST, &img.bytes).await;
    let res = api.delete("/v2/a/manifests/v1").await;
    res.expect(202);
    assert_eq!(res.header(API_VERSION), Some("registry/2.0"));
    api.get("/v2/a/manifests/v1")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    api.delete("/v2/a/manifests/v1")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    let res = api.get(&format!("/v2/a/manifests/{}", img.digest)).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), img.bytes.as_slice());
    api.get("/v2/a/manifests/v2").await.expect(200);
    assert_eq!(
        api.get("/v2/a/tags/list").await.json()["tags"],
        json!(["v2"])
    );
}

#[actix_web::test]
async fn delete_by_digest_removes_the_manifest_and_its_tags() {
    let (_env, api) = start().await;
    let img = push_image(&api, "a", "v1", "x").await;
    push_manifest(&api, "a", "v2", OCI_MANIFEST, &img.bytes).await;
    let other = push_image(&api, "a", "other", "y").await;
    let uri = format!("/v2/a/manifests/{}", img.digest);
    api.delete(&uri).await.expect(202);
    api.get(&uri).await.expect_error(404, "MANIFEST_UNKNOWN");
    api.head(&uri).await.expect_error(404, "MANIFEST_UNKNOWN");
    for tag in ["v1", "v2"] {
        api.get(&format!("/v2/a/manifests/{tag}"))
            .await
            .expect_error(404, "MANIFEST_UNKNOWN");
    }
    api.delete(&uri).await.expect_error(404, "MANIFEST_UNKNOWN");
    assert_eq!(
        api.get("/v2/a/tags/list").await.json()["tags"],
        json!(["other"])
    );
    api.get(&format!("/v2/a/manifests/{}", other.digest))
        .await
        .expect(200);
    // The manifest can be pushed again afterwards.
    push_manifest(&api, "a", "v1", OCI_MANIFEST, &img.bytes).await;
    api.get(&uri).await.expect(200);
}

#[actix_web::test]
async fn repository_without_manifests_leaves_the_catalog() {
    let (_env, api) = start().await;
    let img = push_image(&api, "a", "v1", "x").await;
    push_image(&api, "b", "v1", "x").await;
    assert_eq!(
        api.get("/v2/_catalog").await.json()["repositories"],
        json!(["a", "b"])
    );
    api.delete(&format!("/v2/a/manifests/{}", img.digest))
        .await
        .expect(202);
    assert_eq!(
        api.get("/v2/_catalog").await.json()["repositories"],
        json!(["b"])
    );
    // Its blobs stay served, its (empty) tag list too.
    api.get("/v2/a/tags/list").await.expect(200);
}

#[actix_web::test]
async fn deleting_in_one_repository_leaves_the_other() {
    let (_env, api) = start().await;
    let img = push_image(&api, "a", "v1", "same").await;
    push_image(&api, "b", "v1", "same").await;
    api.delete(&format!("/v2/a/manifests/{}", img.digest))
        .await
        .expect(202);
    let res = api.get("/v2/b/manifests/v1").await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), img.bytes.as_slice());
}

#[actix_web::test]
async fn delete_with_an_invalid_reference_is_400() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "x").await;
    api.delete("/v2/a/manifests/-v1")
        .await
        .expect_error(400, "TAG_INVALID");
    api.delete("/v2/a/manifests/sha256:123")
        .await
        .expect_error(400, "DIGEST_INVALID");
    api.get("/v2/a/manifests/v1").await.expect(200);
}
