//! `PUT|GET|HEAD /v2/<name>/manifests/<reference>`: every accepted manifest kind, stored and
//! served byte-exact under its media type, tags from the path and from `?tag=`.

use crate::common::*;
use serde_json::json;

/// GET and HEAD by `reference`: exact bytes, media type, digest, length.
async fn assert_served(api: &Api, repo: &str, reference: &str, media_type: &str, body: &[u8]) {
    let uri = format!("/v2/{repo}/manifests/{reference}");
    let d = sha256(body);
    let res = api.get(&uri).await;
    res.expect(200);
    assert!(
        res.body.as_ref() == body,
        "{uri}: bytes differ: {}",
        res.text()
    );
    assert_eq!(res.header("content-type"), Some(media_type), "{uri}");
    assert_eq!(res.header(DIGEST), Some(d.as_str()), "{uri}");
    assert_eq!(res.content_length(), Some(body.len() as u64), "{uri}");
    let res = api.head(&uri).await;
    res.expect(200);
    assert!(res.body.is_empty());
    assert_eq!(res.header("content-type"), Some(media_type), "{uri}");
    assert_eq!(res.header(DIGEST), Some(d.as_str()), "{uri}");
    assert_eq!(res.content_length(), Some(body.len() as u64), "{uri}");
}

#[actix_web::test]
async fn oci_manifest_by_tag_is_served_byte_exact() {
    let (_env, api) = start().await;
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let layer = bytes(2048, 1);
    push_blob(&api, "a", config).await;
    push_blob(&api, "a", &layer).await;
    // Odd spacing, key order and a trailing newline: the bytes are what counts.
    let body = format!(
        "{{\n   \"schemaVersion\" : 2,\n\t\"layers\": [ {} ],\n \"config\":{},\"mediaType\": \"{OCI_MANIFEST}\",\n \"annotations\": {{\"b\":\"1\",\"a\":\"2\"}}\n}}\n\n",
        descriptor(OCI_LAYER, &layer),
        descriptor(OCI_CONFIG, config),
    );
    let d = push_manifest(&api, "a", "latest", OCI_MANIFEST, body.as_bytes()).await;
    assert_served(&api, "a", "latest", OCI_MANIFEST, body.as_bytes()).await;
    assert_served(&api, "a", &d, OCI_MANIFEST, body.as_bytes()).await;
}

#[actix_web::test]
async fn oci_manifest_by_digest() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("by-digest");
    push_blob(&api, "a", &config).await;
    push_blob(&api, "a", &layer).await;
    let d = sha256(&body);
    push_manifest(&api, "a", &d, OCI_MANIFEST, &body).await;
    assert_served(&api, "a", &d, OCI_MANIFEST, &body).await;
    // Pushed by digest only: no tag.
    assert_eq!(api.get("/v2/a/tags/list").await.json()["tags"], json!([]));
}

#[actix_web::test]
async fn sha512_manifest_digest() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("sha512");
    push_blob(&api, "a", &config).await;
    push_blob(&api, "a", &layer).await;
    let d = sha512(&body);
    let res = put_manifest(&api, "a", &d, OCI_MANIFEST, &body).await;
    res.expect(201);
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
    let res = api.get(&format!("/v2/a/manifests/{d}")).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), body.as_slice());
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
}

#[actix_web::test]
async fn oci_index_of_pushed_manifests() {
    let (_env, api) = start().await;
    let amd = push_image(&api, "a", "amd64", "amd").await;
    let arm = push_image(&api, "a", "arm64", "arm").await;
    let entry = |img: &Image, arch: &str| {
        json!({"mediaType": OCI_MANIFEST, "digest": img.digest, "size": img.bytes.len(),
               "platform": {"architecture": arch, "os": "linux"}})
    };
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [entry(&amd, "amd64"), entry(&arm, "arm64")],
    }))
    .unwrap();
    push_manifest(&api, "a", "multi", OCI_INDEX, &body).await;
    assert_served(&api, "a", "multi", OCI_INDEX, &body).await;
}

#[actix_web::test]
async fn docker_schema2_manifest_and_manifest_list() {
    let (_env, api) = start().await;
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}"#;
    let layer = bytes(1500, 2);
    push_blob(&api, "lib/app", config).await;
    push_blob(&api, "lib/app", &layer).await;
    let manifest = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": descriptor("application/vnd.docker.container.image.v1+json", config),
        "layers": [
            descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", &layer),
            // A foreign layer the registry need not hold.
            {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
             "digest": sha256(b"windows base"), "size": 12,
             "urls": ["https://example.com/base.tar.gz"]},
        ],
    }))
    .unwrap();
    let d = push_manifest(&api, "lib/app", "v1", DOCKER_MANIFEST, &manifest).await;
    assert_served(&api, "lib/app", "v1", DOCKER_MANIFEST, &manifest).await;

    let list = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [{"mediaType": DOCKER_MANIFEST, "digest": d, "size": manifest.len(),
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    }))
    .unwrap();
    push_manifest(&api, "lib/app", "v1-list", DOCKER_LIST, &list).await;
    assert_served(&api, "lib/app", "v1-list", DOCKER_LIST, &list).await;
}

#[actix_web::test]
async fn artifact_with_the_empty_config() {
    let (_env, api) = start().await;
    let empty = b"{}";
    assert_eq!(
        push_blob(&api, "a", empty).await,
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    let sbom = br#"{"spdxVersion":"SPDX-2.3"}"#;
    push_blob(&api, "a", sbom).await;
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": descriptor(OCI_EMPTY, empty),
        "layers": [descriptor("application/spdx+json", sbom)],
        "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
    }))
    .unwrap();
    push_manifest(&api, "a", "sbom", OCI_MANIFEST, &body).await;
    assert_served(&api, "a", "sbom", OCI_MANIFEST, &body).await;
}

#[actix_web::test]
async fn media_type_comes_from_the_body_or_the_header() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("no-header");
    push_blob(&api, "a", &config).await;
    push_blob(&api, "a", &layer).await;
    // No Content-Type: the body's mediaType.
    let r = req(actix_web::http::Method::PUT, "/v2/a/manifests/t1").set_payload(body.clone());
    api.send(r).await.expect(201);
    assert_served(&api, "a", "t1", OCI_MANIFEST, &body).await;
    // No mediaType in the body: the header's.
    let bare = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "config": descriptor(OCI_CONFIG, &config),
        "layers": [descriptor(OCI_LAYER, &layer)],
    }))
    .unwrap();
    push_manifest(&api, "a", "t2", OCI_MANIFEST, &bare).await;
    assert_served(&api, "a", "t2", OCI_MANIFEST, &bare).await;
}

#[actix_web::test]
async fn subject_not_present_is_accepted_with_oci_subject() {
    let (_env, api) = start().await;
    let empty = b"{}";
    push_blob(&api, "a", empty).await;
    let subject = sha256(b"a manifest pushed later");
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.signature",
        "config": descriptor(OCI_EMPTY, empty),
        "layers": [descriptor(OCI_EMPTY, empty)],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 23},
    }))
    .unwrap();
    let res = put_manifest(&api, "a", &sha256(&body), OCI_MANIFEST, &body).await;
    res.expect(201);
    assert_eq!(res.header("OCI-Subject"), Some(subject.as_str()));
    // Without a subject there is no such header.
    let res = put_manifest(&api, "a", "plain", OCI_MANIFEST, &image_with_empty(empty)).await;
    res.expect(201);
    assert_eq!(res.header("OCI-Subject"), None);
}

fn image_with_empty(empty: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_EMPTY, empty), "layers": [],
    }))
    .unwrap()
}

#[actix_web::test]
async fn tag_query_parameters_tag_the_manifest() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("tags");
    push_blob(&api, "a", &config).await;
    push_blob(&api, "a", &layer).await;
    let d = sha256(&body);
    let res = put_manifest(
        &api,
        "a",
        &format!("{d}?tag=a&tag=b&tag=a"),
        OCI_MANIFEST,
        &body,
    )
    .await;
    res.expect(201);
    assert_eq!(res.header_all("OCI-Tag"), ["a", "b"]);
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
    for t in ["a", "b"] {
        assert_served(&api, "a", t, OCI_MANIFEST, &body).await;
    }
    assert_eq!(
        api.get("/v2/a/tags/list").await.json()["tags"],
        json!(["a", "b"])
    );
    // Without ?tag= there is no OCI-Tag header.
    let res = put_manifest(&api, "a", "c", OCI_MANIFEST, &body).await;
    res.expect(201);
    assert!(res.header_all("OCI-Tag").is_empty());
}

#[actix_web::test]
async fn pushing_again_is_idempotent_and_a_tag_moves() {
    let (_env, api) = start().await;
    let one = push_image(&api, "a", "latest", "one").await;
    push_manifest(&api, "a", "latest", OCI_MANIFEST, &one.bytes).await;
    assert_served(&api, "a", "latest", OCI_MANIFEST, &one.bytes).await;
    let two = push_image(&api, "a", "latest", "two").await;
    assert_served(&api, "a", "latest", OCI_MANIFEST, &two.bytes).await;
    // The first manifest is still there by digest.
    assert_served(&api, "a", &one.digest, OCI_MANIFEST, &one.bytes).await;
}
