//! Online garbage collection: expire stale upload sessions, apply the untagged policy,
//! and delete the bytes of blobs nothing references, while pushes and pulls go on.
//!
//! ```text
//! lease "gc"                       one replica at a time collects (db `leases`); the
//!                                  others skip their run; renewed between batches
//! phase 1a, one write transaction  expire uploads and v1 sessions · untagged policy
//! phase 1b, batches of 500 blobs,  mark: delete the `blobs` rows of blobs unreferenced
//!   one write transaction each     for the grace period, queue their files (gc_deletions)
//! phase 2, per file                in a write transaction: still queued, still no
//!                                  `blobs` row, no upload claim? → delete the file
//! ```
//!
//! Pushes wait for a write transaction at most one batch long, never for a whole mark. A
//! dry run computes everything in one transaction that it rolls back.
//!
//! Why a push can never end with a manifest naming a missing blob: docs/deletion.md,
//! "The race". This module owns the order of effects; SQL is in `db::gc`, bytes in
//! `storage`. It never touches a file whose digest has a `blobs` row.

pub mod task;

use crate::config::UntaggedPolicy;
use crate::db::{self, DbError};
use crate::error::{Error, Result};
use crate::state::Registry;
use crate::storage::layout;
use pier_shared::Digest;
use serde::Serialize;
use uuid::Uuid;

/// What one run did (or, with `dry_run`, would do).
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    pub dry_run: bool,
    /// Upload sessions expired (rows and files).
    pub uploads_expired: usize,
    /// Untagged manifests deleted by the `delete-after` policy.
    pub manifests_deleted: usize,
    /// Repository links no manifest used, deleted by the `delete-after` policy.
    pub links_deleted: usize,
    /// Blobs whose rows were deleted this run (their files are queued).
    pub blobs_marked: usize,
    /// Blob files deleted (queued by this run or an interrupted earlier one).
    pub blobs_deleted: usize,
    /// Bytes of those files.
    pub bytes_freed: u64,
    /// Another replica holds the GC lease: this run did nothing.
    pub skipped: bool,
}

/// The lease that lets one replica at a time collect garbage.
pub const LEASE: &str = "gc";
/// How long the lease lasts unrenewed (a collector that died frees it after this).
const LEASE_SECONDS: i64 = 300;
/// Blobs marked per write transaction.
const MARK_BATCH: i64 = 500;

enum Phase1Error {
    Db(DbError),
    /// Dry run: everything was computed, nothing may stay.
    Rollback(Phase1),
}

impl From<diesel::result::Error> for Phase1Error {
    fn from(e: diesel::result::Error) -> Self {
        Phase1Error::Db(DbError::Query(e))
    }
}

impl From<DbError> for Phase1Error {
    fn from(e: DbError) -> Self {
        Phase1Error::Db(e)
    }
}

struct Phase1 {
    expired: Vec<String>,
    /// `(upload id, multipart id, key)` of the expired uploads that have one.
    multiparts: Vec<(String, String, String)>,
    manifests: usize,
    links: usize,
    marked: usize,
    pending: Vec<String>,
}

fn ago(now: i64, seconds: u64) -> i64 {
    now.saturating_sub(i64::try_from(seconds).unwrap_or(i64::MAX))
}

async fn lease(reg: &Registry, owner: &str) -> Result<bool> {
    let owner = owner.to_string();
    Ok(reg
        .db
        .run(move |c| pier_shared::db::lease::try_acquire(c, LEASE, &owner, LEASE_SECONDS))
        .await?)
}

/// One garbage collection run. With `dry_run`, phase 1 is rolled back and no file is
/// touched; the report says what would have gone. Skipped (`skipped`) while another
/// replica collects.
pub async fn run(reg: &Registry, dry_run: bool) -> Result<Report> {
    let result = run_unmeasured(reg, dry_run).await;
    if !dry_run {
        reg.metrics.gc.record(&result);
    }
    result
}

async fn run_unmeasured(reg: &Registry, dry_run: bool) -> Result<Report> {
    let owner = Uuid::new_v4().to_string();
    if !dry_run && !lease(reg, &owner).await? {
        log::info!("gc: another replica holds the gc lease; skipped");
        return Ok(Report {
            skipped: true,
            ..Report::default()
        });
    }
    let result = run_leased(reg, dry_run, &owner).await;
    if !dry_run {
        let o = owner.clone();
        let released = reg
            .db
            .run(move |c| pier_shared::db::lease::release(c, LEASE, &o))
            .await;
        if let Err(e) = released {
            log::warn!("gc: could not release the lease (it expires by itself): {e}");
        }
    }
    result
}

/// Phase 1b: mark in batches, renewing the lease between them. Returns how many.
async fn mark_in_batches(reg: &Registry, owner: &str, now: i64, cutoff: i64) -> Result<usize> {
    let (mut after, mut marked) = (String::new(), 0);
    loop {
        let a = after.clone();
        let Some((first, last)) = reg
            .db
            .run(move |c| db::gc::next_batch(c, &a, MARK_BATCH))
            .await?
        else {
            return Ok(marked);
        };
        let (f, l) = (first, last.clone());
        marked += reg
            .db
            .transaction(move |c| {
                Ok::<_, Error>(db::gc::mark(c, now, cutoff, Some((&f, &l)))?.len())
            })
            .await?;
        if !lease(reg, owner).await? {
            return Err(Error::oci(
                pier_shared::ErrorCode::Unavailable,
                "gc: lost the gc lease to another replica",
            ));
        }
        after = last;
    }
}

async fn run_leased(reg: &Registry, dry_run: bool, owner: &str) -> Result<Report> {
    let cfg = reg.config.gc.clone();
    let now = db::now();
    let cutoff = ago(now, cfg.grace_seconds);
    let key = reg.db.lock_key();
    let p1 = reg
        .db
        .run(move |c| {
            let result = pier_shared::db::write_transaction(c, key, |c| {
                let before = ago(now, cfg.upload_max_age_seconds);
                // Their multipart uploads (S3), read before the rows go.
                let stale = db::uploads::stale_ids(c, before, now)?;
                let multiparts = db::uploads::multiparts(c, &stale)?;
                let expired = db::gc::expire_uploads(c, before, now)?;
                let (mut manifests, mut links) = (0, 0);
                if cfg.untagged == UntaggedPolicy::DeleteAfter {
                    let before = ago(now, cfg.untagged_age_seconds);
                    manifests = db::gc::delete_untagged(c, before)?;
                    links = db::gc::delete_unused_links(c, before)?;
                }
                // v1 images of deleted repositories, so that their layers can go.
                db::v1::delete_orphans(c)?;
                db::v1_sessions::expire(c)?;
                if !dry_run {
                    return Ok(Phase1 {
                        expired,
                        multiparts,
                        manifests,
                        links,
                        marked: 0,
                        pending: Vec::new(),
                    });
                }
                let marked = db::gc::mark(c, now, cutoff, None)?.len();
                let mut pending = db::gc::pending(c)?;
                {
                    // What phase 2 would find deletable, seen before the rollback.
                    let mut keep = Vec::new();
                    for d in pending {
                        if db::gc::deletable(c, &d)? {
                            keep.push(d);
                        }
                    }
                    pending = keep;
                }
                let p = Phase1 {
                    expired,
                    multiparts,
                    manifests,
                    links,
                    marked,
                    pending,
                };
                if dry_run {
                    Err(Phase1Error::Rollback(p))
                } else {
                    Ok(p)
                }
            });
            match result {
                Ok(p) | Err(Phase1Error::Rollback(p)) => Ok(p),
                Err(Phase1Error::Db(e)) => Err(Error::Db(e)),
            }
        })
        .await?;
    let (marked, pending) = if dry_run {
        (p1.marked, p1.pending)
    } else {
        let marked = mark_in_batches(reg, owner, now, cutoff).await?;
        (marked, reg.db.run(db::gc::pending).await?)
    };
    let mut report = Report {
        dry_run,
        uploads_expired: p1.expired.len(),
        manifests_deleted: p1.manifests,
        links_deleted: p1.links,
        blobs_marked: marked,
        ..Report::default()
    };
    if !dry_run {
        for id in p1.expired.iter().filter_map(|u| Uuid::parse_str(u).ok()) {
            let multipart = crate::services::multipart_of(&p1.multiparts, &id);
            reg.storage.discard(&id, multipart.as_ref()).await?;
        }
    }
    for d in &pending {
        if let Some(bytes) = sweep(reg, d, dry_run).await? {
            report.blobs_deleted += 1;
            report.bytes_freed += bytes;
        }
    }
    log::info!(
        "gc{}: {} upload(s) expired, {} untagged manifest(s) and {} unused link(s) deleted, \
         {} blob(s) marked, {} blob file(s) deleted, {} bytes freed",
        if dry_run { " (dry run)" } else { "" },
        report.uploads_expired,
        report.manifests_deleted,
        report.links_deleted,
        report.blobs_marked,
        report.blobs_deleted,
        report.bytes_freed
    );
    Ok(report)
}

/// Phase 2 for one queued digest: delete its file if it may go, holding the database's
/// write lock while doing so (a finishing upload claims the digest under the same lock).
/// Returns the bytes freed, or `None` if the delete was cancelled. A dry run only
/// measures the file.
async fn sweep(reg: &Registry, digest: &str, dry_run: bool) -> Result<Option<u64>> {
    let path = digest.parse::<Digest>().ok().map(|d| layout::blob(&d));
    if dry_run {
        return Ok(Some(match &path {
            Some(p) => reg.storage.stat(p).await?.unwrap_or(0),
            None => 0,
        }));
    }
    let storage = std::sync::Arc::clone(&reg.storage);
    let d = digest.to_string();
    reg.db
        .transaction(move |c| {
            if !db::gc::deletable(c, &d)? {
                db::gc::forget(c, &d)?;
                return Ok(None);
            }
            let mut freed = 0;
            if let Some(path) = &path {
                // On a blocking-pool thread, inside the write transaction: waiting for the
                // storage call here is the point (nothing can claim the digest meanwhile).
                let rt = tokio::runtime::Handle::current();
                freed = rt.block_on(storage.stat(path))?.unwrap_or(0);
                rt.block_on(storage.delete(path))?;
                log::info!("gc: deleted blob {d} ({freed} bytes)");
            }
            db::gc::forget(c, &d)?;
            Ok::<_, Error>(Some(freed))
        })
        .await
}
