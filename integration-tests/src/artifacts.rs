//! Content beyond plain images: an image with a `created` time, and a referrer (an
//! SBOM-like artifact with a `subject`) pushed with the raw OCI API, since skopeo cannot.

use crate::{OciLayout, Pier};
use serde_json::{json, Value};

/// An amd64 image whose config says when it was `created`.
pub fn image_created(layout: &OciLayout, seed: u64, created: &str) -> Value {
    let layer = layout.blob(
        "application/vnd.oci.image.layer.v1.tar+gzip",
        &crate::image::pseudo_random(20_000, seed),
    );
    let config = json!({
        "architecture": "amd64", "os": "linux", "created": created,
        "rootfs": { "type": "layers", "diff_ids": [layer["digest"]] },
    });
    let config = layout.blob(
        "application/vnd.oci.image.config.v1+json",
        config.to_string().as_bytes(),
    );
    let manifest = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config, "layers": [layer],
    });
    layout.blob(
        "application/vnd.oci.image.manifest.v1+json",
        manifest.to_string().as_bytes(),
    )
}

/// Push an SBOM-like artifact whose `subject` is `subject` (a descriptor) with the raw
/// API, as `user`; returns its digest.
pub fn push_referrer(pier: &Pier, repo: &str, subject: &Value, user: (&str, &str)) -> String {
    let token = ureq::get(&pier.index.url("/token"))
        .query("service", "pier-registry")
        .query("scope", &format!("repository:{repo}:pull,push"))
        .set("Authorization", &crate::basic_auth(user.0, user.1))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let token: Value = serde_json::from_str(&token).unwrap();
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
    let empty = b"{}";
    let empty_digest = crate::sha256(empty);
    let upload = pier
        .registry
        .url(&format!("/v2/{repo}/blobs/uploads/?digest={empty_digest}"));
    let r = ureq::post(&upload)
        .set("Authorization", &bearer)
        .send_bytes(empty)
        .unwrap();
    assert_eq!(r.status(), 201);
    let empty = json!({ "mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_digest, "size": 2 });
    let mut subject = subject.clone();
    subject.as_object_mut().unwrap().remove("platform");
    let manifest = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/spdx+json", "config": empty, "layers": [empty],
        "subject": subject,
    })
    .to_string();
    let digest = crate::sha256(manifest.as_bytes());
    let r = ureq::put(&pier.registry.url(&format!("/v2/{repo}/manifests/{digest}")))
        .set("Authorization", &bearer)
        .set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .send_string(&manifest)
        .unwrap();
    assert_eq!(r.status(), 201);
    digest
}
