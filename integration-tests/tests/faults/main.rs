//! Faults (issue #13): what the registry and the index do when what they depend on fails,
//! and that they recover by themselves once it is back.
//!
//! - index_down: the index is killed; reads go on from confirmations younger than the TTL,
//!   pushes and deletes get 503 UNAVAILABLE; the index comes back on the same address and
//!   writes work again without touching the registry.
//! - database: the connection to PostgreSQL is cut (a proxy between service and server) →
//!   503 and recovery, for the registry and for the index; SQLite locked by another process
//!   → writes 503 after the busy timeout, reads go on; recovery.
//! - disk_full: storage and SQLite on a small tmpfs; a push that does not fit is a clean 5xx
//!   with an OCI error body, nothing stored before is damaged, and once space is freed
//!   pushes work again.

mod database;
mod disk_full;
mod index_down;

use pier_integration_tests::bench::client::{Body, Client, Keep, Reply};
use pier_integration_tests::sha256;

/// Push `data` as a blob of `repo` in one request (`POST …?digest=`).
pub fn push_blob(c: &mut Client, repo: &str, data: &[u8]) -> Result<Reply, String> {
    let digest = sha256(data);
    let scope = format!("repository:{repo}:pull,push");
    let body = Body {
        head: data,
        tail: &[],
    };
    c.send(
        "POST",
        &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
        &scope,
        &[("Content-Type", "application/octet-stream")],
        Some(&body),
        Keep::Body,
    )
}

/// An OCI image manifest of one layer (`layer`) and an empty JSON config, both pushed
/// first; returns the manifest's bytes.
pub fn image_manifest(layer: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(CONFIG),
            "size": CONFIG.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": sha256(layer),
            "size": layer.len(),
        }],
    }))
    .unwrap()
}

pub const CONFIG: &[u8] = b"{}";

/// Push an image (config, `layer`, manifest) as `repo:tag`; the first refused request's
/// reply as the error.
pub fn push_image(c: &mut Client, repo: &str, tag: &str, layer: &[u8]) -> Result<(), Reply> {
    for blob in [CONFIG, layer] {
        let r = push_blob(c, repo, blob).map_err(transport)?;
        if r.status != 201 {
            return Err(r);
        }
    }
    let r = put_manifest(c, repo, tag, &image_manifest(layer)).map_err(transport)?;
    if r.status != 201 {
        return Err(r);
    }
    Ok(())
}

pub fn put_manifest(c: &mut Client, repo: &str, tag: &str, m: &[u8]) -> Result<Reply, String> {
    let body = Body { head: m, tail: &[] };
    c.send(
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &format!("repository:{repo}:pull,push"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(&body),
        Keep::Body,
    )
}

/// `GET` `path` with pull on `repo`.
pub fn get(c: &mut Client, repo: &str, path: &str) -> Result<Reply, String> {
    let accept = [(
        "Accept",
        "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
    )];
    c.send(
        "GET",
        path,
        &format!("repository:{repo}:pull"),
        &accept,
        None,
        Keep::Body,
    )
}

/// The image `repo:tag` pushed by [`push_image`] is whole: the manifest is the one pushed
/// and every blob hashes to its digest.
pub fn assert_image_intact(c: &mut Client, repo: &str, tag: &str, layer: &[u8]) {
    let m = get(c, repo, &format!("/v2/{repo}/manifests/{tag}")).unwrap();
    assert_eq!(m.status, 200, "manifest {repo}:{tag}");
    assert_eq!(
        m.body,
        image_manifest(layer),
        "manifest bytes of {repo}:{tag}"
    );
    for blob in [CONFIG, layer] {
        let d = sha256(blob);
        let r = get(c, repo, &format!("/v2/{repo}/blobs/{d}")).unwrap();
        assert_eq!(r.status, 200, "blob {d}");
        assert_eq!(sha256(&r.body), d, "bytes of {d}");
    }
}

/// The OCI error code of a reply (`errors[0].code`), or a description of what came instead.
pub fn oci_code(r: &Reply) -> String {
    serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["errors"][0]["code"].as_str().map(String::from))
        .unwrap_or_else(|| format!("<no OCI error body: {}>", String::from_utf8_lossy(&r.body)))
}

fn transport(e: String) -> Reply {
    Reply {
        status: 0,
        headers: Default::default(),
        body: e.into_bytes(),
        len: 0,
    }
}

/// Poll `f` every 200 ms until it is true or `secs` have passed; whether it became true.
pub fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    false
}
