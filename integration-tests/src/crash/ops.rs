//! The crash harness's client side: one push operation (a monolithic or chunked blob, an
//! image manifest, another tag, a manifest delete) over plain HTTP, what the registry
//! acknowledged, and the check of each acknowledgement afterwards.

use super::Rng;
use crate::sha256;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a client was told had succeeded.
#[derive(Debug, Clone)]
pub(super) enum Acked {
    Blob {
        repo: String,
        digest: String,
    },
    Manifest {
        repo: String,
        reference: String,
        digest: String,
        blobs: Vec<String>,
    },
    Deleted {
        repo: String,
        digest: String,
    },
}

/// The address of the registry now (it changes with each restart).
pub(super) type Addr = Arc<Mutex<String>>;

fn url(addr: &Addr, path: &str) -> String {
    let a = addr.lock().map(|a| a.clone()).unwrap_or_default();
    format!("http://{a}{path}")
}

pub(super) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

fn ok(r: Result<ureq::Response, ureq::Error>) -> Option<ureq::Response> {
    match r {
        Ok(r) if (200..300).contains(&r.status()) => Some(r),
        _ => None,
    }
}

fn bytes_for(rng: &mut Rng, tag: &str) -> Vec<u8> {
    let n = 64 + rng.below(96 * 1024) as usize;
    let mut out = format!("{tag}:").into_bytes();
    out.extend((0..n).map(|_| rng.next_u64() as u8));
    out
}

/// `POST ?digest=` with the whole blob.
fn monolithic(a: &ureq::Agent, addr: &Addr, repo: &str, data: &[u8]) -> bool {
    let d = sha256(data);
    let u = url(addr, &format!("/v2/{repo}/blobs/uploads/?digest={d}"));
    ok(a.post(&u)
        .set("Content-Type", "application/octet-stream")
        .send_bytes(data))
    .is_some()
}

/// `POST`, two `PATCH`es, `PUT ?digest=`.
fn chunked(a: &ureq::Agent, addr: &Addr, repo: &str, data: &[u8]) -> bool {
    let run = || -> Option<()> {
        let r = ok(a
            .post(&url(addr, &format!("/v2/{repo}/blobs/uploads/")))
            .call())?;
        let mut loc = r.header("Location")?.to_string();
        let mid = data.len() / 2;
        for (start, part) in [(0, &data[..mid]), (mid, &data[mid..])] {
            let range = format!("{start}-{}", start + part.len() - 1);
            let r = ok(a
                .patch(&url(addr, &loc))
                .set("Content-Type", "application/octet-stream")
                .set("Content-Range", &range)
                .send_bytes(part))?;
            loc = r.header("Location")?.to_string();
        }
        let sep = if loc.contains('?') { '&' } else { '?' };
        let put = format!("{loc}{sep}digest={}", sha256(data));
        ok(a.put(&url(addr, &put)).call()).map(|_| ())
    };
    run().is_some()
}

fn put_manifest(a: &ureq::Agent, addr: &Addr, repo: &str, reference: &str, body: &[u8]) -> bool {
    let u = url(addr, &format!("/v2/{repo}/manifests/{reference}"));
    let media = "application/vnd.oci.image.manifest.v1+json";
    ok(a.put(&u).set("Content-Type", media).send_bytes(body)).is_some()
}

fn image_manifest(config: &[u8], layer: &[u8]) -> Vec<u8> {
    let desc = |m: &str, d: &[u8]| serde_json::json!({"mediaType": m, "digest": sha256(d), "size": d.len()});
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", config),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
    }))
    .unwrap_or_default()
}

/// Acknowledged operations by kind (`blob_monolithic`, `blob_chunked`, `manifest`, `tag`,
/// `delete`).
pub(super) type Tally = BTreeMap<&'static str, usize>;

/// One push operation, number `i`, by a client; what it was told succeeded goes to `mine`
/// (and is counted in `tally`).
pub(super) fn operation(
    a: &ureq::Agent,
    addr: &Addr,
    rng: &mut Rng,
    i: usize,
    mine: &mut Vec<Acked>,
    tally: &mut Tally,
) {
    let repo = format!("crash/r{}", i % 7);
    match rng.below(10) {
        0..=2 => {
            let data = bytes_for(rng, &format!("blob{i}"));
            let (pushed, kind) = if rng.below(2) == 0 {
                (monolithic(a, addr, &repo, &data), "blob_monolithic")
            } else {
                (chunked(a, addr, &repo, &data), "blob_chunked")
            };
            if pushed {
                *tally.entry(kind).or_default() += 1;
                mine.push(Acked::Blob {
                    repo,
                    digest: sha256(&data),
                });
            }
        }
        3..=6 => {
            let config = format!("{{\"op\":{i},\"r\":{}}}", rng.next_u64()).into_bytes();
            let layer = bytes_for(rng, &format!("layer{i}"));
            if !(monolithic(a, addr, &repo, &config) && chunked(a, addr, &repo, &layer)) {
                return;
            }
            let body = image_manifest(&config, &layer);
            let tag = format!("t{i}");
            if put_manifest(a, addr, &repo, &tag, &body) {
                *tally.entry("manifest").or_default() += 1;
                mine.push(Acked::Manifest {
                    repo,
                    reference: tag,
                    digest: sha256(&body),
                    blobs: vec![sha256(&config), sha256(&layer)],
                });
            }
        }
        7 | 8 => {
            // Tag (again) a manifest this client pushed.
            let Some(Acked::Manifest {
                repo,
                digest,
                blobs,
                ..
            }) = pick(rng, mine)
            else {
                return;
            };
            let body = manifest_bytes(a, addr, &repo, &digest);
            let tag = format!("x{i}");
            if let Some(body) = body {
                if put_manifest(a, addr, &repo, &tag, &body) {
                    *tally.entry("tag").or_default() += 1;
                    mine.push(Acked::Manifest {
                        repo,
                        reference: tag,
                        digest,
                        blobs,
                    });
                }
            }
        }
        _ => {
            // Delete a manifest this client pushed (with its tags).
            let Some(Acked::Manifest { repo, digest, .. }) = pick(rng, mine) else {
                return;
            };
            // Its state is in doubt until the delete is acknowledged.
            mine.retain(|m| !matches!(m, Acked::Manifest { digest: d, .. } if *d == digest));
            let u = url(addr, &format!("/v2/{repo}/manifests/{digest}"));
            if ok(a.delete(&u).call()).is_some() {
                *tally.entry("delete").or_default() += 1;
                mine.push(Acked::Deleted { repo, digest });
            }
        }
    }
}

fn pick(rng: &mut Rng, mine: &[Acked]) -> Option<Acked> {
    let ms: Vec<&Acked> = mine
        .iter()
        .filter(|m| matches!(m, Acked::Manifest { .. }))
        .collect();
    (!ms.is_empty()).then(|| ms[rng.below(ms.len() as u64) as usize].clone())
}

fn manifest_bytes(a: &ureq::Agent, addr: &Addr, repo: &str, reference: &str) -> Option<Vec<u8>> {
    let u = url(addr, &format!("/v2/{repo}/manifests/{reference}"));
    let r = ok(a
        .get(&u)
        .set("Accept", "application/vnd.oci.image.manifest.v1+json")
        .call())?;
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut out).ok()?;
    Some(out)
}

fn blob_intact(a: &ureq::Agent, addr: &Addr, repo: &str, digest: &str) -> bool {
    let u = url(addr, &format!("/v2/{repo}/blobs/{digest}"));
    let Some(r) = ok(a.get(&u).call()) else {
        return false;
    };
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut out).is_ok() && sha256(&out) == digest
}

/// After a failed request: wait (at most a minute) until the registry answers again, so
/// that a restart does not eat the next operations.
pub(super) fn wait_up(a: &ureq::Agent, addr: &Addr) {
    for _ in 0..1200 {
        if ok(a.get(&url(addr, "/v2/")).call()).is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Check one acknowledged push against the registry; a description of what is wrong.
pub(super) fn verify(a: &ureq::Agent, addr: &Addr, acked: &Acked) -> Option<String> {
    match acked {
        Acked::Blob { repo, digest } => {
            (!blob_intact(a, addr, repo, digest)).then(|| format!("blob {repo}@{digest}"))
        }
        Acked::Manifest {
            repo,
            reference,
            digest,
            blobs,
        } => {
            let body = manifest_bytes(a, addr, repo, reference);
            if body.as_deref().map(sha256).as_deref() != Some(digest.as_str()) {
                return Some(format!("manifest {repo}:{reference} ({digest})"));
            }
            blobs
                .iter()
                .find(|b| !blob_intact(a, addr, repo, b))
                .map(|b| format!("blob {b} of manifest {repo}:{reference}"))
        }
        Acked::Deleted { repo, digest } => {
            let u = url(addr, &format!("/v2/{repo}/manifests/{digest}"));
            match a.head(&u).call() {
                Err(ureq::Error::Status(404, _)) => None,
                _ => Some(format!("deleted manifest {repo}@{digest} is back")),
            }
        }
    }
}
