//! The registry crash harness: pushes over real HTTP (monolithic and chunked blob
//! uploads, image manifests, extra tags, manifest deletes) while another thread
//! `kill -9`s the registry at random moments and restarts it on the same storage and
//! database. Every push answered with a 2xx is recorded; at the end each one must be
//! fully readable with the right digest (and each acknowledged delete must stay deleted),
//! and `pier-registry fsck --json` must report no problem.
//!
//! Used by `tests/crash.rs` (a short run) and `pier-bench crash` (the full one).

pub mod index;
mod ops;

use crate::server::{Registry, Service};
use ops::{agent, operation, verify, wait_up, Acked, Addr, Tally};
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
    /// Acknowledged outcomes checked at the end: each blob, manifest and tag answered
    /// 2xx, and each acknowledged delete (a manifest deleted later is checked as deleted).
    pub acknowledged: usize,
    /// Every operation answered 2xx, by kind (`blob_monolithic`, `blob_chunked`,
    /// `manifest`, `tag`, `delete`).
    pub acknowledged_by_kind: Tally,
    /// Acknowledged pushes found intact afterwards (blobs, manifests, tags; deletes absent).
    pub verified: usize,
    /// What failed verification, one line each (empty on success).
    pub lost: Vec<String>,
    pub fsck_problems: usize,
    pub fsck_exit: i32,
    pub fsck_within_grace: u64,
    pub duration_seconds: f64,
}

pub use crate::rng::Rng;

impl Figures {
    /// One JSON line of the figures.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "pushes": self.pushes,
            "kills": self.kills,
            "acknowledged": self.acknowledged,
            "acknowledged_by_kind": self.acknowledged_by_kind,
            "verified": self.verified,
            "lost": self.lost,
            "fsck_problems": self.fsck_problems,
            "fsck_exit": self.fsck_exit,
            "fsck_within_grace": self.fsck_within_grace,
            "duration_seconds": (self.duration_seconds * 10.0).round() / 10.0,
        })
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
                let (a, mut mine, mut tally) = (agent(), Vec::new(), Tally::new());
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        return (mine, tally);
                    }
                    operation(&a, &addr, &mut rng, i, &mut mine, &mut tally);
                    wait_up(&a, &addr);
                }
            })
        })
        .collect();
    let (mut acked, mut by_kind): (Vec<Acked>, Tally) = Default::default();
    for c in clients {
        let (mine, tally) = c.join().unwrap_or_default();
        acked.extend(mine);
        for (k, n) in tally {
            *by_kind.entry(k).or_default() += n;
        }
    }
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
        acknowledged_by_kind: by_kind,
        verified: acked.len() - lost.len(),
        lost,
        fsck_problems: report["problems"].as_array().map_or(usize::MAX, Vec::len),
        fsck_exit: out.status.code().unwrap_or(-1),
        fsck_within_grace: report["within_grace"].as_u64().unwrap_or(0),
        duration_seconds: started.elapsed().as_secs_f64(),
    }
}
