//! The distribution protocol steps the workloads are made of, each checking status codes
//! and digests: uploads (monolithic, chunked), mounts, manifests, listings.

use crate::bench::client::{Body, Client, Keep, Reply};

/// The scope a worker asks for on `repo`.
pub fn scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push")
}

/// `loc` plus a query parameter.
fn with_param(loc: &str, param: &str) -> String {
    let sep = if loc.contains('?') { '&' } else { '?' };
    format!("{loc}{sep}{param}")
}

fn location(r: &Reply, what: &str) -> Result<String, String> {
    r.header("location")
        .map(str::to_string)
        .ok_or_else(|| format!("{what}: no Location"))
}

fn check_digest(r: &Reply, digest: &str, what: &str) -> Result<(), String> {
    match r.header("docker-content-digest") {
        Some(d) if d != digest => Err(format!("{what}: Docker-Content-Digest {d}, want {digest}")),
        _ => Ok(()),
    }
}

pub fn start_upload(c: &mut Client, repo: &str, scope: &str) -> Result<String, String> {
    let r = c.send(
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        scope,
        &[],
        None,
        Keep::Body,
    )?;
    location(&r.expect(202, "POST upload")?, "POST upload")
}

/// POST, then PUT the whole body with `?digest=`.
pub fn push_monolithic(
    c: &mut Client,
    repo: &str,
    body: &Body,
    digest: &str,
) -> Result<(), String> {
    let scope = scope(repo);
    let loc = start_upload(c, repo, &scope)?;
    let ct = [("Content-Type", "application/octet-stream")];
    let url = with_param(&loc, &format!("digest={digest}"));
    let r = c.send("PUT", &url, &scope, &ct, Some(body), Keep::Body)?;
    check_digest(&r.expect(201, "PUT blob")?, digest, "PUT blob")
}

/// POST, PATCH in `chunk`-byte pieces with `Content-Range`, then PUT `?digest=`.
pub fn push_chunked(
    c: &mut Client,
    repo: &str,
    body: &Body,
    digest: &str,
    chunk: usize,
) -> Result<(), String> {
    let scope = scope(repo);
    let mut loc = start_upload(c, repo, &scope)?;
    let total = body.len() as usize;
    let mut start = 0;
    while start < total {
        let end = (start + chunk).min(total);
        let range = format!("{start}-{}", end - 1);
        let part = slice(body, start, end);
        let h = [
            ("Content-Type", "application/octet-stream"),
            ("Content-Range", range.as_str()),
        ];
        let r = c.send("PATCH", &loc, &scope, &h, Some(&part), Keep::Body)?;
        loc = location(&r.expect(202, "PATCH chunk")?, "PATCH chunk")?;
        start = end;
    }
    let url = with_param(&loc, &format!("digest={digest}"));
    let r = c.send("PUT", &url, &scope, &[], None, Keep::Body)?;
    check_digest(&r.expect(201, "PUT chunked")?, digest, "PUT chunked")
}

/// Bytes `start..end` of a head+tail body.
fn slice<'a>(b: &Body<'a>, start: usize, end: usize) -> Body<'a> {
    let hl = b.head.len();
    Body {
        head: &b.head[start.min(hl)..end.min(hl)],
        tail: &b.tail[start.max(hl) - hl..end.max(hl) - hl],
    }
}

/// GET a blob; checks its length, and its digest when `verify`.
pub fn pull(
    c: &mut Client,
    repo: &str,
    digest: &str,
    size: u64,
    verify: bool,
) -> Result<u64, String> {
    let keep = if verify { Keep::Body } else { Keep::Count };
    let r = c.send(
        "GET",
        &format!("/v2/{repo}/blobs/{digest}"),
        &scope(repo),
        &[],
        None,
        keep,
    )?;
    let r = r.expect(200, "GET blob")?;
    if r.len != size {
        return Err(format!("GET blob: {} bytes, want {size}", r.len));
    }
    if verify && crate::sha256(&r.body) != digest {
        return Err("GET blob: body does not match its digest".into());
    }
    Ok(r.len)
}

/// HEAD a blob: 200 with the digest, or 404 when `present` is false.
pub fn head_blob(c: &mut Client, repo: &str, digest: &str, present: bool) -> Result<(), String> {
    let r = c.send(
        "HEAD",
        &format!("/v2/{repo}/blobs/{digest}"),
        &scope(repo),
        &[],
        None,
        Keep::Count,
    )?;
    if present {
        check_digest(&r.expect(200, "HEAD blob")?, digest, "HEAD blob")
    } else {
        r.expect(404, "HEAD absent blob").map(|_| ())
    }
}

/// `POST …/blobs/uploads/?mount=<digest>&from=<from>` → 201.
pub fn mount(c: &mut Client, repo: &str, from: &str, digest: &str) -> Result<(), String> {
    let scope = format!("{} repository:{from}:pull", scope(repo));
    let path = format!("/v2/{repo}/blobs/uploads/?mount={digest}&from={from}");
    let r = c.send("POST", &path, &scope, &[], None, Keep::Body)?;
    check_digest(&r.expect(201, "mount")?, digest, "mount")
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An OCI image manifest over `config` and `layers` (digest, size), with an annotation.
pub fn manifest(config: (&str, u64), layers: &[(&str, u64)], note: &str) -> Vec<u8> {
    let desc = |mt: &str, (d, s): (&str, u64)| serde_json::json!({"mediaType": mt, "digest": d, "size": s});
    let layers: Vec<_> = layers
        .iter()
        .map(|l| desc("application/vnd.oci.image.layer.v1.tar", *l))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": desc("application/vnd.oci.image.config.v1+json", config),
        "layers": layers,
        "annotations": {"org.example.bench": note},
    }))
    .expect("manifest json")
}

/// PUT a manifest under `reference` → 201 with its digest.
pub fn put_manifest(
    c: &mut Client,
    repo: &str,
    reference: &str,
    body: &[u8],
) -> Result<(), String> {
    let b = Body {
        head: body,
        tail: &[],
    };
    let h = [("Content-Type", OCI_MANIFEST)];
    let path = format!("/v2/{repo}/manifests/{reference}");
    let r = c.send("PUT", &path, &scope(repo), &h, Some(&b), Keep::Body)?;
    check_digest(
        &r.expect(201, "PUT manifest")?,
        &crate::sha256(body),
        "PUT manifest",
    )
}

/// HEAD or GET a manifest; checks the digest header and (GET) the body's digest.
pub fn read_manifest(
    c: &mut Client,
    repo: &str,
    reference: &str,
    digest: &str,
    get: bool,
) -> Result<(), String> {
    let h = [("Accept", OCI_MANIFEST)];
    let method = if get { "GET" } else { "HEAD" };
    let path = format!("/v2/{repo}/manifests/{reference}");
    let r = c.send(method, &path, &scope(repo), &h, None, Keep::Body)?;
    let r = r.expect(200, method)?;
    check_digest(&r, digest, method)?;
    if r.header("docker-content-digest").is_none() {
        return Err(format!("{method} manifest: no Docker-Content-Digest"));
    }
    if get && crate::sha256(&r.body) != digest {
        return Err("GET manifest: body does not match its digest".into());
    }
    Ok(())
}

/// GET a listing (`tags/list` or `_catalog`) and follow `Link` to the end, or one page if
/// `one_page`; returns the entries under `key`.
pub fn list(
    c: &mut Client,
    path: &str,
    scope: &str,
    key: &str,
    one_page: bool,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut next = Some(path.to_string());
    for _ in 0..10_000 {
        let Some(p) = next.take() else { break };
        let r = c
            .send("GET", &p, scope, &[], None, Keep::Body)?
            .expect(200, "list")?;
        let v: serde_json::Value =
            serde_json::from_slice(&r.body).map_err(|e| format!("list json: {e}"))?;
        let items = v[key].as_array().ok_or_else(|| format!("list: no {key}"))?;
        out.extend(items.iter().filter_map(|s| s.as_str().map(str::to_string)));
        if !one_page {
            next = r.header("link").and_then(link_target);
        }
    }
    Ok(out)
}

/// `</v2/…?n=2&last=x>; rel="next"` → `/v2/…?n=2&last=x`.
fn link_target(h: &str) -> Option<String> {
    let s = h.split_once('<')?.1;
    Some(s.split_once('>')?.0.to_string())
}
