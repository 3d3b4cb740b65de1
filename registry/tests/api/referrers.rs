//! `GET /v2/<name>/referrers/<digest>[?artifactType=]`: manifests whose `subject` is the
//! digest, as an OCI index.

use crate::common::*;
use serde_json::{json, Value};

const SIG: &str = "application/vnd.example.signature";
const SBOM: &str = "application/vnd.example.sbom";

/// Push an artifact about `subject`; returns (digest, size).
async fn push_referrer(
    api: &Api,
    repo: &str,
    subject: &Image,
    artifact_type: Option<&str>,
    config_type: &str,
    annotations: Value,
) -> (String, usize) {
    let empty = b"{}";
    push_blob(api, repo, empty).await;
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(config_type, empty),
        "layers": [descriptor(OCI_EMPTY, empty)],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject.digest, "size": subject.bytes.len()},
        "annotations": annotations,
    });
    if let Some(at) = artifact_type {
        m["artifactType"] = json!(at);
    }
    let body = serde_json::to_vec(&m).unwrap();
    let res = put_manifest(api, repo, &sha256(&body), OCI_MANIFEST, &body).await;
    res.expect(201);
    assert_eq!(res.header("OCI-Subject"), Some(subject.digest.as_str()));
    (sha256(&body), body.len())
}

#[track_caller]
fn assert_index(res: &Res) -> Vec<Value> {
    res.expect(200);
    assert_eq!(res.header("content-type"), Some(OCI_INDEX));
    let v = res.json();
    assert_eq!(v["schemaVersion"], 2);
    assert_eq!(v["mediaType"], OCI_INDEX);
    v["manifests"].as_array().expect("manifests array").clone()
}

fn by_digest(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by(|a, b| a["digest"].as_str().cmp(&b["digest"].as_str()));
    v
}

#[actix_web::test]
async fn referrers_lists_manifests_with_that_subject() {
    let (_env, api) = start().await;
    let subject = push_image(&api, "a", "v1", "subject").await;
    let unrelated = push_image(&api, "a", "v2", "unrelated").await;
    let (sig, sig_size) = push_referrer(
        &api,
        "a",
        &subject,
        Some(SIG),
        OCI_EMPTY,
        json!({"signed-by": "ci"}),
    )
    .await;
    // No artifactType: the config's media type stands in for it.
    let (sbom, sbom_size) = push_referrer(&api, "a", &subject, None, SBOM, json!({"n": "2"})).await;
    push_referrer(&api, "a", &unrelated, Some(SIG), OCI_EMPTY, json!({})).await;

    let res = api
        .get(&format!("/v2/a/referrers/{}", subject.digest))
        .await;
    let got = by_digest(assert_index(&res));
    assert_eq!(res.header("OCI-Filters-Applied"), None);
    let want = by_digest(vec![
        json!({"mediaType": OCI_MANIFEST, "digest": sig, "size": sig_size,
               "artifactType": SIG, "annotations": {"signed-by": "ci"}}),
        json!({"mediaType": OCI_MANIFEST, "digest": sbom, "size": sbom_size,
               "artifactType": SBOM, "annotations": {"n": "2"}}),
    ]);
    assert_eq!(got, want);
}

#[actix_web::test]
async fn artifact_type_filter() {
    let (_env, api) = start().await;
    let subject = push_image(&api, "a", "v1", "subject").await;
    let (sig, _) =
        push_referrer(&api, "a", &subject, Some(SIG), OCI_EMPTY, json!({"k": "v"})).await;
    push_referrer(
        &api,
        "a",
        &subject,
        Some(SBOM),
        OCI_EMPTY,
        json!({"k": "w"}),
    )
    .await;
    let uri = format!("/v2/a/referrers/{}?artifactType={SIG}", subject.digest);
    let res = api.get(&uri).await;
    let got = assert_index(&res);
    assert_eq!(res.header("OCI-Filters-Applied"), Some("artifactType"));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["digest"], sig);
    assert_eq!(got[0]["artifactType"], SIG);
    // A filter nothing matches: empty, still filtered.
    let uri = format!(
        "/v2/a/referrers/{}?artifactType=application/x-none",
        subject.digest
    );
    let res = api.get(&uri).await;
    assert_eq!(assert_index(&res), Vec::<Value>::new());
    assert_eq!(res.header("OCI-Filters-Applied"), Some("artifactType"));
}

#[actix_web::test]
async fn referrer_pushed_before_its_subject_is_listed() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("later");
    let subject = Image {
        digest: sha256(&body),
        bytes: body.clone(),
    };
    let (sig, _) = push_referrer(&api, "a", &subject, Some(SIG), OCI_EMPTY, json!({})).await;
    let got = assert_index(
        &api.get(&format!("/v2/a/referrers/{}", subject.digest))
            .await,
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["digest"], sig);
    // Pushing the subject afterwards changes nothing.
    push_blob(&api, "a", &config).await;
    push_blob(&api, "a", &layer).await;
    push_manifest(&api, "a", "v1", OCI_MANIFEST, &body).await;
    let got = assert_index(
        &api.get(&format!("/v2/a/referrers/{}", subject.digest))
            .await,
    );
    assert_eq!(got.len(), 1);
}

#[actix_web::test]
async fn deleted_referrer_is_no_longer_listed() {
    let (_env, api) = start().await;
    let subject = push_image(&api, "a", "v1", "subject").await;
    let (sig, _) = push_referrer(&api, "a", &subject, Some(SIG), OCI_EMPTY, json!({})).await;
    api.delete(&format!("/v2/a/manifests/{sig}"))
        .await
        .expect(202);
    let got = assert_index(
        &api.get(&format!("/v2/a/referrers/{}", subject.digest))
            .await,
    );
    assert_eq!(got, Vec::<Value>::new());
}

#[actix_web::test]
async fn unknown_subject_or_repository_is_an_empty_index() {
    let (_env, api) = start().await;
    let subject = push_image(&api, "a", "v1", "subject").await;
    push_referrer(&api, "a", &subject, Some(SIG), OCI_EMPTY, json!({})).await;
    let unknown = sha256(b"no such manifest");
    for uri in [
        format!("/v2/a/referrers/{unknown}"),
        format!("/v2/nope/referrers/{unknown}"),
        // Referrers are per repository.
        format!("/v2/b/referrers/{}", subject.digest),
    ] {
        let res = api.get(&uri).await;
        assert_eq!(assert_index(&res), Vec::<Value>::new(), "{uri}");
        assert_eq!(res.header(API_VERSION), Some("registry/2.0"));
    }
}

#[actix_web::test]
async fn invalid_digest_is_400() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "subject").await;
    for d in [
        "sha256:abc",
        "latest",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "",
    ] {
        api.get(&format!("/v2/a/referrers/{d}"))
            .await
            .expect_error(400, "DIGEST_INVALID");
    }
    api.get("/v2/UPPER/referrers/sha256:abc")
        .await
        .expect_error(400, "NAME_INVALID");
}

#[actix_web::test]
async fn filter_values_are_url_decoded_and_empty_means_none() {
    let (_env, api) = start().await;
    let subject = push_image(&api, "a", "v1", "subject").await;
    let spdx = "application/spdx+json";
    let (sbom, _) = push_referrer(&api, "a", &subject, Some(spdx), OCI_EMPTY, json!({})).await;
    push_referrer(&api, "a", &subject, Some(SIG), OCI_EMPTY, json!({})).await;
    let uri = format!(
        "/v2/a/referrers/{}?artifactType=application%2Fspdx%2Bjson",
        subject.digest
    );
    let res = api.get(&uri).await;
    let got = assert_index(&res);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["digest"], sbom);
    assert_eq!(got[0]["artifactType"], spdx);
    let res = api
        .get(&format!("/v2/a/referrers/{}?artifactType=", subject.digest))
        .await;
    assert_eq!(assert_index(&res).len(), 2);
    assert_eq!(res.header("OCI-Filters-Applied"), None);
}
