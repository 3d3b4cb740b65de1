//! Upload sessions: `POST /v2/<name>/blobs/uploads/`, monolithic `PUT …?digest=`,
//! single-request `POST ?digest=`, cancel, and unknown sessions.

use crate::common::*;
use actix_web::http::Method;

#[actix_web::test]
async fn post_then_put_creates_the_blob() {
    let (_env, api) = start().await;
    let res = api.post("/v2/a/blobs/uploads/", "").await;
    res.expect(202);
    let loc = res.location();
    let id = loc
        .strip_prefix("/v2/a/blobs/uploads/")
        .expect("upload location");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{loc}");
    assert_eq!(res.header(UPLOAD_UUID), Some(id));
    assert_eq!(res.header("range"), Some("0-0"));

    let data = b"hello, monolithic upload";
    let d = sha256(data);
    let res = api.put(&format!("{loc}?digest={d}"), &data[..]).await;
    res.expect(201);
    assert_eq!(res.location(), format!("/v2/a/blobs/{d}"));
    assert_eq!(res.header(DIGEST), Some(d.as_str()));

    let res = api.get(&format!("/v2/a/blobs/{d}")).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), data);
    // The session is over.
    api.get(&loc).await.expect_error(404, "BLOB_UPLOAD_UNKNOWN");
}

#[actix_web::test]
async fn post_without_trailing_slash_opens_a_session() {
    let (_env, api) = start().await;
    let res = api.post("/v2/a/blobs/uploads", "").await;
    res.expect(202);
    assert!(res.location().starts_with("/v2/a/blobs/uploads/"));
}

#[actix_web::test]
async fn single_post_with_digest_creates_the_blob() {
    let (_env, api) = start().await;
    let data = bytes(5000, 4);
    let d = sha256(&data);
    let res = api
        .post(
            &format!("/v2/lib/x/blobs/uploads/?digest={d}"),
            data.clone(),
        )
        .await;
    res.expect(201);
    assert_eq!(res.location(), format!("/v2/lib/x/blobs/{d}"));
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
    let res = api.get(&format!("/v2/lib/x/blobs/{d}")).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), data.as_slice());
}

#[actix_web::test]
async fn streamed_body_without_content_length_is_accepted() {
    let (_env, api) = start().await;
    let data = bytes(300 * 1024, 8);
    let d = sha256(&data);
    let r =
        req(Method::POST, &format!("/v2/a/blobs/uploads/?digest={d}")).set_payload(data.clone());
    api.send_chunked(r).await.expect(201);
    let res = api.get(&format!("/v2/a/blobs/{d}")).await;
    assert_eq!(res.body.as_ref(), data.as_slice());
}

#[actix_web::test]
async fn put_with_wrong_digest_is_400_and_nothing_is_visible() {
    let (_env, api) = start().await;
    let loc = start_upload(&api, "a").await;
    let data = b"the real bytes";
    let claimed = sha256(b"other bytes");
    let res = api.put(&format!("{loc}?digest={claimed}"), &data[..]).await;
    res.expect_error(400, "DIGEST_INVALID");
    for d in [claimed, sha256(data)] {
        api.head(&format!("/v2/a/blobs/{d}"))
            .await
            .expect_error(404, "BLOB_UNKNOWN");
    }
    // The session is discarded with its bytes.
    api.get(&loc).await.expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    assert_eq!(api.stored_all().await, Vec::<String>::new());
}

#[actix_web::test]
async fn post_with_wrong_digest_is_400_and_nothing_is_visible() {
    let (_env, api) = start().await;
    let data = b"the real bytes";
    let claimed = sha256(b"other bytes");
    let res = api
        .post(&format!("/v2/a/blobs/uploads/?digest={claimed}"), &data[..])
        .await;
    res.expect_error(400, "DIGEST_INVALID");
    for d in [claimed, sha256(data)] {
        api.head(&format!("/v2/a/blobs/{d}"))
            .await
            .expect_error(404, "BLOB_UNKNOWN");
    }
    assert_eq!(api.stored_all().await, Vec::<String>::new());
    // The same digest pushed correctly afterwards works.
    push_blob(&api, "a", data).await;
}

#[actix_web::test]
async fn missing_or_invalid_digest_on_put_is_400_and_the_session_survives() {
    let (_env, api) = start().await;
    let loc = start_upload(&api, "a").await;
    let data = b"0123456789";
    api.patch(&loc, &data[..]).await.expect(202);
    let bad = [
        loc.clone(),
        format!("{loc}?digest="),
        format!("{loc}?digest=sha256:abc"),
        format!("{loc}?digest=md5:d41d8cd98f00b204e9800998ecf8427e"),
        format!("{loc}?digest=nonsense"),
        format!("{loc}?dgst={}", sha256(data)),
    ];
    for uri in &bad {
        let msg = api.put(uri, "").await.expect_error(400, "DIGEST_INVALID");
        assert!(msg.contains("digest"), "{uri}: {msg}");
    }
    let res = api.get(&loc).await;
    res.expect(204);
    assert_eq!(res.header("range"), Some("0-9"));
    api.put(&format!("{loc}?digest={}", sha256(data)), "")
        .await
        .expect(201);
}

#[actix_web::test]
async fn invalid_digest_or_algorithm_on_post_is_400() {
    let (_env, api) = start().await;
    for q in [
        "digest=sha256:zz",
        "digest=",
        "digest=sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "digest-algorithm=md5",
        "digest-algorithm=SHA256",
    ] {
        let res = api.post(&format!("/v2/a/blobs/uploads/?{q}"), "x").await;
        res.expect_error(400, "DIGEST_INVALID");
    }
    // Nothing was stored under any of them.
    let x = sha256(b"x");
    api.head(&format!("/v2/a/blobs/{x}"))
        .await
        .expect_error(404, "NAME_UNKNOWN");
}

#[actix_web::test]
async fn cancel_ends_the_session_and_removes_its_bytes() {
    let (_env, api) = start().await;
    let loc = start_upload(&api, "a").await;
    api.patch(&loc, "some bytes").await.expect(202);
    assert_eq!(api.stored_uploads().await.len(), 1);
    let res = api.delete(&loc).await;
    res.expect(204);
    assert_eq!(res.header(API_VERSION), Some("registry/2.0"));
    api.get(&loc).await.expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    api.patch(&loc, "more")
        .await
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    let d = sha256(b"some bytes");
    api.put(&format!("{loc}?digest={d}"), "")
        .await
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    api.delete(&loc)
        .await
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    assert_eq!(api.stored_all().await, Vec::<String>::new());
}

#[actix_web::test]
async fn unknown_or_non_uuid_upload_ids_are_404_blob_upload_unknown() {
    let (_env, api) = start().await;
    let loc = start_upload(&api, "a").await;
    let d = sha256(b"");
    for id in [
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".into(),
        "123".into(),
    ] {
        let uri = format!("/v2/a/blobs/uploads/{id}");
        api.get(&uri).await.expect_error(404, "BLOB_UPLOAD_UNKNOWN");
        api.patch(&uri, "x")
            .await
            .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
        api.put(&format!("{uri}?digest={d}"), "")
            .await
            .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
        api.delete(&uri)
            .await
            .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    }
    // A session belongs to its repository: another repository does not know it.
    start_upload(&api, "b").await;
    let other = format!("/v2/b/blobs/uploads/{}", upload_id(&loc));
    api.get(&other)
        .await
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    api.patch(&other, "x")
        .await
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    // …and in a repository that does not exist at all, the repository is what is unknown.
    let nowhere = format!("/v2/nope/blobs/uploads/{}", upload_id(&loc));
    api.get(&nowhere).await.expect_error(404, "NAME_UNKNOWN");
    // The real session is untouched.
    api.get(&loc).await.expect(204);
}
