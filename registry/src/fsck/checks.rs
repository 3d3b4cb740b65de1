//! The checks, each safe beside live traffic: a suspect is looked at a second time before
//! it is reported, and a file nothing accounts for is only judged once it is older than
//! the GC grace period (until then it may be a push whose row commits a moment later).

use super::report::{Kind, Problem, Report};
use super::{Found, Lease};
use crate::db;
use crate::error::{Error, Result};
use crate::state::Registry;
use crate::storage::{layout, StorageError, StoragePath};
use futures_util::StreamExt;
use pier_shared::Digest;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// `blobs` rows read per query.
const BLOB_BATCH: i64 = 200;

#[derive(Debug, PartialEq, Eq)]
struct Metadata {
    references: Vec<db::fsck::MissingReference>,
    tags: Vec<db::fsck::DanglingTag>,
    orphans: Vec<(usize, String)>,
}

fn metadata_snapshot(c: &mut db::Conn) -> Result<Metadata, db::DbError> {
    let mut orphans = Vec::new();
    for i in 0..db::fsck::ORPHAN_ROWS.len() {
        orphans.extend(db::fsck::orphan_rows(c, i)?.into_iter().map(|w| (i, w)));
    }
    Ok(Metadata {
        references: db::fsck::missing_references(c)?,
        tags: db::fsck::dangling_tags(c)?,
        orphans,
    })
}

/// Manifest references, tags and orphan rows: what two reads in a row both show.
pub async fn metadata(reg: &Registry, report: &mut Report, found: &mut Vec<Found>) -> Result<()> {
    let t = reg.db.run(db::fsck::totals).await?;
    let c = &mut report.checked;
    (c.repositories, c.manifests, c.references) = (t.repositories, t.manifests, t.references);
    (c.tags, c.links, c.uploads) = (t.tags, t.links, t.uploads);
    let first = reg.db.run(metadata_snapshot).await?;
    if first.references.is_empty() && first.tags.is_empty() && first.orphans.is_empty() {
        return Ok(());
    }
    let again = reg.db.run(metadata_snapshot).await?;
    for r in first
        .references
        .iter()
        .filter(|r| again.references.contains(r))
    {
        let what = if r.kind == "manifest" {
            "child manifest"
        } else {
            "blob"
        };
        let p = Problem::new(
            Kind::ManifestReferenceMissing,
            format!(
                "manifest {} references {what} {}, which the repository cannot serve",
                r.manifest, r.digest
            ),
        );
        found.push(Found::new(p.repository(&r.repository).digest(&r.digest)));
    }
    for t in first.tags.iter().filter(|t| again.tags.contains(t)) {
        let p = Problem::new(
            Kind::TagManifestMissing,
            format!(
                "tag {} points at {}, which the repository does not hold",
                t.tag, t.digest
            ),
        );
        found.push(Found::new(p.repository(&t.repository).digest(&t.digest)));
    }
    for (i, what) in first.orphans.iter().filter(|o| again.orphans.contains(o)) {
        let table = db::fsck::ORPHAN_ROWS[*i].0;
        let p = Problem::new(Kind::OrphanRow, format!("{table}: {what}"));
        found.push(Found::row(p, *i));
    }
    Ok(())
}

/// Hash the object at `path` as a stream (memory does not grow with its size): its
/// digest and size, or `None` if it is gone.
pub async fn hash(reg: &Registry, path: &StoragePath, d: &Digest) -> Result<Option<(Digest, u64)>> {
    let mut s = match reg.storage.read(path, 0, None).await {
        Ok(s) => s,
        Err(StorageError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let (mut h, mut n) = (d.algorithm().hasher(), 0u64);
    while let Some(chunk) = s.next().await {
        let chunk = chunk.map_err(|source| StorageError::Io {
            op: "read",
            path: path.to_string(),
            source,
        })?;
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    Ok(Some((h.finish(), n)))
}

async fn row_size(reg: &Registry, digest: &str) -> Result<Option<i64>> {
    let d = digest.to_string();
    Ok(reg.db.run(move |c| db::blobs::size(c, &d)).await?)
}

/// One `blobs` row against its bytes: present, right size, right digest.
async fn blob(
    reg: &Registry,
    row: &db::fsck::BlobRow,
    report: &mut Report,
) -> Result<Option<Found>> {
    let Ok(d) = row.digest.parse::<Digest>() else {
        let p = Problem::new(Kind::OrphanRow, "blobs: a row with a malformed digest");
        return Ok(Some(Found::new(p.digest(&row.digest))));
    };
    let path = layout::blob(&d);
    let problem = |kind, detail: String| {
        Problem::new(kind, detail)
            .digest(&row.digest)
            .path(path.to_string())
    };
    let expected = u64::try_from(row.size).unwrap_or(0);
    let stored = reg.storage.stat(&path).await?;
    let Some(size) = stored else {
        // GC may have deleted the row and then the file since we read the row.
        if row_size(reg, &row.digest).await?.is_some() && reg.storage.stat(&path).await?.is_none() {
            let p = problem(
                Kind::BlobMissing,
                "recorded, but its bytes are not in storage".into(),
            );
            return Ok(Some(Found::blob(p, d)));
        }
        return Ok(None);
    };
    if size != expected {
        let again = reg.storage.stat(&path).await?;
        if row_size(reg, &row.digest).await? == Some(row.size) && again == Some(size) {
            let p = problem(
                Kind::BlobSizeMismatch,
                format!("recorded as {expected} bytes, stored as {size}"),
            );
            return Ok(Some(Found::blob(p, d)));
        }
        return Ok(None);
    }
    let Some((computed, n)) = hash(reg, &path, &d).await? else {
        return Ok(None);
    };
    report.checked.blob_bytes += n;
    if computed != d && row_size(reg, &row.digest).await?.is_some() {
        let p = problem(
            Kind::BlobDigestMismatch,
            format!("its bytes hash to {computed}"),
        );
        return Ok(Some(Found::blob(p, d)));
    }
    Ok(None)
}

/// Every `blobs` row, in batches, renewing the `gc` lease (if held) between them.
pub async fn blobs(
    reg: &Registry,
    report: &mut Report,
    found: &mut Vec<Found>,
    lease: &mut Option<Lease>,
) -> Result<()> {
    let mut after = String::new();
    loop {
        let a = after.clone();
        let rows = reg
            .db
            .run(move |c| db::fsck::blobs_after(c, &a, BLOB_BATCH))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.digest.clone();
        for row in &rows {
            report.checked.blobs += 1;
            if let Some(f) = blob(reg, row, report).await? {
                found.push(f);
            }
        }
        if let Some(l) = lease.as_mut() {
            l.renew(reg).await?;
        }
    }
}

fn older_than(modified: SystemTime, grace: Duration) -> bool {
    SystemTime::now()
        .duration_since(modified)
        .is_ok_and(|age| age >= grace)
}

async fn accounted(reg: &Registry, d: &Digest) -> Result<bool> {
    let d = d.to_string();
    Ok(reg.db.run(move |c| db::fsck::blob_accounted(c, &d)).await?)
}

/// Every object under `blobs/`: each must be at a blob key and accounted for.
pub async fn blob_files(reg: &Registry, report: &mut Report, found: &mut Vec<Found>) -> Result<()> {
    let grace = Duration::from_secs(report.grace_seconds);
    for path in reg.storage.list(&layout::blobs_root()).await? {
        report.checked.blob_files += 1;
        let Some(d) = layout::parse_blob(&path) else {
            let p = Problem::new(Kind::StrayFile, "not at a content-addressed key")
                .path(path.to_string());
            found.push(Found::new(p));
            continue;
        };
        if accounted(reg, &d).await? {
            continue;
        }
        match reg.storage.modified(&path).await? {
            None => continue,
            Some(m) if !older_than(m, grace) => {
                report.within_grace += 1;
                continue;
            }
            Some(_) => {}
        }
        let Some((computed, n)) = hash(reg, &path, &d).await? else {
            continue;
        };
        report.checked.blob_bytes += n;
        if accounted(reg, &d).await? {
            continue;
        }
        let p = if computed == d {
            Problem::new(Kind::OrphanBlobFile, "verified bytes no row records")
        } else {
            Problem::new(
                Kind::UploadVisibleAsBlob,
                format!("unrecorded bytes at this key hash to {computed}"),
            )
        };
        found.push(Found::blob(
            p.digest(d.to_string()).path(path.to_string()),
            d,
        ));
    }
    Ok(())
}

/// Every object under `uploads/`: each must belong to an upload session.
pub async fn upload_files(
    reg: &Registry,
    report: &mut Report,
    found: &mut Vec<Found>,
) -> Result<()> {
    let grace = Duration::from_secs(report.grace_seconds);
    let mut by_id: BTreeMap<uuid::Uuid, Vec<StoragePath>> = BTreeMap::new();
    for path in reg.storage.list(&layout::uploads_root()).await? {
        report.checked.upload_files += 1;
        match layout::parse_upload(&path) {
            Some(id) => by_id.entry(id).or_default().push(path),
            None => {
                let p =
                    Problem::new(Kind::StrayFile, "not an upload's object").path(path.to_string());
                found.push(Found::new(p));
            }
        }
    }
    for (id, paths) in by_id {
        let exists = |id: uuid::Uuid| {
            let s = id.to_string();
            reg.db.run(move |c| db::fsck::upload_exists(c, &s))
        };
        if exists(id).await? {
            continue;
        }
        let mut newest = None;
        for p in &paths {
            newest = newest.max(reg.storage.modified(p).await?);
        }
        match newest {
            None => continue,
            Some(m) if !older_than(m, grace) => {
                report.within_grace += 1;
                continue;
            }
            Some(_) => {}
        }
        // Again: a cancel deletes the row, then the objects.
        if exists(id).await.map_err(Error::from)? || reg.storage.stat(&paths[0]).await?.is_none() {
            continue;
        }
        let p = Problem::new(
            Kind::OrphanUploadFile,
            format!(
                "{} object(s) of upload {id}, which has no session",
                paths.len()
            ),
        );
        found.push(Found::upload(p.path(layout::upload(&id).to_string()), id));
    }
    Ok(())
}
