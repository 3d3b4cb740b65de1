//! The workloads of issue #6, each a [`Plan`] run by the closed loop. Setup (pushing what is
//! pulled, generating blobs and manifests, fetching tokens) happens before the clock starts.

pub mod blobs;
pub mod listing;
pub mod manifests;
pub mod mixed;
pub mod proto;
pub mod tokens;

use super::client::Client;
use super::runner::{Ctx, Plan, Unit};
use std::time::Duration;

/// What one `pier-bench run` does.
pub struct Settings {
    /// The registry, e.g. `http://127.0.0.1:5000`.
    pub url: String,
    /// `user:password` for the token realm (bearer mode), if any.
    pub creds: Option<String>,
    /// Namespace of every repository (the user's own in bearer mode).
    pub namespace: String,
    /// Distinguishes repositories and blobs of different runs on one server.
    pub run: String,
    pub salt: u64,
    /// Blob sizes for push and pull.
    pub sizes: Vec<usize>,
    /// Concurrency levels of the manifest reads.
    pub levels: Vec<usize>,
    /// Concurrency of the other small-request workloads.
    pub c: usize,
    pub duration: Duration,
    /// How many tags / repositories `seed` created (listing workloads read them).
    pub seeded: usize,
    /// Smoke mode: tiny counts (correctness only).
    pub smoke: bool,
    /// Workload name prefixes to run (empty: all).
    pub only: Vec<String>,
    /// Token endpoint and refresh token for the token workloads.
    pub token_url: Option<String>,
}

impl Settings {
    pub fn repo(&self, what: &str) -> String {
        format!("{}/{}-{}", self.namespace, self.run, what)
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url, self.creds.as_deref())
    }

    pub fn wants(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| name.starts_with(o.as_str()))
    }

    /// Is any workload whose name starts with `family` wanted (setup shared by a family)?
    pub fn wants_any(&self, family: &str) -> bool {
        self.wants(family) || self.only.iter().any(|o| o.starts_with(family))
    }

    /// A plan for `name`, bounded by the run's duration and `max_ops`.
    pub fn plan(&self, name: &str, unit: Unit, c: usize, max_ops: u64) -> Plan {
        Plan {
            name: name.to_string(),
            unit,
            concurrency: c,
            duration: self.duration,
            max_ops: if self.smoke { max_ops.min(4) } else { max_ops },
            pushes: false,
        }
    }
}

/// Run every selected workload, in the order of the issue.
pub fn run_all(ctx: &Ctx, s: &Settings) -> Result<(), String> {
    blobs::pushes(ctx, s)?;
    blobs::pulls(ctx, s)?;
    blobs::heads(ctx, s)?;
    blobs::mounts(ctx, s)?;
    manifests::run(ctx, s)?;
    listing::run(ctx, s)?;
    mixed::run(ctx, s)?;
    tokens::run(ctx, s)?;
    Ok(())
}

/// Human size for workload names: `1k`, `1m`, `256m`.
pub fn size_name(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{}m", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{}k", n >> 10)
    } else {
        format!("{n}b")
    }
}
