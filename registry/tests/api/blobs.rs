//! `GET|HEAD|DELETE /v2/<name>/blobs/<digest>`: exact bytes, digest and length headers,
//! ranges, and which repository may serve which blob.

use crate::common::*;
use actix_web::http::Method;

fn ranged(method: Method, uri: &str, range: &str) -> actix_web::test::TestRequest {
    req(method, uri).insert_header(("Range", range))
}

#[actix_web::test]
async fn get_serves_exact_bytes_with_digest_and_length() {
    let (_env, api) = start().await;
    // Larger than the 256 KiB read chunk, so the body arrives in several pieces.
    let blob = bytes(700 * 1024, 3);
    let d = push_blob(&api, "a", &blob).await;
    let res = api.get(&format!("/v2/a/blobs/{d}")).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), blob.as_slice());
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
    assert_eq!(res.content_length(), Some(blob.len() as u64));
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    assert_eq!(res.header(API_VERSION), Some("registry/2.0"));
}

#[actix_web::test]
async fn head_announces_length_and_digest_without_body() {
    let (_env, api) = start().await;
    let blob = bytes(1000, 1);
    let d = push_blob(&api, "a", &blob).await;
    let res = api.head(&format!("/v2/a/blobs/{d}")).await;
    res.expect(200);
    assert_eq!(res.content_length(), Some(1000));
    assert!(res.body.is_empty());
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
}

#[actix_web::test]
async fn range_gives_206_with_content_range() {
    let (_env, api) = start().await;
    let blob = bytes(1000, 7);
    let d = push_blob(&api, "a", &blob).await;
    let uri = format!("/v2/a/blobs/{d}");
    let cases = [
        ("bytes=0-99", 0, 99),
        ("bytes=990-", 990, 999),
        ("bytes=-10", 990, 999),
        ("bytes=500-5000", 500, 999),
        ("bytes=7-7", 7, 7),
        ("bytes=-5000", 0, 999),
    ];
    for (range, start, end) in cases {
        let res = api.send(ranged(Method::GET, &uri, range)).await;
        res.expect(206);
        let want = format!("bytes {start}-{end}/1000");
        assert_eq!(res.header("content-range"), Some(want.as_str()), "{range}");
        assert_eq!(res.body.as_ref(), &blob[start..=end], "{range}");
        assert_eq!(
            res.content_length(),
            Some((end - start + 1) as u64),
            "{range}"
        );
        assert_eq!(res.header(DIGEST), Some(d.as_str()));

        let res = api.send(ranged(Method::HEAD, &uri, range)).await;
        res.expect(206);
        assert_eq!(res.header("content-range"), Some(want.as_str()), "{range}");
        assert_eq!(
            res.content_length(),
            Some((end - start + 1) as u64),
            "{range}"
        );
    }
}

#[actix_web::test]
async fn unsatisfiable_range_is_416_with_the_size() {
    let (_env, api) = start().await;
    let d = push_blob(&api, "a", &bytes(1000, 2)).await;
    let uri = format!("/v2/a/blobs/{d}");
    for range in [
        "bytes=1000-",
        "bytes=5000-6000",
        "bytes=5-4",
        "bytes=-0",
        "bytes=x-1",
        "bytes=-",
    ] {
        let res = api.send(ranged(Method::GET, &uri, range)).await;
        res.expect_error(416, "RANGE_INVALID");
        assert_eq!(res.header("content-range"), Some("bytes */1000"), "{range}");
    }
}

#[actix_web::test]
async fn range_forms_not_supported_serve_the_whole_blob() {
    let (_env, api) = start().await;
    let blob = bytes(100, 9);
    let d = push_blob(&api, "a", &blob).await;
    for range in ["bytes=0-1,5-6", "items=0-1"] {
        let res = api
            .send(ranged(Method::GET, &format!("/v2/a/blobs/{d}"), range))
            .await;
        res.expect(200);
        assert_eq!(res.body.as_ref(), blob.as_slice());
        assert_eq!(res.header("content-range"), None);
    }
}

#[actix_web::test]
async fn empty_blob_is_served_and_no_range_fits_it() {
    let (_env, api) = start().await;
    let d = push_blob(&api, "a", b"").await;
    let res = api.get(&format!("/v2/a/blobs/{d}")).await;
    res.expect(200);
    assert!(res.body.is_empty());
    assert_eq!(res.content_length(), Some(0));
    let res = api
        .send(ranged(Method::GET, &format!("/v2/a/blobs/{d}"), "bytes=0-"))
        .await;
    res.expect_error(416, "RANGE_INVALID");
    assert_eq!(res.header("content-range"), Some("bytes */0"));
}

#[actix_web::test]
async fn unknown_blob_is_404_blob_unknown() {
    let (_env, api) = start().await;
    push_blob(&api, "a", b"present").await;
    let absent = sha256(b"absent");
    api.get(&format!("/v2/a/blobs/{absent}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    api.head(&format!("/v2/a/blobs/{absent}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    api.delete(&format!("/v2/a/blobs/{absent}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    // A repository that does not exist at all.
    api.get(&format!("/v2/nope/blobs/{absent}"))
        .await
        .expect_error(404, "NAME_UNKNOWN");
}

#[actix_web::test]
async fn blob_of_another_repository_is_not_served() {
    let (_env, api) = start().await;
    let d = push_blob(&api, "a", b"only in a").await;
    push_blob(&api, "b", b"something in b").await;
    api.get(&format!("/v2/b/blobs/{d}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    api.head(&format!("/v2/b/blobs/{d}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    api.get(&format!("/v2/a/blobs/{d}")).await.expect(200);
}

#[actix_web::test]
async fn delete_blob_unlinks_it_from_that_repository_only() {
    let (_env, api) = start().await;
    let blob = b"shared bytes";
    let d = push_blob(&api, "a", blob).await;
    push_blob(&api, "b", blob).await;
    let res = api.delete(&format!("/v2/a/blobs/{d}")).await;
    res.expect(202);
    assert_eq!(res.header(API_VERSION), Some("registry/2.0"));
    api.get(&format!("/v2/a/blobs/{d}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    api.head(&format!("/v2/a/blobs/{d}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    api.delete(&format!("/v2/a/blobs/{d}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    let res = api.get(&format!("/v2/b/blobs/{d}")).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), blob);
}

#[actix_web::test]
async fn invalid_digest_in_path_is_400_digest_invalid() {
    let (_env, api) = start().await;
    push_blob(&api, "a", b"x").await;
    let upper = sha256(b"x").to_uppercase().replace("SHA256", "sha256");
    let bad = [
        "sha256:xyz".to_string(),
        "sha256".to_string(),
        "md5:d41d8cd98f00b204e9800998ecf8427e".to_string(),
        upper,
        "sha256:..%2f..%2fetc%2fpasswd".to_string(),
        format!("{}0", sha256(b"x")),
    ];
    for d in &bad {
        let uri = format!("/v2/a/blobs/{d}");
        api.get(&uri).await.expect_error(400, "DIGEST_INVALID");
        api.head(&uri).await.expect_error(400, "DIGEST_INVALID");
        api.delete(&uri).await.expect_error(400, "DIGEST_INVALID");
    }
}

#[actix_web::test]
async fn sha512_blob_is_served_under_its_sha512_digest() {
    let (_env, api) = start().await;
    let blob = bytes(3000, 5);
    let d = sha512(&blob);
    let res = api
        .post(&format!("/v2/a/blobs/uploads/?digest={d}"), blob.clone())
        .await;
    res.expect(201);
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
    let res = api.get(&format!("/v2/a/blobs/{d}")).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), blob.as_slice());
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
    // The same bytes under their sha256 digest were never pushed.
    api.get(&format!("/v2/a/blobs/{}", sha256(&blob)))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
}
