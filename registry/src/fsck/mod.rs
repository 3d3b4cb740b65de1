//! `pier-registry fsck [--repair] [--json]`: the consistency check, online.
//!
//! ```text
//! metadata   every manifest's references servable, every tag's manifest present,
//!            no row pointing at a row that is gone        (single statements, read twice)
//! blobs      every `blobs` row: bytes present, recorded size, hash to the digest
//! files      every object under blobs/ at a blob key and recorded (or claimed by an
//!            upload, or queued by GC); under uploads/ one of a session
//! repair     with --repair, under the `gc` lease: see `repair`
//! ```
//!
//! It runs beside live traffic: a suspect is looked at again before it is reported, and
//! a file nothing accounts for is judged only once it is older than `gc.grace_seconds`
//! (until then it may be a push in flight). SQL is in `db::fsck`, bytes go through the
//! `Storage` trait; blobs are hashed as streams. What each problem means and what repair
//! does about it: docs/reliability.md, "Consistency check (fsck)".

mod checks;
mod repair;
pub mod report;

use crate::config::{RegistryConfig, StorageDriver};
use crate::error::{Error, Result};
use crate::gc::LEASE;
use crate::state::Registry;
use pier_shared::db::Backend;
use pier_shared::Digest;
pub use report::{Kind, Problem, Repaired, Report};
use std::time::Instant;
use uuid::Uuid;

/// How long the `gc` lease lasts unrenewed while fsck repairs (renewed every batch).
const LEASE_SECONDS: i64 = 300;
/// Renew the lease when it was last renewed this long ago.
const RENEW_AFTER_SECONDS: u64 = 60;

/// A problem, with what repair needs to act on it.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub problem: Problem,
    pub blob: Option<Digest>,
    pub upload: Option<Uuid>,
    /// Index into `db::fsck::ORPHAN_ROWS`.
    pub row: Option<usize>,
}

impl Found {
    fn new(problem: Problem) -> Found {
        Found {
            problem,
            blob: None,
            upload: None,
            row: None,
        }
    }

    fn blob(problem: Problem, d: Digest) -> Found {
        Found {
            blob: Some(d),
            ..Found::new(problem)
        }
    }

    fn upload(problem: Problem, id: Uuid) -> Found {
        Found {
            upload: Some(id),
            ..Found::new(problem)
        }
    }

    fn row(problem: Problem, i: usize) -> Found {
        Found {
            row: Some(i),
            ..Found::new(problem)
        }
    }
}

/// The `gc` lease, held by a repairing run so that it never races a GC run.
pub(crate) struct Lease {
    owner: String,
    renewed: Instant,
}

impl Lease {
    async fn take(reg: &Registry) -> Result<Lease> {
        let lease = Lease {
            owner: Uuid::new_v4().to_string(),
            renewed: Instant::now(),
        };
        if !lease.acquire(reg).await? {
            return Err(Error::oci(
                pier_shared::ErrorCode::Unavailable,
                "another process holds the gc lease (a GC run or another fsck --repair); \
                 try again when it is done",
            ));
        }
        Ok(lease)
    }

    async fn acquire(&self, reg: &Registry) -> Result<bool> {
        let owner = self.owner.clone();
        Ok(reg
            .db
            .run(move |c| pier_shared::db::lease::try_acquire(c, LEASE, &owner, LEASE_SECONDS))
            .await?)
    }

    pub(crate) async fn renew(&mut self, reg: &Registry) -> Result<()> {
        if self.renewed.elapsed().as_secs() < RENEW_AFTER_SECONDS {
            return Ok(());
        }
        if !self.acquire(reg).await? {
            return Err(Error::oci(
                pier_shared::ErrorCode::Unavailable,
                "fsck: lost the gc lease",
            ));
        }
        self.renewed = Instant::now();
        Ok(())
    }

    async fn release(self, reg: &Registry) {
        let owner = self.owner;
        let r = reg
            .db
            .run(move |c| pier_shared::db::lease::release(c, LEASE, &owner))
            .await;
        if let Err(e) = r {
            log::warn!("fsck: could not release the gc lease (it expires by itself): {e}");
        }
    }
}

/// Before opening anything: a check of a database or storage root that is not there
/// would create them empty (opening migrates, the filesystem driver makes its root) and
/// then report "clean". A SQLite file that does not exist, or a filesystem root that is
/// not a directory, means fsck cannot run (exit 2): most likely the wrong configuration.
pub fn preflight(config: &RegistryConfig) -> std::result::Result<(), String> {
    let url = config.database.url.expose();
    if let Ok((Backend::Sqlite, path)) = Backend::of(url) {
        if !std::path::Path::new(&path).is_file() {
            return Err(format!(
                "no SQLite database at {path} (is this the registry's configuration?)"
            ));
        }
    }
    let root = &config.storage.root;
    if config.storage.driver == StorageDriver::Filesystem && !root.is_dir() {
        return Err(format!(
            "storage root {} is not a directory (is this the registry's configuration?)",
            root.display()
        ));
    }
    Ok(())
}

/// One check of the whole registry; with `repair`, also the repairs (holding the `gc`
/// lease throughout). An error means the check could not run to its end.
pub async fn run(reg: &Registry, repair: bool) -> Result<Report> {
    let started = Instant::now();
    let mut lease = match repair {
        true => Some(Lease::take(reg).await?),
        false => None,
    };
    let result = scan_and_repair(reg, repair, &mut lease).await;
    if let Some(l) = lease {
        l.release(reg).await;
    }
    let mut report = result?;
    report.duration_seconds = started.elapsed().as_secs_f64();
    log::info!(
        "fsck: {} problem(s), {} repaired, {} blob(s) and {} file(s) checked",
        report.problems.len(),
        report.repaired.len(),
        report.checked.blobs,
        report.checked.blob_files + report.checked.upload_files
    );
    Ok(report)
}

async fn scan_and_repair(
    reg: &Registry,
    repair: bool,
    lease: &mut Option<Lease>,
) -> Result<Report> {
    let mut report = Report {
        repair,
        grace_seconds: reg.config.gc.grace_seconds,
        ..Report::default()
    };
    let mut found = Vec::new();
    checks::metadata(reg, &mut report, &mut found).await?;
    checks::blobs(reg, &mut report, &mut found, lease).await?;
    checks::blob_files(reg, &mut report, &mut found).await?;
    checks::upload_files(reg, &mut report, &mut found).await?;
    if let Some(l) = lease.as_mut() {
        l.renew(reg).await?;
        report.repaired = repair::all(reg, &found).await?;
    }
    report.problems = found.into_iter().map(|f| f.problem).collect();
    Ok(report)
}
