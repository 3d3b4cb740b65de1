//! Long runs against a running pair (docs/reliability.md, "Concurrency" and "Soak"): many
//! clients at once on few repositories, or mixed traffic for minutes, every answer checked.
//! `pier-bench concurrency` and `pier-bench soak` run the full ones; tests/stress.rs the short.

pub mod concurrency;
pub mod soak;

use crate::Pier;
use std::collections::BTreeMap;
use std::sync::Mutex;

pub use crate::rng::Rng;

/// What the clients of a run saw: operations by kind, documented outcomes, errors.
#[derive(Default)]
pub struct Tally {
    inner: Mutex<TallyInner>,
}

#[derive(Default)]
struct TallyInner {
    ops: BTreeMap<&'static str, u64>,
    documented: BTreeMap<&'static str, u64>,
    errors: u64,
    first_errors: Vec<String>,
}

impl Tally {
    /// One operation of `kind`: its outcome.
    pub fn record(&self, kind: &'static str, outcome: Result<(), String>) {
        let mut t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *t.ops.entry(kind).or_default() += 1;
        if let Err(e) = outcome {
            t.errors += 1;
            if t.first_errors.len() < 20 {
                t.first_errors.push(format!("{kind}: {e}"));
            }
        }
    }

    /// An answer the protocol allows that is not the usual one (counted, not an error).
    pub fn documented(&self, what: &'static str) {
        let mut t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *t.documented.entry(what).or_default() += 1;
    }

    pub fn errors(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).errors
    }

    pub fn json(&self) -> serde_json::Value {
        let t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        serde_json::json!({
            "operations": t.ops.values().sum::<u64>(),
            "by_kind": t.ops,
            "documented": t.documented,
            "errors": t.errors,
            "first_errors": t.first_errors,
        })
    }
}

/// `pier-registry fsck --json` beside the running registry: (exit code, problems, report).
pub fn fsck(pier: &Pier) -> (i32, usize, serde_json::Value) {
    let out = std::process::Command::new(crate::server::binary("pier-registry"))
        .args(["fsck", "--json"])
        .envs(
            pier.registry_env()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .output()
        .expect("run pier-registry fsck");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "fsck printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let problems = report["problems"].as_array().map_or(usize::MAX, Vec::len);
    (out.status.code().unwrap_or(-1), problems, report)
}

/// Whether a concurrency run's figures pass: no errors, no problem after the run, fsck clean.
pub fn judge_concurrency(f: &serde_json::Value) -> Result<(), String> {
    let errors = f["traffic"]["errors"].as_u64().unwrap_or(u64::MAX);
    let problems = f["problems"].as_array().map_or(usize::MAX, Vec::len);
    let fsck = (f["fsck_exit"].as_i64(), f["fsck_problems"].as_u64());
    if errors != 0 || problems != 0 || fsck != (Some(0), Some(0)) {
        return Err(format!(
            "{errors} errors, {problems} problems after the run, fsck {fsck:?}"
        ));
    }
    Ok(())
}

/// Whether a soak run's figures pass: no errors; resident memory of each service in the last
/// window within `rss_slack` (a fraction) of the first window's, plus 8 MiB for allocator
/// noise; no more descriptors at the end than at the peak of the first window plus 4.
pub fn judge_soak(f: &serde_json::Value, rss_slack: f64) -> Result<(), String> {
    let errors = f["traffic"]["errors"].as_u64().unwrap_or(u64::MAX);
    if errors != 0 {
        return Err(format!("{errors} errors: {}", f["traffic"]["first_errors"]));
    }
    for svc in ["index", "registry"] {
        let rss = &f[format!("{svc}_rss_kib")];
        let (a, b) = (
            rss["first_window_mean"].as_u64().unwrap_or(0) as f64,
            rss["last_window_mean"].as_u64().unwrap_or(u64::MAX) as f64,
        );
        if b > a * (1.0 + rss_slack) + 8192.0 {
            return Err(format!("{svc} memory grew: {a} KiB → {b} KiB"));
        }
        let fds = &f[format!("{svc}_fds")];
        let (first, last) = (fds["first_window_max"].as_u64(), fds["last"].as_u64());
        if last.unwrap_or(u64::MAX) > first.unwrap_or(0) + 4 {
            return Err(format!("{svc} descriptors grew: {first:?} → {last:?}"));
        }
    }
    Ok(())
}

/// A token-mode pair under `dir` for a run (database per `PIER_TEST_DATABASE`, storage per
/// `PIER_TEST_STORAGE`, as in the tests), confirming tokens with a 5-second cache.
pub fn start_pier(dir: &std::path::Path) -> Pier {
    Pier::start_linked(dir, 5)
}
