//! The registry crash harness: pushes over real HTTP (monolithic and chunked blob
//! uploads, image manifests, extra tags, manifest deletes) while another thread
//! `kill -9`s the registry at random moments and restarts it on the same storage and
//! database. Every push answered with a 2xx is recorded; at the end each one must be
//! fully readable with the right digest (and each acknowledged delete must stay deleted),
//! and `pier-registry fsck --json` must report no problem.
//!
//! Used by `tests/crash.rs` (a short run) and `pier-bench crash` (the full one).

use crate::server::{Registry, Service};
use crate::sha256;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a crash run does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Push operations in all (each one blob, manifest, tag or delete).
    pub pushes: usize,
    /// Clients pushing at once.
    pub clients: usize,
    /// A kill comes after a random pause in this range (milliseconds).
    pub kill_after_ms: (u64, u64),
    pub seed: u64,
}

/// The figures of one run.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub pushes: usize,
    pub kills: usize,
    /// Pushes answered with 2xx.
    pub acknowledged: usize,
    /// Acknowledged pushes found intact afterwards (blobs, manifests, tags; deletes absent).
    pub verified: usize,
    /// What failed verification, one line each (empty on success).
    pub lost: Vec<String>,
    pub fsck_problems: usize,
    pub fsck_exit: i32,
    pub fsck_within_grace: u64,
    pub duration_seconds: f64,
}

/// A small deterministic generator (xorshift64*), so that a run can be repeated.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What a client was told had succeeded.
#[derive(Debug, Clone)]
enum Acked {
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
type Addr = Arc<Mutex<String>>;

fn url(addr: &Addr, path: &str) -> String {
    let a = addr.lock().map(|a| a.clone()).unwrap_or_default();
    format!("http://{a}{path}")
}

fn agent() -> ureq::Agent {
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
    out.extend((0..n).map(|_| rng.next() as u8));
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

/// One push operation, number `i`, by a client; what it was told succeeded.
fn operation(a: &ureq::Agent, addr: &Addr, rng: &mut Rng, i: usize, mine: &mut Vec<Acked>) {
    let repo = format!("crash/r{}", i % 7);
    match rng.below(10) {
        0..=2 => {
            let data = bytes_for(rng, &format!("blob{i}"));
            let pushed = if rng.below(2) == 0 {
                monolithic(a, addr, &repo, &data)
            } else {
                chunked(a, addr, &repo, &data)
            };
            if pushed {
                mine.push(Acked::Blob {
                    repo,
                    digest: sha256(&data),
                });
            }
        }
        3..=6 => {
            let config = format!("{{\"op\":{i},\"r\":{}}}", rng.next()).into_bytes();
            let layer = bytes_for(rng, &format!("layer{i}"));
            if !(monolithic(a, addr, &repo, &config) && chunked(a, addr, &repo, &layer)) {
                return;
            }
            let body = image_manifest(&config, &layer);
            let tag = format!("t{i}");
            if put_manifest(a, addr, &repo, &tag, &body) {
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
fn wait_up(a: &ureq::Agent, addr: &Addr) {
    for _ in 0..1200 {
        if ok(a.get(&url(addr, "/v2/")).call()).is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Figures {
    /// One JSON line of the figures.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "pushes": self.pushes,
            "kills": self.kills,
            "acknowledged": self.acknowledged,
            "verified": self.verified,
            "lost": self.lost,
            "fsck_problems": self.fsck_problems,
            "fsck_exit": self.fsck_exit,
            "fsck_within_grace": self.fsck_within_grace,
            "duration_seconds": (self.duration_seconds * 10.0).round() / 10.0,
        })
    }
}

/// Check one acknowledged push against the registry; a description of what is wrong.
fn verify(a: &ureq::Agent, addr: &Addr, acked: &Acked) -> Option<String> {
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

/// Run `plan` against a registry keeping its data under `data`; `extra` environment
/// (`PIER_REGISTRY_*`) for the registry and its fsck.
pub fn run(data: &Path, plan: &Plan, extra: &[(&str, &str)]) -> Figures {
    let started = Instant::now();
    let env = Registry::env(data, extra);
    let service = Arc::new(Mutex::new(Some(Service::start(
        "pier-registry",
        data,
        &env,
    ))));
    let addr: Addr = Arc::new(Mutex::new(
        service
            .lock()
            .unwrap()
            .as_ref()
            .map(|s| s.addr.clone())
            .unwrap_or_default(),
    ));
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let (service, addr, done, env, data) = (
            Arc::clone(&service),
            Arc::clone(&addr),
            Arc::clone(&done),
            env.clone(),
            data.to_path_buf(),
        );
        let (lo, hi) = plan.kill_after_ms;
        let mut rng = Rng::new(plan.seed ^ 0x9e37_79b9);
        std::thread::spawn(move || {
            let mut kills = 0;
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(
                    lo + rng.below(hi.saturating_sub(lo) + 1),
                ));
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let mut s = service.lock().unwrap();
                if let Some(old) = s.take() {
                    old.kill();
                }
                kills += 1;
                let new = Service::start("pier-registry", &data, &env);
                *addr.lock().unwrap() = new.addr.clone();
                *s = Some(new);
            }
            kills
        })
    };
    let clients: Vec<_> = (0..plan.clients.max(1))
        .map(|c| {
            let (addr, next, total) = (Arc::clone(&addr), Arc::clone(&next), plan.pushes);
            let mut rng = Rng::new(plan.seed.wrapping_add(c as u64 * 7919));
            std::thread::spawn(move || {
                let (a, mut mine) = (agent(), Vec::new());
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        return mine;
                    }
                    operation(&a, &addr, &mut rng, i, &mut mine);
                    wait_up(&a, &addr);
                }
            })
        })
        .collect();
    let acked: Vec<Acked> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap_or_default())
        .collect();
    done.store(true, Ordering::SeqCst);
    let kills = killer.join().unwrap_or(0);
    let a = agent();
    let lost: Vec<String> = acked.iter().filter_map(|x| verify(&a, &addr, x)).collect();
    // fsck beside the running registry, as an operator would run it, but with no grace
    // period: whatever a kill left behind that nothing accounts for is judged now, not
    // passed over as work in flight.
    let out = std::process::Command::new(crate::server::binary("pier-registry"))
        .args(["fsck", "--json"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PIER_REGISTRY_GC_GRACE_SECONDS", "0")
        .output()
        .expect("run pier-registry fsck");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "fsck printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    if let Some(s) = service.lock().unwrap().take() {
        s.kill();
    }
    Figures {
        pushes: plan.pushes,
        kills,
        acknowledged: acked.len(),
        verified: acked.len() - lost.len(),
        lost,
        fsck_problems: report["problems"].as_array().map_or(usize::MAX, Vec::len),
        fsck_exit: out.status.code().unwrap_or(-1),
        fsck_within_grace: report["within_grace"].as_u64().unwrap_or(0),
        duration_seconds: started.elapsed().as_secs_f64(),
    }
}
