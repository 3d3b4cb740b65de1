//! The raw protocol, as a client speaks it: tokens from `/token`, blob uploads (monolithic
//! and chunked), manifests, and reading every blob of a repository back with its digest
//! checked. `base` is always `http://host:port` of nginx or of one replica.

use pier_integration_tests::{basic_auth, sha256};
use serde_json::{json, Value};
use std::io::Read;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "alice-pw";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// Status and response of a request, whatever the status.
pub fn send(req: ureq::Request, body: Option<&[u8]>) -> (u16, ureq::Response) {
    let r = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    match r {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(e) => panic!("{e}"),
    }
}

/// A token for `scope` from the index at `index` (nginx or one replica), as alice.
pub fn token(index: &str, scope: &str) -> String {
    token_as(index, scope, USER, PASSWORD)
}

pub fn token_as(index: &str, scope: &str, user: &str, password: &str) -> String {
    let (status, r) = send(
        ureq::get(&format!("{index}/token"))
            .query("service", "pier-registry")
            .query("scope", scope)
            .set("Authorization", &basic_auth(user, password)),
        None,
    );
    assert_eq!(status, 200, "token for {scope}");
    let v: Value = r.into_json().expect("token JSON");
    v["token"].as_str().expect("token").to_string()
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A request to `base` + `path` with the token.
pub fn req(method: &str, base: &str, path: &str, token: &str) -> ureq::Request {
    ureq::request(method, &format!("{base}{path}")).set("Authorization", &bearer(token))
}

/// Push `data` as a blob of `repo` in one POST + PUT; its digest.
pub fn push_blob(base: &str, repo: &str, token: &str, data: &[u8]) -> String {
    let digest = sha256(data);
    let (status, r) = send(
        req("POST", base, &format!("/v2/{repo}/blobs/uploads/"), token),
        None,
    );
    assert_eq!(status, 202, "start upload in {repo} at {base}");
    let location = r.header("Location").expect("Location").to_string();
    let sep = if location.contains('?') { '&' } else { '?' };
    let (status, r) = send(
        req(
            "PUT",
            base,
            &format!("{location}{sep}digest={digest}"),
            token,
        )
        .set("Content-Type", "application/octet-stream"),
        Some(data),
    );
    assert_eq!(
        status,
        201,
        "finish upload: {}",
        r.into_string().unwrap_or_default()
    );
    digest
}

/// Push an image (a config and `layers`) to `repo:tag`; the manifest's digest.
pub fn push_image(base: &str, repo: &str, tag: &str, token: &str, layers: &[Vec<u8>]) -> String {
    let descs: Vec<Value> = layers
        .iter()
        .map(|l| {
            let d = push_blob(base, repo, token, l);
            json!({"mediaType": OCI_LAYER, "digest": d, "size": l.len()})
        })
        .collect();
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": descs.iter().map(|d| d["digest"].clone()).collect::<Vec<_>>()},
        "config": {"Labels": {"tag": tag}},
    })
    .to_string();
    let config_digest = push_blob(base, repo, token, config.as_bytes());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": descs,
    })
    .to_string();
    put_manifest(base, repo, tag, token, manifest.as_bytes())
}

pub fn put_manifest(base: &str, repo: &str, tag: &str, token: &str, body: &[u8]) -> String {
    let (status, r) = send(
        req("PUT", base, &format!("/v2/{repo}/manifests/{tag}"), token)
            .set("Content-Type", OCI_MANIFEST),
        Some(body),
    );
    assert_eq!(
        status,
        201,
        "manifest {repo}:{tag}: {}",
        r.into_string().unwrap_or_default()
    );
    sha256(body)
}

/// The sha256 of what `GET` serves at `path`, read as a stream (never held whole).
pub fn served_digest(base: &str, path: &str, token: &str) -> Result<String, u16> {
    use sha2::{Digest, Sha256};
    let (status, r) = send(req("GET", base, path, token), None);
    if status != 200 {
        return Err(status);
    }
    let mut hasher = Sha256::new();
    let mut reader = r.into_reader();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).expect("read body");
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

/// Every tag of `repo`, its manifest and every blob it names, read through `base` with
/// each digest checked; the number of blobs read. Panics on the first mismatch.
pub fn verify_repository(base: &str, repo: &str, token: &str) -> usize {
    let (status, r) = send(
        req("GET", base, &format!("/v2/{repo}/tags/list"), token),
        None,
    );
    assert_eq!(status, 200, "tags of {repo}");
    let tags: Value = r.into_json().expect("tags JSON");
    let mut blobs = 0;
    for tag in tags["tags"].as_array().into_iter().flatten() {
        let tag = tag.as_str().expect("tag");
        let (status, r) = send(
            req("GET", base, &format!("/v2/{repo}/manifests/{tag}"), token)
                .set("Accept", OCI_MANIFEST),
            None,
        );
        assert_eq!(status, 200, "manifest {repo}:{tag}");
        let manifest: Value = r.into_json().expect("manifest JSON");
        let descs = std::iter::once(&manifest["config"])
            .chain(manifest["layers"].as_array().into_iter().flatten());
        for d in descs {
            let digest = d["digest"].as_str().expect("digest");
            let got = served_digest(base, &format!("/v2/{repo}/blobs/{digest}"), token);
            assert_eq!(got.as_deref(), Ok(digest), "{repo}:{tag} blob {digest}");
            blobs += 1;
        }
    }
    blobs
}
