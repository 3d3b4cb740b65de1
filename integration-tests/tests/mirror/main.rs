//! The pull-through mirror (issue 14, docs/mirror.md): pier-registry with `[mirror]` in its
//! TOML file, in front of real upstreams started here, pulled from by real clients.
//!
//! - harness: the upstreams and clients themselves, without Pier (docker-registry filled
//!   and counted, the proxy, a docker engine and containerd pulling from the upstream as
//!   their mirror): when these fail, the others cannot say anything.
//! - config: the contract's `[mirror]` keys are accepted (`check-config`).
//! - skopeo: `hub/library/<x>` byte-identical to the upstream, `default`, `?ns=`, tag
//!   freshness, read-only mirrored repositories.
//! - clients: containerd (`hosts.toml`, `?ns=docker.io` or `override_path`), a docker
//!   engine (`registry-mirrors`) and skopeo with a registries.conf mirror (as podman and
//!   CRI-O) pull through Pier.
//! - failures: upstream stopped, answering 429 or 503, refusing connections: cached
//!   content still served (with `Warning`), misses a clear OCI error naming the upstream.
//! - single_flight: 20 concurrent pulls of one uncached 64 MiB image, one upstream GET per
//!   blob.
//! - streaming: an uncached blob reaches the client while a slow upstream still sends it.
//! - token: a second Pier in token mode as the upstream (the Bearer dance with
//!   credentials), and an anonymous docker engine through a `public` mirror.

mod clients;
mod config;
mod failures;
mod harness;
mod single_flight;
mod skopeo;
mod streaming;
mod token;

use pier_integration_tests::mirror::{Image, MirrorToml, Upstream};
use pier_integration_tests::{require_tool, run, sha256, Registry, Service};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// pier-registry in `auth.mode = "none"` (as the other tests start it) under `dir`, with
/// `mirror` written to `dir/registry.toml` and given as its configuration file.
pub fn start_pier(dir: &Path, mirror: &MirrorToml) -> Service {
    let config = mirror.write(dir);
    Registry::start_with(
        &dir.join("registry"),
        &[("PIER_REGISTRY_CONFIG", config.to_str().unwrap())],
    )
}

/// `skopeo copy` of `src` (`docker://…`, plain HTTP) into a `dir:` directory `out`,
/// digests preserved, every platform of an index when `all`; anonymous unless `creds`.
pub fn skopeo_pull(src: &str, out: &Path, all: bool, creds: Option<&str>) -> std::process::Output {
    require_tool("skopeo");
    let dest = format!("dir:{}", out.display());
    let mut args = vec!["copy", "--preserve-digests", "--src-tls-verify=false"];
    if all {
        args.push("--all");
    }
    match creds {
        Some(c) => args.extend(["--src-creds", c]),
        None => args.push("--src-no-creds"),
    }
    args.extend([src, dest.as_str()]);
    run("skopeo", &args)
}

/// As [`skopeo_pull`], panicking with skopeo's error and `log` unless it succeeds.
pub fn skopeo_pull_ok(src: &str, out: &Path, all: bool, creds: Option<&str>, log: &str) {
    let out = skopeo_pull(src, out, all, creds);
    assert!(
        out.status.success(),
        "skopeo copy {src} failed: {}\nPier's log (end):\n{}",
        String::from_utf8_lossy(&out.stderr),
        tail(log, 40)
    );
}

/// What skopeo wrote to a `dir:` directory is exactly `image`: the manifest bytes, each
/// child manifest of an index (with `--all`), each blob, nothing else.
pub fn assert_pulled(out: &Path, image: &Image, all: bool) {
    let manifest = std::fs::read(out.join("manifest.json")).unwrap();
    assert_eq!(
        sha256(&manifest),
        image.digest(),
        "manifest not byte-identical"
    );
    let mut want: Vec<String> = if all || image.children.is_empty() {
        image.blobs.keys().cloned().collect()
    } else {
        Vec::new()
    };
    if all {
        for (digest, _, bytes) in &image.children {
            let file = out.join(format!("{}.manifest.json", &digest[7..]));
            let got = std::fs::read(&file)
                .unwrap_or_else(|e| panic!("child manifest {}: {e}", file.display()));
            assert_eq!(&got, bytes, "child manifest {digest} differs");
        }
    }
    let mut got = Vec::new();
    for entry in std::fs::read_dir(out).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            let digest = format!("sha256:{name}");
            // Compared byte for byte with what the upstream was given (no 64 MiB hashing
            // in a debug build); a blob the image lacks fails the comparison of names.
            if let Some(want) = image.blobs.get(&digest) {
                let data = std::fs::read(out.join(&name)).unwrap();
                assert!(data == *want, "blob {digest} differs from the upstream's");
            }
            got.push(digest);
        }
    }
    got.sort();
    want.sort();
    assert_eq!(got, want, "blobs pulled differ from the upstream's");
}

/// `GET <base>/v2/<name>/manifests/<reference>` accepting every manifest type: status,
/// headers of interest (`warning`, `docker-content-digest`) and body.
pub fn get_manifest(base: &str, name: &str, reference: &str) -> Reply {
    let url = format!("{base}/v2/{name}/manifests/{reference}");
    let accept = [
        pier_integration_tests::mirror::images::DOCKER_MANIFEST,
        pier_integration_tests::mirror::images::OCI_MANIFEST,
        pier_integration_tests::mirror::images::OCI_INDEX,
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
    .join(", ");
    request("GET", &url, &[("Accept", &accept)])
}

/// A response, whatever its status.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as an OCI error envelope: `(code, message)` of its first error.
    pub fn oci_error(&self) -> (String, String) {
        let v: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not a JSON error body ({e}): {}", self.text()));
        let first = &v["errors"][0];
        let code = first["code"].as_str();
        let message = first["message"].as_str();
        match (code, message) {
            (Some(c), Some(m)) => (c.to_string(), m.to_string()),
            _ => panic!("not an OCI error envelope: {}", self.text()),
        }
    }
}

/// One plain-HTTP request with a 60 s timeout; transport errors panic.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    request_with_body(method, url, headers, None)
}

pub fn request_with_body(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .redirects(0)
        .build();
    let mut req = agent.request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let res = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
        .collect();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// The last `n` lines of `log`.
pub fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// An upstream registry under `dir` holding each `(name, tag, image)`.
pub fn upstream_with(dir: &Path, images: &[(&str, &str, &Image)]) -> Upstream {
    let upstream = Upstream::start(dir);
    for (name, tag, image) in images {
        upstream.push(image, name, tag);
    }
    upstream
}

/// Upstream GETs of every blob of `image` in repository `name`, by digest.
pub fn blob_gets(upstream: &Upstream, name: &str, image: &Image) -> Vec<(String, usize)> {
    image
        .blobs
        .keys()
        .map(|d| (d.clone(), upstream.blob_gets(name, d)))
        .collect()
}
