//! Cross-repository mount: `POST /v2/<name>/blobs/uploads/?mount=<digest>[&from=<repo>]`.

use crate::common::*;

#[track_caller]
fn assert_mounted(res: &Res, repo: &str, digest: &str) {
    res.expect(201);
    assert_eq!(res.location(), format!("/v2/{repo}/blobs/{digest}"));
    assert_eq!(res.header(DIGEST), Some(digest));
}

/// A 202 that opened an upload session in `repo` instead of mounting.
#[track_caller]
fn assert_session(res: &Res, repo: &str) -> String {
    res.expect(202);
    let loc = res.location();
    assert!(
        loc.starts_with(&format!("/v2/{repo}/blobs/uploads/")),
        "{loc}"
    );
    assert_eq!(res.header("range"), Some("0-0"));
    assert_eq!(res.header(DIGEST), None);
    loc
}

#[actix_web::test]
async fn mount_from_a_repository_holding_the_blob() {
    let (_env, api) = start().await;
    let data = b"layer to share";
    let d = push_blob(&api, "a", data).await;
    let res = api
        .post(&format!("/v2/b/blobs/uploads/?mount={d}&from=a"), "")
        .await;
    assert_mounted(&res, "b", &d);
    let res = api.get(&format!("/v2/b/blobs/{d}")).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), data);
    // Mounting what the repository already has is fine too.
    let res = api
        .post(&format!("/v2/b/blobs/uploads/?mount={d}&from=a"), "")
        .await;
    assert_mounted(&res, "b", &d);
}

#[actix_web::test]
async fn mount_from_a_repository_without_the_blob_opens_a_session() {
    let (_env, api) = start().await;
    let data = b"layer only in a";
    let d = push_blob(&api, "a", data).await;
    push_blob(&api, "c", b"something else").await;
    for from in ["c", "nope", "NOT-VALID", ""] {
        let res = api
            .post(&format!("/v2/b/blobs/uploads/?mount={d}&from={from}"), "")
            .await;
        assert_session(&res, "b");
        api.head(&format!("/v2/b/blobs/{d}"))
            .await
            .expect_error(404, "BLOB_UNKNOWN");
    }
    // The session it opened is a normal one.
    let res = api
        .post(&format!("/v2/b/blobs/uploads/?mount={d}&from=c"), "")
        .await;
    let loc = assert_session(&res, "b");
    api.put(&format!("{loc}?digest={d}"), &data[..])
        .await
        .expect(201);
    api.get(&format!("/v2/b/blobs/{d}")).await.expect(200);
}

#[actix_web::test]
async fn mount_of_a_blob_unlinked_from_the_source_opens_a_session() {
    let (_env, api) = start().await;
    let d = push_blob(&api, "a", b"soon unlinked").await;
    api.delete(&format!("/v2/a/blobs/{d}")).await.expect(202);
    let res = api
        .post(&format!("/v2/b/blobs/uploads/?mount={d}&from=a"), "")
        .await;
    assert_session(&res, "b");
}

#[actix_web::test]
async fn automatic_mount_without_from() {
    let (_env, api) = start().await;
    let d = push_blob(&api, "a", b"known to the registry").await;
    let res = api
        .post(&format!("/v2/b/blobs/uploads/?mount={d}"), "")
        .await;
    assert_mounted(&res, "b", &d);
    api.get(&format!("/v2/b/blobs/{d}")).await.expect(200);
    // A blob the registry does not have at all: a session instead.
    let unknown = sha256(b"never pushed");
    let res = api
        .post(&format!("/v2/b/blobs/uploads/?mount={unknown}"), "")
        .await;
    assert_session(&res, "b");
}

#[actix_web::test]
async fn automatic_mount_can_be_switched_off() {
    let env = Env::new();
    let mut config = env.config();
    config.uploads.automatic_mount = false;
    let api = env.api_with(config).await;
    let d = push_blob(&api, "a", b"known to the registry").await;
    let res = api
        .post(&format!("/v2/b/blobs/uploads/?mount={d}"), "")
        .await;
    assert_session(&res, "b");
    api.head(&format!("/v2/b/blobs/{d}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    // An explicit `from` still mounts.
    let res = api
        .post(&format!("/v2/b/blobs/uploads/?mount={d}&from=a"), "")
        .await;
    assert_mounted(&res, "b", &d);
}

#[actix_web::test]
async fn mount_with_an_invalid_digest_is_400() {
    let (_env, api) = start().await;
    push_blob(&api, "a", b"x").await;
    for m in ["sha256:abc", "", "x"] {
        let res = api
            .post(&format!("/v2/b/blobs/uploads/?mount={m}&from=a"), "")
            .await;
        res.expect_error(400, "DIGEST_INVALID");
    }
}
