//! Soak: mixed traffic for minutes (pulls, pushes, token issuance, listings), every answer
//! checked, while the resident memory and open file descriptors of both services are
//! sampled at a fixed interval. Memory is flat when the last minute's mean is close to the
//! first minute's; descriptors must not grow with the number of requests served.

use super::{Rng, Tally};
use crate::bench::client::{Client, Keep};
use crate::bench::data::BlobSet;
use crate::bench::procstat;
use crate::bench::workloads::proto;
use crate::Pier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Plan {
    pub clients: usize,
    pub duration: Duration,
    /// Between two samples of memory and descriptors.
    pub interval: Duration,
    /// The window compared at the start and at the end ("first and last minute").
    pub window: Duration,
    pub seed: u64,
}

#[derive(Clone, Copy)]
struct Sample {
    at_s: f64,
    index_rss_kib: u64,
    registry_rss_kib: u64,
    index_fds: usize,
    registry_fds: usize,
}

/// Open descriptors of `pid` (0 when not readable).
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

const REPOS: usize = 4;
const PULLED: usize = 16;

struct Shared {
    repos: Vec<String>,
    pulled: BlobSet,
    /// Manifest digest of tag `base` in each repository.
    base: Vec<String>,
    pushed: BlobSet,
    next_push: AtomicU64,
    token_url: String,
    creds: String,
    tally: Tally,
}

fn seed_repositories(c: &mut Client, s: &mut Shared) -> Result<(), String> {
    for r in 0..REPOS {
        let repo = s.repos[r].clone();
        for i in 0..PULLED {
            proto::push_monolithic(c, &repo, &s.pulled.body(i), &s.pulled.digests[i])?;
        }
        let size = s.pulled.size();
        let layers: Vec<_> = (1..PULLED)
            .map(|i| (s.pulled.digests[i].as_str(), size))
            .collect();
        let body = proto::manifest((&s.pulled.digests[0], size), &layers, "soak base");
        proto::put_manifest(c, &repo, "base", &body)?;
        s.base.push(crate::sha256(&body));
    }
    Ok(())
}

/// A fresh token from the index's token endpoint (Basic credentials, one scope).
fn issue_token(agent: &ureq::Agent, s: &Shared, repo: &str) -> Result<(), String> {
    let body: serde_json::Value = agent
        .get(&s.token_url)
        .query("service", "pier-registry")
        .query("scope", &proto::scope(repo))
        .set("Authorization", &s.creds)
        .call()
        .map_err(|e| format!("token: {e}"))?
        .into_json()
        .map_err(|e| format!("token json: {e}"))?;
    match body["token"].as_str() {
        Some(t) if !t.is_empty() => Ok(()),
        _ => Err(format!("token response without a token: {body}")),
    }
}

fn push_new(c: &mut Client, s: &Shared, repo: &str) -> Result<(), String> {
    let k = s.next_push.fetch_add(1, Ordering::Relaxed) as usize % s.pushed.len();
    let (d, size) = (&s.pushed.digests[k], s.pushed.size());
    proto::push_monolithic(c, repo, &s.pushed.body(k), d)?;
    let body = proto::manifest(
        (&s.pulled.digests[0], s.pulled.size()),
        &[(d, size)],
        "soak",
    );
    proto::put_manifest(c, repo, &format!("p{k}"), &body)
}

fn client(s: &Shared, url: &str, creds: &str, seed: u64, until: Instant) {
    let mut c = Client::new(url, Some(creds));
    let agent = ureq::AgentBuilder::new().build();
    let mut rng = Rng::new(seed);
    while Instant::now() < until {
        let r = rng.below(REPOS as u64) as usize;
        let repo = &s.repos[r];
        match rng.below(100) {
            0..=39 => {
                let i = rng.below(PULLED as u64) as usize;
                let out = proto::pull(&mut c, repo, &s.pulled.digests[i], s.pulled.size(), true);
                s.tally.record("pull_blob", out.map(|_| ()));
            }
            40..=54 => {
                let out = proto::read_manifest(&mut c, repo, "base", &s.base[r], true);
                s.tally.record("pull_manifest", out);
            }
            55..=69 => s.tally.record("push", push_new(&mut c, s, repo)),
            70..=84 => s.tally.record("token", issue_token(&agent, s, repo)),
            85..=94 => {
                let path = format!("/v2/{repo}/tags/list?n=50");
                let out =
                    proto::list(&mut c, &path, &proto::scope(repo), "tags", true).and_then(|t| {
                        t.contains(&"base".to_string())
                            .then_some(())
                            .ok_or_else(|| "tags/list without base".to_string())
                    });
                s.tally.record("list_tags", out);
            }
            _ => {
                let out = c
                    .send(
                        "GET",
                        "/v2/_catalog?n=100",
                        "registry:catalog:*",
                        &[],
                        None,
                        Keep::Body,
                    )
                    .and_then(|r| r.expect(200, "catalog").map(|_| ()));
                s.tally.record("catalog", out);
            }
        }
    }
}

fn mean(samples: &[Sample], f: impl Fn(&Sample) -> u64) -> u64 {
    if samples.is_empty() {
        return 0;
    }
    samples.iter().map(&f).sum::<u64>() / samples.len() as u64
}

/// Run `plan` against `pier`; the figures as JSON.
pub fn run(pier: &Pier, plan: &Plan) -> serde_json::Value {
    let creds = format!("admin:{}", crate::pier::ADMIN_PASSWORD);
    let url = pier.registry.url("");
    let salt = plan.seed;
    let mut shared = Shared {
        repos: (0..REPOS)
            .map(|i| format!("admin/soak-{salt}-{i}"))
            .collect(),
        pulled: BlobSet::new(256 * 1024, PULLED, salt),
        base: Vec::new(),
        pushed: BlobSet::new(4096, 200_000, salt ^ 0x50a4),
        next_push: AtomicU64::new(0),
        token_url: pier.index.url("/token"),
        creds: crate::basic_auth("admin", crate::pier::ADMIN_PASSWORD),
        tally: Tally::default(),
    };
    let mut c = Client::new(&url, Some(&creds));
    seed_repositories(&mut c, &mut shared).expect("seed the soak repositories");
    let shared = Arc::new(shared);
    let (ipid, rpid) = (pier.index.pid(), pier.registry.pid());
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let started = Instant::now();
    let until = started + plan.duration;
    let sampler = {
        let (samples, interval) = (Arc::clone(&samples), plan.interval);
        std::thread::spawn(move || loop {
            let now = Instant::now();
            samples.lock().unwrap().push(Sample {
                at_s: (now - started).as_secs_f64(),
                index_rss_kib: procstat::sample(ipid).rss_kib,
                registry_rss_kib: procstat::sample(rpid).rss_kib,
                index_fds: fd_count(ipid),
                registry_fds: fd_count(rpid),
            });
            if now >= until {
                return;
            }
            std::thread::sleep(interval.min(until - now));
        })
    };
    let threads: Vec<_> = (0..plan.clients.max(1))
        .map(|id| {
            let (s, url, creds) = (Arc::clone(&shared), url.clone(), creds.clone());
            let seed = salt.wrapping_mul(131).wrapping_add(id as u64);
            std::thread::spawn(move || client(&s, &url, &creds, seed, until))
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    sampler.join().expect("sampler");
    let samples = samples.lock().unwrap().clone();
    let end = samples.last().map_or(0.0, |s| s.at_s);
    let w = plan.window.as_secs_f64();
    let first: Vec<Sample> = samples.iter().copied().filter(|s| s.at_s <= w).collect();
    let last: Vec<Sample> = samples
        .iter()
        .copied()
        .filter(|s| s.at_s >= end - w)
        .collect();
    let fds = |f: fn(&Sample) -> usize| {
        let v: Vec<usize> = samples.iter().map(f).collect();
        serde_json::json!({
            "first": v.first(),
            "first_window_max": first.iter().map(f).max(),
            "last": v.last(),
            "max": v.iter().max(),
        })
    };
    serde_json::json!({
        "clients": plan.clients,
        "seconds": started.elapsed().as_secs_f64(),
        "traffic": shared.tally.json(),
        "sample_interval_seconds": plan.interval.as_secs_f64(),
        "window_seconds": w,
        "index_rss_kib": {
            "first_window_mean": mean(&first, |s| s.index_rss_kib),
            "last_window_mean": mean(&last, |s| s.index_rss_kib),
            "max": samples.iter().map(|s| s.index_rss_kib).max(),
        },
        "registry_rss_kib": {
            "first_window_mean": mean(&first, |s| s.registry_rss_kib),
            "last_window_mean": mean(&last, |s| s.registry_rss_kib),
            "max": samples.iter().map(|s| s.registry_rss_kib).max(),
        },
        "index_fds": fds(|s| s.index_fds),
        "registry_fds": fds(|s| s.registry_fds),
        "samples": samples.iter().map(|s| serde_json::json!([
            (s.at_s * 10.0).round() / 10.0, s.index_rss_kib, s.registry_rss_kib, s.index_fds, s.registry_fds
        ])).collect::<Vec<_>>(),
    })
}
