//! Error responses across the API: every code the registry emits, 405 for unsupported
//! methods, internal failures without their cause, and no 5xx for any bad input.

use crate::common::*;
use actix_web::http::Method;
use actix_web::test::TestRequest;
use pier_shared::ErrorCode;

/// Codes the registry cannot emit today, and why.
const NOT_EMITTED: &[(ErrorCode, &str)] = &[
    (
        ErrorCode::Unauthorized,
        "the registry has no authentication yet",
    ),
    (ErrorCode::Denied, "the registry has no authorization yet"),
    (
        ErrorCode::TooManyRequests,
        "the registry has no rate limits",
    ),
    (
        ErrorCode::Unavailable,
        "DB pool timeout (30 s) or SQLite locked past busy_timeout (10 s): too slow here",
    ),
];

#[actix_web::test]
async fn every_emitted_error_code_is_triggered() {
    let (env, api) = start().await;
    let img = push_image(&api, "a", "v1", "x").await;
    let loc = start_upload(&api, "a").await;
    let doomed = start_upload(&api, "a").await;
    let busy = start_upload(&api, "a").await;
    let id = upload_id(&busy).to_string();
    api.reg
        .db
        .run(move |c| {
            let repo = pier_registry::db::repositories::find(c, "a")?.expect("repo a");
            pier_registry::db::uploads::acquire(c, repo, &id, "another request")
        })
        .await
        .expect("take the upload's lease");
    let absent = sha256(b"absent");
    let put = |uri: &str, ct: &str, body: &[u8]| {
        req(Method::PUT, uri)
            .insert_header(("Content-Type", ct))
            .set_payload(body.to_vec())
    };
    let cases: Vec<(ErrorCode, u16, TestRequest)> = vec![
        (
            ErrorCode::BlobUnknown,
            404,
            req(Method::GET, &format!("/v2/a/blobs/{absent}")),
        ),
        (
            ErrorCode::BlobUploadInvalid,
            400,
            req(Method::PATCH, &busy).set_payload("x"),
        ),
        (
            ErrorCode::BlobUploadUnknown,
            404,
            req(Method::GET, "/v2/a/blobs/uploads/x"),
        ),
        (
            ErrorCode::DigestInvalid,
            400,
            req(Method::PUT, &format!("{doomed}?digest={absent}")),
        ),
        (
            ErrorCode::ManifestBlobUnknown,
            400,
            put("/v2/a/manifests/m", OCI_MANIFEST, &image("m").0),
        ),
        (
            ErrorCode::ManifestInvalid,
            400,
            put("/v2/a/manifests/m", OCI_MANIFEST, b"{}"),
        ),
        (
            ErrorCode::ManifestUnknown,
            404,
            req(Method::GET, "/v2/a/manifests/nope"),
        ),
        (
            ErrorCode::NameInvalid,
            400,
            req(Method::GET, "/v2/A/tags/list"),
        ),
        (
            ErrorCode::NameUnknown,
            404,
            req(Method::GET, "/v2/nope/tags/list"),
        ),
        (
            ErrorCode::SizeInvalid,
            400,
            req(Method::PATCH, &loc)
                .insert_header(("Content-Range", "0-99"))
                .set_payload("x"),
        ),
        (
            ErrorCode::TagInvalid,
            400,
            put("/v2/a/manifests/-x", OCI_MANIFEST, &img.bytes),
        ),
        (
            ErrorCode::Unsupported,
            405,
            req(Method::POST, "/v2/a/tags/list"),
        ),
        (
            ErrorCode::RangeInvalid,
            416,
            req(
                Method::GET,
                &format!("/v2/a/blobs/{}", sha256(b"layer of x")),
            )
            .insert_header(("Range", "bytes=999-")),
        ),
        (
            ErrorCode::PaginationNumberInvalid,
            400,
            req(Method::GET, "/v2/_catalog?n=x"),
        ),
    ];
    let mut seen = Vec::new();
    for (code, status, r) in cases {
        api.send(r).await.expect_error(status, code.wire());
        seen.push(code);
    }
    // Unknown: an internal failure (storage broken underneath), without its cause.
    let res = if pier_registry::storage::s3::tests_use_s3() {
        // S3: the same registry with its object store unreachable.
        let mut broken = env.config();
        broken.storage.s3.endpoint = "http://127.0.0.1:9".into();
        env.api_with(broken).await.patch(&loc, "bytes").await
    } else {
        let uploads = env.storage().join("uploads");
        std::fs::remove_dir_all(&uploads).expect("remove uploads dir");
        std::fs::write(&uploads, b"not a directory").expect("block uploads dir");
        api.patch(&loc, "bytes").await
    };
    let msg = res.expect_error(500, "UNKNOWN");
    assert_eq!(msg, "unknown error");
    assert!(
        !res.text().contains("uploads"),
        "cause leaked: {}",
        res.text()
    );
    seen.push(ErrorCode::Unknown);
    // The failed request released the session.
    if !pier_registry::storage::s3::tests_use_s3() {
        std::fs::remove_file(env.storage().join("uploads")).expect("unblock uploads dir");
    }
    api.patch(&loc, "bytes").await.expect(202);

    for code in ErrorCode::ALL {
        let untested = NOT_EMITTED.iter().any(|(c, _)| c == code);
        assert!(
            seen.contains(code) != untested,
            "{code:?}: add a case or a reason"
        );
    }
}

#[actix_web::test]
async fn unsupported_methods_are_405() {
    let (_env, api) = start().await;
    let img = push_image(&api, "a", "v1", "x").await;
    let loc = start_upload(&api, "a").await;
    let blob = sha256(b"layer of x");
    let cases = [
        (Method::POST, "/v2/a/tags/list".to_string()),
        (Method::DELETE, "/v2/a/tags/list".to_string()),
        (Method::PUT, "/v2/_catalog".to_string()),
        (Method::POST, "/v2/_catalog".to_string()),
        (Method::POST, "/v2/a/manifests/v1".to_string()),
        (Method::PATCH, "/v2/a/manifests/v1".to_string()),
        (Method::PUT, format!("/v2/a/blobs/{blob}")),
        (Method::POST, format!("/v2/a/blobs/{blob}")),
        (Method::PATCH, format!("/v2/a/blobs/{blob}")),
        (Method::GET, "/v2/a/blobs/uploads/".to_string()),
        (Method::PUT, "/v2/a/blobs/uploads/".to_string()),
        (Method::DELETE, "/v2/a/blobs/uploads/".to_string()),
        (Method::POST, loc.clone()),
        (Method::HEAD, loc.clone()),
        (Method::DELETE, format!("/v2/a/referrers/{}", img.digest)),
        (Method::OPTIONS, "/v2/a/manifests/v1".to_string()),
    ];
    for (m, uri) in cases {
        let res = api.send(req(m.clone(), &uri)).await;
        let msg = res.expect_error(405, "UNSUPPORTED");
        assert!(msg.contains(m.as_str()), "{m} {uri}: {msg}");
    }
    // Nothing changed.
    api.get("/v2/a/manifests/v1").await.expect(200);
    api.get(&loc).await.expect(204);
}

/// No 5xx; an error is a 4xx with the OCI envelope (some odd inputs are simply accepted).
#[track_caller]
fn assert_no_server_error(res: &Res, what: &str) {
    assert!(
        res.status < 500,
        "{what}: status {} {}",
        res.status,
        res.text()
    );
    if res.status < 400 {
        return;
    }
    let code = res.json()["errors"][0]["code"].as_str().map(String::from);
    let code = code.unwrap_or_else(|| panic!("{what}: no error code in {}", res.text()));
    res.expect_error(res.status, &code);
}

#[actix_web::test]
async fn bad_input_never_gives_a_server_error() {
    let (_env, api) = start().await;
    let img = push_image(&api, "a", "v1", "x").await;
    let blob = format!("/v2/a/blobs/{}", sha256(b"layer of x"));
    let loc = start_upload(&api, "a").await;
    let mut cases: Vec<(String, TestRequest)> = Vec::new();
    let mut add = |what: String, r: TestRequest| cases.push((what, r));
    let huge = "18446744073709551615";
    for range in [
        format!("0-{huge}"),
        format!("{huge}-{huge}"),
        "0-99999999999999999999999".into(),
        "9-0".into(),
        "-".into(),
        "".into(),
        "0-9/abc".into(),
    ] {
        let r = req(Method::PATCH, &loc).insert_header(("Content-Range", range.as_str()));
        add(
            format!("PATCH Content-Range {range:?}"),
            r.set_payload("0123456789"),
        );
        let r = req(Method::PUT, &format!("{loc}?digest={}", sha256(b"x")));
        add(
            format!("PUT Content-Range {range:?}"),
            r.insert_header(("Content-Range", range.as_str()))
                .set_payload("x"),
        );
    }
    for range in [
        format!("bytes={huge}-"),
        format!("bytes=-{huge}"),
        format!("bytes=0-{huge}0"),
        "bytes=--1".into(),
        "bytes= - ".into(),
    ] {
        add(
            format!("Range {range:?}"),
            req(Method::GET, &blob).insert_header(("Range", range.as_str())),
        );
    }
    for q in [
        "n=99999999999999999999999",
        "n=-1",
        "n=1.5",
        "last=%ff%fe",
        "n=1&n=abc",
        "%zz=1",
        "n=%00",
    ] {
        add(
            format!("tags ?{q}"),
            req(Method::GET, &format!("/v2/a/tags/list?{q}")),
        );
        add(
            format!("catalog ?{q}"),
            req(Method::GET, &format!("/v2/_catalog?{q}")),
        );
    }
    let d = sha256(b"{}");
    let bodies = [
        "null".to_string(),
        "{\"schemaVersion\":2,\"config\":{\"digest\":1,\"size\":\"x\"}}".into(),
        format!("{{\"schemaVersion\":2,\"config\":{{\"digest\":\"{d}\",\"size\":1e300}}}}"),
        format!("{{\"schemaVersion\":2,\"config\":{{\"digest\":\"{d}\",\"size\":99999999999999999999}}}}"),
        format!("{{\"schemaVersion\":2,\"manifests\":{{}},\"config\":{{\"digest\":\"{d}\",\"size\":1}}}}"),
        r#"{"schemaVersion":2,"manifests":[],"subject":{"digest":"sha256:x","size":1}}"#.into(),
        r#"{"schemaVersion":2,"manifests":[],"annotations":{"a":1}}"#.into(),
        format!("{{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{}}}", "[".repeat(10_000)),
        "{\"schemaVersion\":2,\"manifests\":[]".into(),
        "\u{feff}{\"schemaVersion\":2,\"manifests\":[]}".into(),
    ];
    for (i, body) in bodies.iter().enumerate() {
        for ct in [OCI_MANIFEST, OCI_INDEX, "text/plain", ""] {
            let r = req(Method::PUT, "/v2/a/manifests/bad").insert_header(("Content-Type", ct));
            add(
                format!("manifest body {i} as {ct:?}"),
                r.set_payload(body.clone()),
            );
        }
    }
    for q in [
        "mount=&from=",
        "mount=sha256:abc&from=UPPER",
        "digest-algorithm=",
        "digest=sha512:abc",
        "mount",
    ] {
        add(
            format!("POST ?{q}"),
            req(Method::POST, &format!("/v2/a/blobs/uploads/?{q}")),
        );
    }
    for uri in [
        "/v2/a/manifests/".to_string(),
        "/v2/a/blobs/".to_string(),
        "/v2//tags/list".to_string(),
        format!("{loc}/extra"),
        format!("/v2/{}/tags/list", "a/".repeat(5000)),
        format!("/v2/a/manifests/{}", "t".repeat(10_000)),
        format!("/v2/a/manifests/{}?tag={}", img.digest, "x".repeat(10_000)),
        "/v2/a/manifests/v1%00".to_string(),
    ] {
        let short: String = uri.chars().take(60).collect();
        add(format!("GET {short}"), req(Method::GET, &uri));
        add(
            format!("PUT {short}"),
            req(Method::PUT, &uri).set_payload(img.bytes.clone()),
        );
    }
    for (what, r) in cases {
        assert_no_server_error(&api.send(r).await, &what);
    }
    // The registry still works and still holds what it held.
    let res = api.get("/v2/a/manifests/v1").await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), img.bytes.as_slice());
}
