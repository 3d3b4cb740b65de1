//! Manifest refusals: digest mismatch, missing blobs or children, schema1, size limit,
//! invalid tags, unknown manifests and repositories.

use crate::common::*;
use actix_web::http::Method;
use serde_json::json;

/// The manifest is not stored: by digest it is unknown.
async fn assert_absent(api: &Api, repo: &str, body: &[u8]) {
    let uri = format!("/v2/{repo}/manifests/{}", sha256(body));
    let res = api.get(&uri).await;
    assert_eq!(res.status, 404, "{uri}: {}", res.text());
}

#[actix_web::test]
async fn digest_mismatch_is_400_digest_invalid() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("mismatch");
    push_blob(&api, "a", &config).await;
    push_blob(&api, "a", &layer).await;
    let claimed = sha256(b"something else");
    let res = put_manifest(&api, "a", &claimed, OCI_MANIFEST, &body).await;
    res.expect_error(400, "DIGEST_INVALID");
    api.get(&format!("/v2/a/manifests/{claimed}"))
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    assert_absent(&api, "a", &body).await;
}

#[actix_web::test]
async fn missing_blob_is_400_manifest_blob_unknown() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("missing");
    push_blob(&api, "a", &config).await;
    let res = put_manifest(&api, "a", "latest", OCI_MANIFEST, &body).await;
    res.expect_error(400, "MANIFEST_BLOB_UNKNOWN");
    assert_eq!(res.json()["errors"][0]["detail"]["digest"], sha256(&layer));
    api.get("/v2/a/manifests/latest")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    // Config missing (in a repository that does not exist yet): nothing is created.
    let res = put_manifest(&api, "fresh", "latest", OCI_MANIFEST, &body).await;
    res.expect_error(400, "MANIFEST_BLOB_UNKNOWN");
    api.get("/v2/fresh/tags/list")
        .await
        .expect_error(404, "NAME_UNKNOWN");
    assert_eq!(
        api.get("/v2/_catalog").await.json()["repositories"],
        json!([])
    );
}

#[actix_web::test]
async fn blob_of_another_repository_does_not_count() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("elsewhere");
    push_blob(&api, "other", &config).await;
    push_blob(&api, "other", &layer).await;
    push_blob(&api, "a", &config).await;
    let res = put_manifest(&api, "a", "latest", OCI_MANIFEST, &body).await;
    res.expect_error(400, "MANIFEST_BLOB_UNKNOWN");
}

#[actix_web::test]
async fn index_with_a_missing_child_is_manifest_blob_unknown() {
    let (_env, api) = start().await;
    let present = push_image(&api, "a", "present", "p").await;
    let missing = sha256(b"no such manifest");
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": present.digest, "size": present.bytes.len()},
            {"mediaType": OCI_MANIFEST, "digest": missing, "size": 10},
        ],
    }))
    .unwrap();
    let res = put_manifest(&api, "a", "idx", OCI_INDEX, &body).await;
    res.expect_error(400, "MANIFEST_BLOB_UNKNOWN");
    assert_eq!(res.json()["errors"][0]["detail"]["digest"], missing);
    assert_absent(&api, "a", &body).await;
    // A child in another repository does not count either.
    let elsewhere = push_image(&api, "b", "x", "b").await;
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": elsewhere.digest, "size": 1}],
    }))
    .unwrap();
    put_manifest(&api, "a", "idx", OCI_INDEX, &body)
        .await
        .expect_error(400, "MANIFEST_BLOB_UNKNOWN");
}

#[actix_web::test]
async fn schema1_is_manifest_invalid_with_a_clear_message() {
    let (_env, api) = start().await;
    let body = br#"{"schemaVersion":1,"name":"a","tag":"latest","architecture":"amd64","fsLayers":[],"history":[]}"#;
    for ct in [
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/json",
    ] {
        let res = put_manifest(&api, "a", "old", ct, body).await;
        let msg = res.expect_error(400, "MANIFEST_INVALID");
        assert!(
            msg.contains("schema1") && msg.contains("not supported"),
            "{ct}: {msg}"
        );
    }
}

#[actix_web::test]
async fn malformed_manifests_are_manifest_invalid() {
    let (_env, api) = start().await;
    let (good, config, layer) = image("ok");
    push_blob(&api, "a", &config).await;
    push_blob(&api, "a", &layer).await;
    let d = sha256(&config);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (OCI_MANIFEST, b"not json".to_vec(), "JSON"),
        (OCI_MANIFEST, b"".to_vec(), "JSON"),
        (OCI_MANIFEST, b"[]".to_vec(), "JSON"),
        (OCI_MANIFEST, br#"{"schemaVersion":3}"#.to_vec(), "schemaVersion"),
        (OCI_INDEX, good.clone(), "does not match"),
        ("application/json", br#"{"schemaVersion":2,"mediaType":"text/plain"}"#.to_vec(), "unsupported"),
        (OCI_MANIFEST, br#"{"schemaVersion":2,"layers":[]}"#.to_vec(), "config"),
        (OCI_MANIFEST, format!(r#"{{"schemaVersion":2,"config":{{"digest":"{d}","size":-1}}}}"#).into_bytes(), "negative"),
        (OCI_MANIFEST, br#"{"schemaVersion":2,"config":{"digest":"sha256:../../x","size":1}}"#.to_vec(), "digest"),
        (DOCKER_MANIFEST, format!(r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"digest":"{d}","size":1}}}}"#).into_bytes(), "layers"),
        (OCI_INDEX, format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}"}}"#).into_bytes(), "manifests"),
    ];
    for (ct, body, want) in cases {
        let res = put_manifest(&api, "a", "bad", ct, &body).await;
        let msg = res.expect_error(400, "MANIFEST_INVALID");
        assert!(
            msg.contains(want),
            "{}: {msg}",
            String::from_utf8_lossy(&body)
        );
    }
    api.get("/v2/a/manifests/bad")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
}

/// A valid manifest padded (in an annotation) to exactly `size` bytes.
fn padded(config: &[u8], size: usize) -> Vec<u8> {
    let make = |pad: usize| {
        serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config), "layers": [],
            "annotations": {"pad": "x".repeat(pad)},
        }))
        .unwrap()
    };
    let base = make(0).len();
    let body = make(size - base);
    assert_eq!(body.len(), size);
    body
}

#[actix_web::test]
async fn manifest_over_4_mib_is_413() {
    let (_env, api) = start().await;
    let config = b"{}";
    push_blob(&api, "a", config).await;
    let limit = 4 * 1024 * 1024;
    let at_limit = padded(config, limit);
    push_manifest(&api, "a", "big", OCI_MANIFEST, &at_limit).await;
    let over = padded(config, limit + 1);
    // Refused from Content-Length…
    let res = put_manifest(&api, "a", "huge", OCI_MANIFEST, &over).await;
    res.expect_error(413, "SIZE_INVALID");
    // …and while streaming when there is none.
    let r = req(Method::PUT, "/v2/a/manifests/huge")
        .insert_header(("Content-Type", OCI_MANIFEST))
        .set_payload(over.clone());
    api.send_chunked(r).await.expect_error(413, "SIZE_INVALID");
    api.get("/v2/a/manifests/huge")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
}

#[actix_web::test]
async fn invalid_tag_in_path_or_query_is_400_tag_invalid() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("tags");
    push_blob(&api, "a", &config).await;
    push_blob(&api, "a", &layer).await;
    let long = "t".repeat(129);
    for tag in ["-bad", ".bad", "b%20ad", "a+b", long.as_str()] {
        put_manifest(&api, "a", tag, OCI_MANIFEST, &body)
            .await
            .expect_error(400, "TAG_INVALID");
        api.get(&format!("/v2/a/manifests/{tag}"))
            .await
            .expect_error(400, "TAG_INVALID");
    }
    let d = sha256(&body);
    for q in [
        "tag=-bad",
        "tag=ok&tag=",
        &format!("tag={long}"),
        "tag=a%2Fb",
    ] {
        let res = put_manifest(&api, "a", &format!("{d}?{q}"), OCI_MANIFEST, &body).await;
        res.expect_error(400, "TAG_INVALID");
    }
    assert_absent(&api, "a", &body).await;
    // 128 characters is the longest valid tag.
    push_manifest(&api, "a", &"t".repeat(128), OCI_MANIFEST, &body).await;
}

#[actix_web::test]
async fn unknown_manifest_and_repository_are_404() {
    let (_env, api) = start().await;
    push_image(&api, "a", "latest", "x").await;
    let absent = sha256(b"absent");
    for reference in ["nope", absent.as_str()] {
        let uri = format!("/v2/a/manifests/{reference}");
        api.get(&uri).await.expect_error(404, "MANIFEST_UNKNOWN");
        api.head(&uri).await.expect_error(404, "MANIFEST_UNKNOWN");
        api.delete(&uri).await.expect_error(404, "MANIFEST_UNKNOWN");
        let uri = format!("/v2/nope/manifests/{reference}");
        api.get(&uri).await.expect_error(404, "NAME_UNKNOWN");
        api.head(&uri).await.expect_error(404, "NAME_UNKNOWN");
        api.delete(&uri).await.expect_error(404, "NAME_UNKNOWN");
    }
    // A manifest of another repository is unknown here.
    push_blob(&api, "b", b"b exists").await;
    let d = sha256(&image("x").0);
    api.get(&format!("/v2/b/manifests/{d}"))
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    for bad in ["sha256:xyz", "md5:d41d8cd98f00b204e9800998ecf8427e"] {
        api.get(&format!("/v2/a/manifests/{bad}"))
            .await
            .expect_error(400, "DIGEST_INVALID");
    }
}
