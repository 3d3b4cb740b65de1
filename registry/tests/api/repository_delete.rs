//! `DELETE /pier/v1/repositories/<name>`: the whole repository's metadata goes in one
//! transaction; other repositories keep what they share with it.

use crate::common::*;

#[actix_web::test]
async fn deletes_manifests_tags_links_and_uploads() {
    let (_env, api) = start().await;
    let a = push_image(&api, "team/a", "v1", "x").await;
    push_image(&api, "b", "v1", "x").await; // the same blobs, in another repository
    let (_, _, layer) = image("x");
    let loc = start_upload(&api, "team/a").await;
    api.patch(&loc, b"partial".to_vec()).await.expect(202);
    assert_eq!(api.stored_uploads().await.len(), 1);

    api.delete("/pier/v1/repositories/team/a").await.expect(202);

    for uri in [
        "/v2/team/a/manifests/v1".to_string(),
        format!("/v2/team/a/manifests/{}", a.digest),
        format!("/v2/team/a/blobs/{}", sha256(&layer)),
        "/v2/team/a/tags/list".to_string(),
        loc.clone(),
    ] {
        api.get(&uri).await.expect_error(404, "NAME_UNKNOWN");
    }
    assert!(api.stored_uploads().await.is_empty());
    // Idempotent for the index: a second delete is 404 NAME_UNKNOWN.
    api.delete("/pier/v1/repositories/team/a")
        .await
        .expect_error(404, "NAME_UNKNOWN");
    // The other repository still serves the shared blobs.
    api.get("/v2/b/manifests/v1").await.expect(200);
    let res = api.get(&format!("/v2/b/blobs/{}", sha256(&layer))).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), layer.as_slice());
    // The name can be used again.
    push_image(&api, "team/a", "v2", "y").await;
    api.get("/v2/team/a/manifests/v2").await.expect(200);
}

#[actix_web::test]
async fn invalid_name_and_wrong_method() {
    let (_env, api) = start().await;
    api.delete("/pier/v1/repositories/UPPER")
        .await
        .expect_error(400, "NAME_INVALID");
    api.get("/pier/v1/repositories/a")
        .await
        .expect_error(404, "UNSUPPORTED");
}
