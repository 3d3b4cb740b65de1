//! Chunked uploads: `PATCH` with and without `Content-Range`, progress (`GET` on the
//! session), out-of-order chunks, the last chunk in the `PUT`, sha512, and resuming a
//! session after the registry restarts.

use crate::common::*;
use actix_web::http::Method;

fn chunk(loc: &str, range: Option<&str>, body: &[u8]) -> actix_web::test::TestRequest {
    let mut r = req(Method::PATCH, loc).set_payload(body.to_vec());
    if let Some(range) = range {
        r = r.insert_header(("Content-Range", range));
    }
    r
}

fn finish(
    loc: &str,
    digest: &str,
    range: Option<&str>,
    body: &[u8],
) -> actix_web::test::TestRequest {
    let mut r = req(Method::PUT, &format!("{loc}?digest={digest}")).set_payload(body.to_vec());
    if let Some(range) = range {
        r = r.insert_header(("Content-Range", range));
    }
    r
}

/// Assert a 202 progress response for a session of `size` bytes.
#[track_caller]
fn progress(res: &Res, loc: &str, size: usize) {
    res.expect(202);
    assert_eq!(res.location(), loc);
    assert_eq!(
        res.header("range"),
        Some(format!("0-{}", size - 1).as_str())
    );
    assert_eq!(res.header(UPLOAD_UUID), Some(upload_id(loc)));
}

async fn assert_blob(api: &Api, repo: &str, digest: &str, data: &[u8]) {
    let res = api.get(&format!("/v2/{repo}/blobs/{digest}")).await;
    res.expect(200);
    assert_eq!(res.header(DIGEST), Some(digest));
    assert!(res.body.as_ref() == data, "blob {digest} has other bytes");
}

#[actix_web::test]
async fn chunks_with_content_range() {
    let (_env, api) = start().await;
    let data = bytes(30_000, 1);
    let loc = start_upload(&api, "a").await;
    progress(
        &api.send(chunk(&loc, Some("0-9999"), &data[..10_000])).await,
        &loc,
        10_000,
    );
    progress(
        &api.send(chunk(&loc, Some("10000-19999"), &data[10_000..20_000]))
            .await,
        &loc,
        20_000,
    );
    // Some clients send the `bytes ` prefix and a total.
    let r = chunk(&loc, Some("bytes 20000-29999/30000"), &data[20_000..]);
    progress(&api.send(r).await, &loc, 30_000);
    let d = sha256(&data);
    let res = api.send(finish(&loc, &d, None, b"")).await;
    res.expect(201);
    assert_eq!(res.location(), format!("/v2/a/blobs/{d}"));
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
    assert_blob(&api, "a", &d, &data).await;
}

#[actix_web::test]
async fn chunks_without_content_range_are_appended() {
    let (_env, api) = start().await;
    let data = bytes(600 * 1024, 2);
    let loc = start_upload(&api, "a").await;
    let (first, rest) = data.split_at(400 * 1024);
    progress(&api.patch(&loc, first.to_vec()).await, &loc, first.len());
    // Streamed, without Content-Length.
    progress(
        &api.send_chunked(chunk(&loc, None, rest)).await,
        &loc,
        data.len(),
    );
    let d = sha256(&data);
    api.send(finish(&loc, &d, None, b"")).await.expect(201);
    assert_blob(&api, "a", &d, &data).await;
}

#[actix_web::test]
async fn get_on_a_session_reports_its_range() {
    let (_env, api) = start().await;
    let loc = start_upload(&api, "a").await;
    let res = api.get(&loc).await;
    res.expect(204);
    assert_eq!(res.header("range"), Some("0-0"));
    assert_eq!(res.location(), loc);
    assert_eq!(res.header(UPLOAD_UUID), Some(upload_id(&loc)));
    api.patch(&loc, "0123456789").await.expect(202);
    let res = api.get(&loc).await;
    res.expect(204);
    assert_eq!(res.header("range"), Some("0-9"));
    assert_eq!(res.location(), loc);
    assert!(res.body.is_empty());
}

#[actix_web::test]
async fn out_of_order_or_repeated_chunk_is_416_with_resume_headers() {
    let (_env, api) = start().await;
    let data = bytes(30, 3);
    let loc = start_upload(&api, "a").await;
    api.send(chunk(&loc, Some("0-9"), &data[..10]))
        .await
        .expect(202);
    // A gap, a retry of the previous chunk, an overlap.
    for (range, body) in [
        ("20-29", &data[20..]),
        ("0-9", &data[..10]),
        ("5-14", &data[5..15]),
    ] {
        let res = api.send(chunk(&loc, Some(range), body)).await;
        res.expect_error(416, "RANGE_INVALID");
        assert_eq!(res.header("range"), Some("0-9"), "{range}");
        assert_eq!(res.location(), loc);
    }
    // The session continues where it was.
    progress(
        &api.send(chunk(&loc, Some("10-19"), &data[10..20])).await,
        &loc,
        20,
    );
    // The same check applies to the last chunk in the PUT.
    let d = sha256(&data);
    let res = api.send(finish(&loc, &d, Some("25-29"), &data[25..])).await;
    res.expect_error(416, "RANGE_INVALID");
    assert_eq!(res.header("range"), Some("0-19"));
    assert_eq!(res.location(), loc);
    api.send(finish(&loc, &d, Some("20-29"), &data[20..]))
        .await
        .expect(201);
    assert_blob(&api, "a", &d, &data).await;
}

#[actix_web::test]
async fn malformed_content_range_is_416() {
    let (_env, api) = start().await;
    let loc = start_upload(&api, "a").await;
    for range in ["abc", "5", "-5", "x-y", "1-", "bytes=0-4"] {
        api.send(chunk(&loc, Some(range), b"hello"))
            .await
            .expect_error(416, "RANGE_INVALID");
    }
    let res = api.get(&loc).await;
    assert_eq!(res.header("range"), Some("0-0"));
}

#[actix_web::test]
async fn content_range_not_matching_the_body_fails_and_the_session_continues() {
    let (_env, api) = start().await;
    let data = bytes(30, 4);
    let loc = start_upload(&api, "a").await;
    api.send(chunk(&loc, Some("0-9"), &data[..10]))
        .await
        .expect(202);
    // Claims 20 bytes, sends 10; then claims 5, sends 10.
    for (range, body) in [("10-29", &data[10..20]), ("10-14", &data[10..20])] {
        let msg = api
            .send(chunk(&loc, Some(range), body))
            .await
            .expect_error(400, "SIZE_INVALID");
        assert!(msg.contains("Content-Range"), "{msg}");
        let res = api.get(&loc).await;
        res.expect(204);
        assert_eq!(res.header("range"), Some("0-9"), "after {range}");
    }
    progress(
        &api.send(chunk(&loc, Some("10-19"), &data[10..20])).await,
        &loc,
        20,
    );
    progress(&api.patch(&loc, data[20..].to_vec()).await, &loc, 30);
    let d = sha256(&data);
    api.send(finish(&loc, &d, None, b"")).await.expect(201);
    assert_blob(&api, "a", &d, &data).await;
}

#[actix_web::test]
async fn last_chunk_in_the_put() {
    let (_env, api) = start().await;
    let data = bytes(2000, 5);
    // With Content-Range on the PUT.
    let loc = start_upload(&api, "a").await;
    api.send(chunk(&loc, Some("0-999"), &data[..1000]))
        .await
        .expect(202);
    let d = sha256(&data);
    api.send(finish(&loc, &d, Some("1000-1999"), &data[1000..]))
        .await
        .expect(201);
    assert_blob(&api, "a", &d, &data).await;
    // Without, into another repository.
    let loc = start_upload(&api, "b").await;
    api.patch(&loc, data[..1500].to_vec()).await.expect(202);
    api.send(finish(&loc, &d, None, &data[1500..]))
        .await
        .expect(201);
    assert_blob(&api, "b", &d, &data).await;
}

#[actix_web::test]
async fn empty_session_finishes_as_the_empty_blob() {
    let (_env, api) = start().await;
    let loc = start_upload(&api, "a").await;
    let d = sha256(b"");
    api.send(finish(&loc, &d, None, b"")).await.expect(201);
    assert_blob(&api, "a", &d, b"").await;
}

#[actix_web::test]
async fn sha512_session_via_digest_algorithm() {
    let (_env, api) = start().await;
    let data = bytes(5000, 6);
    let res = api
        .post("/v2/a/blobs/uploads/?digest-algorithm=sha512", "")
        .await;
    res.expect(202);
    let loc = res.location();
    api.send(chunk(&loc, Some("0-2499"), &data[..2500]))
        .await
        .expect(202);
    api.patch(&loc, data[2500..].to_vec()).await.expect(202);
    let d = sha512(&data);
    let res = api.send(finish(&loc, &d, None, b"")).await;
    res.expect(201);
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
    assert_blob(&api, "a", &d, &data).await;
}

#[actix_web::test]
async fn session_hashed_with_one_algorithm_finishes_with_the_other() {
    let (_env, api) = start().await;
    let data = bytes(4000, 7);
    // sha256 session, sha512 digest.
    let loc = start_upload(&api, "a").await;
    api.patch(&loc, data[..3000].to_vec()).await.expect(202);
    let d512 = sha512(&data);
    api.send(finish(&loc, &d512, None, &data[3000..]))
        .await
        .expect(201);
    assert_blob(&api, "a", &d512, &data).await;
    // sha512 session, sha256 digest.
    let loc = api
        .post("/v2/b/blobs/uploads/?digest-algorithm=sha512", "")
        .await
        .location();
    api.patch(&loc, data.clone()).await.expect(202);
    let d256 = sha256(&data);
    api.send(finish(&loc, &d256, None, b"")).await.expect(201);
    assert_blob(&api, "b", &d256, &data).await;
    // And a wrong sha512 digest is refused like any other.
    let loc = start_upload(&api, "c").await;
    api.patch(&loc, data.clone()).await.expect(202);
    let wrong = sha512(b"not it");
    api.send(finish(&loc, &wrong, None, b""))
        .await
        .expect_error(400, "DIGEST_INVALID");
    api.head(&format!("/v2/c/blobs/{wrong}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
}

#[actix_web::test]
async fn session_resumes_after_a_restart() {
    let env = Env::new();
    let data = bytes(50_000, 8);
    let d = sha256(&data);
    let api = env.api().await;
    let loc = start_upload(&api, "a").await;
    api.send(chunk(&loc, Some("0-19999"), &data[..20_000]))
        .await
        .expect(202);
    drop(api);

    let api = env.api().await;
    let res = api.get(&loc).await;
    res.expect(204);
    assert_eq!(res.header("range"), Some("0-19999"));
    api.send(chunk(&loc, Some("20000-39999"), &data[20_000..40_000]))
        .await
        .expect(202);
    drop(api);

    let api = env.api().await;
    api.patch(&loc, data[40_000..45_000].to_vec())
        .await
        .expect(202);
    let res = api
        .send(finish(&loc, &d, Some("45000-49999"), &data[45_000..]))
        .await;
    res.expect(201);
    assert_blob(&api, "a", &d, &data).await;
}

#[actix_web::test]
async fn content_range_ending_at_u64_max_is_refused_cleanly() {
    let (_env, api) = start().await;
    let loc = start_upload(&api, "a").await;
    // `end + 1` overflowed here once: a panic instead of an answer.
    let r = chunk(&loc, Some("0-18446744073709551615"), b"0123456789");
    api.send(r).await.expect_error(400, "SIZE_INVALID");
    let d = sha256(b"0123456789");
    let r = finish(&loc, &d, Some("0-18446744073709551615"), b"0123456789");
    api.send(r).await.expect_error(400, "SIZE_INVALID");
    // The session is intact and still at 0 bytes.
    assert_eq!(api.get(&loc).await.header("range"), Some("0-0"));
    api.send(finish(&loc, &d, Some("0-9"), b"0123456789"))
        .await
        .expect(201);
}
