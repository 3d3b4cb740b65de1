//! The index crash harness: `kill -9` pier-index (a) while clients fetch tokens from
//! `/token` at full speed and (b) while its worker deletes repositories at the registry,
//! restart it on the same address, data and keys, then check what was acknowledged.
//!
//! ```text
//! tokens     every token answered 200 before a kill still works: its refresh token
//!            redeems, its access token pushes at the registry (the repository it allocated
//!            is there); tokens are issued again after each restart; SQLite integrity_check
//! deletion   the index's DELETE to the registry in flight (registry SIGSTOPped) when the
//!            index dies; after the restart every job completes: the names are gone from
//!            index and registry, no job is left, `pier-registry fsck` is clean
//! ```

use super::Rng;
use crate::{basic_auth, sha256, Pier};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USER: &str = "alice";
const PASSWORD: &str = "alice-crash-pw";

/// Index and registry, the index on a port fixed up front so that a restarted index is
/// where the registry's realm and introspection URL say; user alice created.
pub fn start(dir: &Path) -> Pier {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    // bcrypt at its lowest cost: a debug build pays every cache miss after a restart.
    let index_extra = [
        ("PIER_INDEX_HTTP_LISTEN", listen.as_str()),
        ("PIER_INDEX_PASSWORDS_BCRYPT_COST", "4"),
    ];
    let pier = Pier::start_linked_with(dir, 1, &index_extra);
    pier.add_user(USER, PASSWORD);
    pier
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

fn json(r: Result<ureq::Response, ureq::Error>) -> Option<Value> {
    match r {
        Ok(r) if r.status() == 200 => r.into_json().ok(),
        _ => None,
    }
}

/// A token for `scope` as alice, with a refresh token: (access token, refresh token).
fn fetch_token(a: &ureq::Agent, index: &str, scope: &str) -> Option<(String, String)> {
    let v = json(
        a.get(&format!("{index}/token"))
            .query("service", "pier-registry")
            .query("scope", scope)
            .query("offline_token", "true")
            .query("client_id", "crash")
            .set("Authorization", &basic_auth(USER, PASSWORD))
            .call(),
    )?;
    if !v["scope"].as_str()?.contains("push") {
        return None;
    }
    Some((
        v["token"].as_str()?.into(),
        v["refresh_token"].as_str()?.into(),
    ))
}

/// Redeem `refresh` for push on `repo`: granted?
fn redeems(a: &ureq::Agent, index: &str, refresh: &str, repo: &str) -> bool {
    let scope = format!("repository:{repo}:pull,push");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("service", "pier-registry"),
        ("client_id", "crash"),
        ("scope", scope.as_str()),
    ];
    json(a.post(&format!("{index}/token")).send_form(&form))
        .and_then(|v| v["scope"].as_str().map(|s| s.contains("push")))
        .unwrap_or(false)
}

/// Push one small blob to `repo` at the registry with `token`: 201?
fn pushes(a: &ureq::Agent, registry: &str, repo: &str, token: &str) -> bool {
    let data = format!("pushed to {repo}").into_bytes();
    let u = format!(
        "{registry}/v2/{repo}/blobs/uploads/?digest={}",
        sha256(&data)
    );
    a.post(&u)
        .set("Authorization", &format!("Bearer {token}"))
        .send_bytes(&data)
        .is_ok_and(|r| r.status() == 201)
}

/// Figures of the token-issuance crash run.
#[derive(Debug, Default)]
pub struct TokenFigures {
    pub kills: usize,
    /// `/token` requests sent.
    pub requests: usize,
    /// Answered 200 with push granted (a repository allocated, a refresh token stored).
    pub acknowledged: usize,
    /// Acknowledged tokens whose refresh token redeemed and whose access token pushed.
    pub verified: usize,
    pub lost: Vec<String>,
    /// A token issued after the last restart pushed at the registry (within 30 s: the
    /// registry takes writes again once its probe sees the index).
    pub issued_after_restart: bool,
    /// SQLite `PRAGMA integrity_check` of the index database (`ok`; `n/a` on PostgreSQL).
    pub integrity: String,
    pub duration_seconds: f64,
}

impl TokenFigures {
    pub fn json(&self) -> Value {
        serde_json::json!({
            "kills": self.kills, "requests": self.requests,
            "acknowledged": self.acknowledged, "verified": self.verified, "lost": self.lost,
            "issued_after_restart": self.issued_after_restart, "integrity": self.integrity,
            "duration_seconds": (self.duration_seconds * 10.0).round() / 10.0,
        })
    }
}

/// `clients` fetch tokens (each for a new repository, push, with a refresh token) while
/// the index is killed `kills` times, a random 300–900 ms apart.
pub fn tokens(dir: &Path, clients: usize, kills: usize, seed: u64) -> TokenFigures {
    let started = Instant::now();
    let mut pier = start(dir);
    let index = format!("http://{}", pier.index.addr);
    let (done, sent) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let workers: Vec<_> = (0..clients.max(1))
        .map(|c| {
            let (done, sent, index) = (Arc::clone(&done), Arc::clone(&sent), index.clone());
            std::thread::spawn(move || {
                let (a, mut acked) = (agent(), Vec::new());
                for i in 0.. {
                    if done.load(Ordering::SeqCst) {
                        break;
                    }
                    let repo = format!("{USER}/c{c}-{i}");
                    sent.fetch_add(1, Ordering::SeqCst);
                    match fetch_token(&a, &index, &format!("repository:{repo}:pull,push")) {
                        Some((t, r)) => acked.push((repo, t, r)),
                        None => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
                acked
            })
        })
        .collect();
    let mut rng = Rng::new(seed);
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(300 + rng.below(600)));
        pier.restart_index();
    }
    std::thread::sleep(Duration::from_millis(500));
    done.store(true, Ordering::SeqCst);
    let acked: Vec<(String, String, String)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap_or_default())
        .collect();
    let (a, registry) = (agent(), format!("http://{}", pier.registry.addr));
    // The registry refuses writes (503) until its probe (every 2 s) sees the index again.
    let back = Instant::now();
    let issued_after_restart = loop {
        let fresh = fetch_token(&a, &index, "repository:alice/after:pull,push");
        if fresh.is_some_and(|(t, _)| pushes(&a, &registry, "alice/after", &t)) {
            break true;
        }
        if back.elapsed() > Duration::from_secs(30) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // Checked by `clients` threads at once (a redeem and a push each).
    let per = acked.len().div_ceil(clients.max(1)).max(1);
    let lost: Vec<String> = std::thread::scope(|s| {
        let checks: Vec<_> = acked
            .chunks(per)
            .map(|part| s.spawn(|| check_tokens(&index, &registry, part)))
            .collect();
        checks
            .into_iter()
            .flat_map(|c| c.join().unwrap_or_default())
            .collect()
    });
    TokenFigures {
        kills,
        requests: sent.load(Ordering::SeqCst),
        acknowledged: acked.len(),
        verified: acked.len() - lost.len(),
        lost,
        issued_after_restart,
        integrity: integrity(&pier.index_dir()),
        duration_seconds: started.elapsed().as_secs_f64(),
    }
}

/// Each acknowledged (repository, access token, refresh token): what no longer works.
fn check_tokens(index: &str, registry: &str, acked: &[(String, String, String)]) -> Vec<String> {
    let a = agent();
    acked
        .iter()
        .filter_map(|(repo, token, refresh)| {
            if !redeems(&a, index, refresh, repo) {
                Some(format!("{repo}: refresh token refused"))
            } else if !pushes(&a, registry, repo, token) {
                Some(format!("{repo}: push with the access token refused"))
            } else {
                None
            }
        })
        .collect()
}

/// `PRAGMA integrity_check` of the index's SQLite database; `n/a` on PostgreSQL.
fn integrity(index_dir: &Path) -> String {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    if pier_shared::testing::postgres_wanted() {
        return "n/a".into();
    }
    let path = index_dir.join("index.db");
    let mut c = match diesel::SqliteConnection::establish(&path.display().to_string()) {
        Ok(c) => c,
        Err(e) => return format!("cannot open: {e}"),
    };
    match diesel::sql_query("PRAGMA integrity_check").load::<Row>(&mut c) {
        Ok(rows) => rows
            .into_iter()
            .map(|r| r.integrity_check)
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => format!("failed: {e}"),
    }
}

/// Figures of the deletion crash run.
#[derive(Debug, Default)]
pub struct DeletionFigures {
    pub repositories: usize,
    pub kills: usize,
    /// Seconds from the first restart until no deletion job was left.
    pub resumed_in_seconds: f64,
    /// Repositories gone from the index and the registry afterwards.
    pub deleted: usize,
    pub jobs_left: usize,
    pub fsck_problems: usize,
}

impl DeletionFigures {
    pub fn json(&self) -> Value {
        serde_json::json!({
            "repositories": self.repositories, "kills": self.kills,
            "resumed_in_seconds": (self.resumed_in_seconds * 10.0).round() / 10.0,
            "deleted": self.deleted, "jobs_left": self.jobs_left,
            "fsck_problems": self.fsck_problems,
        })
    }
}

/// A config, a layer and a manifest tagged `v1` in `repo`.
fn push_image(a: &ureq::Agent, registry: &str, repo: &str, token: &str) {
    let blob = |data: &[u8]| {
        let u = format!(
            "{registry}/v2/{repo}/blobs/uploads/?digest={}",
            sha256(data)
        );
        let r = a.post(&u).set("Authorization", &format!("Bearer {token}"));
        assert_eq!(r.send_bytes(data).map(|r| r.status()).ok(), Some(201));
    };
    let config = format!("{{\"repo\":\"{repo}\"}}").into_bytes();
    let layer = crate::image::pseudo_random(20_000, repo.len() as u64);
    blob(&config);
    blob(&layer);
    let desc = |m: &str, d: &[u8]| serde_json::json!({"mediaType": m, "digest": sha256(d), "size": d.len()});
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", &config),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", &layer)],
    });
    let r = a
        .put(&format!("{registry}/v2/{repo}/manifests/v1"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .send_bytes(manifest.to_string().as_bytes());
    assert_eq!(r.map(|r| r.status()).ok(), Some(201));
}

fn signal(pid: u32, sig: &str) {
    crate::run_ok("kill", &[sig, &pid.to_string()]);
}

/// Is `repo` gone: unknown to the index's API and `NAME_UNKNOWN` at the registry?
fn gone(a: &ureq::Agent, pier: &Pier, repo: &str) -> bool {
    let index = format!("http://{}", pier.index.addr);
    let api = a
        .get(&format!("{index}/api/v1/repositories/{repo}"))
        .set("Authorization", &basic_auth(USER, PASSWORD))
        .call();
    let Some((token, _)) = fetch_token(a, &index, &format!("repository:{repo}:pull,push")) else {
        return false;
    };
    let r = a
        .get(&format!(
            "http://{}/v2/{repo}/tags/list",
            pier.registry.addr
        ))
        .set("Authorization", &format!("Bearer {token}"))
        .call();
    let unknown = match r {
        Err(ureq::Error::Status(404, r)) => r.into_string().unwrap_or_default(),
        _ => String::new(),
    };
    matches!(api, Err(ureq::Error::Status(404, _))) && unknown.contains("NAME_UNKNOWN")
}

/// Push `repos` repositories, delete them all through the index with the registry
/// frozen (SIGSTOP), so that the index's first DELETE hangs in flight; `kill -9` the
/// index, thaw the registry, restart the index, kill it once more a moment later while
/// the jobs run, restart it, and wait for the jobs to finish (at most `wait` seconds).
pub fn deletion(dir: &Path, repos: usize, wait: u64, seed: u64) -> DeletionFigures {
    let mut pier = start(dir);
    let a = agent();
    let (index, registry) = (
        format!("http://{}", pier.index.addr),
        format!("http://{}", pier.registry.addr),
    );
    let names: Vec<String> = (0..repos).map(|i| format!("{USER}/del{i}")).collect();
    for name in &names {
        let (token, _) =
            fetch_token(&a, &index, &format!("repository:{name}:pull,push")).expect("a push token");
        push_image(&a, &registry, name, &token);
    }
    signal(pier.registry.pid(), "-STOP");
    for name in &names {
        let r = a
            .delete(&format!("{index}/api/v1/repositories/{name}"))
            .set("Authorization", &basic_auth(USER, PASSWORD))
            .call();
        assert_eq!(r.map(|r| r.status()).ok(), Some(204), "delete {name}");
    }
    // The worker runs every second: its first DELETE is now waiting on the frozen registry.
    std::thread::sleep(Duration::from_millis(2500));
    pier.index.stop();
    signal(pier.registry.pid(), "-CONT");
    let restarted = Instant::now();
    pier.restart_index();
    let mut rng = Rng::new(seed);
    std::thread::sleep(Duration::from_millis(100 + rng.below(900)));
    pier.restart_index();
    let jobs = |pier: &Pier| pier.index_cli(&["repo", "deletions"], None).lines().count();
    while jobs(&pier) > 0 && restarted.elapsed() < Duration::from_secs(wait) {
        std::thread::sleep(Duration::from_millis(250));
    }
    let resumed_in_seconds = restarted.elapsed().as_secs_f64();
    let report: Value =
        serde_json::from_str(&pier.registry_cli(&["fsck", "--json"], &[])).expect("fsck JSON");
    DeletionFigures {
        repositories: repos,
        kills: 2,
        resumed_in_seconds,
        deleted: names.iter().filter(|n| gone(&a, &pier, n)).count(),
        jobs_left: jobs(&pier),
        fsck_problems: report["problems"].as_array().map_or(usize::MAX, Vec::len),
    }
}
