//! `--repair`: what fsck does about each problem, run while holding the `gc` lease.
//!
//! ```text
//! orphan_blob_file        file deleted                 } in one write transaction that
//! upload_visible_as_blob  bytes moved to quarantine/   } first checks again that nothing
//!                                                      } accounts for the digest
//! blob_digest_mismatch,   bytes moved to quarantine/, the `blobs` row and its links
//! blob_size_mismatch      deleted: no longer served; a push of the blob restores it
//! blob_missing            the `blobs` row and its links deleted (HEAD then says 404, so
//!                         clients upload the blob again instead of skipping it)
//! orphan_upload_file      the upload's objects deleted
//! orphan_row              the rows deleted
//! manifest_reference_missing, tag_manifest_missing, stray_file: reported only (the
//!                         user's manifests and tags are never deleted by fsck)
//! ```
//!
//! Storage calls that must not race a push run inside the write transaction, as GC's
//! sweep does: no upload can claim the digest meanwhile (`commit_blob` claims it under the
//! same lock before it trusts a file at its key).

use super::report::{Kind, Repaired};
use super::Found;
use crate::db;
use crate::error::{Error, Result};
use crate::state::Registry;
use crate::storage::{layout, Storage};
use pier_shared::Digest;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Repair what can be repaired of `found`; what was done.
pub async fn all(reg: &Registry, found: &[Found]) -> Result<Vec<Repaired>> {
    let mut out = Vec::new();
    let mut tables = BTreeSet::new();
    for f in found {
        let kind = f.problem.kind;
        let action = match (kind, &f.blob, f.upload, f.row) {
            (Kind::OrphanBlobFile | Kind::UploadVisibleAsBlob, Some(d), _, _) => {
                unrecorded_file(reg, d, kind == Kind::OrphanBlobFile).await?
            }
            (
                Kind::BlobDigestMismatch | Kind::BlobSizeMismatch | Kind::BlobMissing,
                Some(d),
                _,
                _,
            ) => recorded(reg, d, kind).await?,
            (Kind::OrphanUploadFile, _, Some(id), _) => {
                reg.storage.discard(&id, None).await?;
                Some("deleted".to_string())
            }
            (Kind::OrphanRow, _, _, Some(i)) if tables.insert(i) => {
                let n = reg
                    .db
                    .transaction(move |c| Ok::<_, Error>(db::fsck::delete_orphan_rows(c, i)?))
                    .await?;
                Some(format!(
                    "deleted {n} orphan row(s) of {}",
                    db::fsck::ORPHAN_ROWS[i].0
                ))
            }
            _ => None,
        };
        if let Some(action) = action {
            log::warn!(
                "fsck: repaired {} {}: {action}",
                kind.as_str(),
                f.problem
                    .digest
                    .as_deref()
                    .or(f.problem.path.as_deref())
                    .unwrap_or("")
            );
            out.push(Repaired {
                kind,
                digest: f.problem.digest.clone(),
                path: f.problem.path.clone(),
                action,
            });
        }
    }
    Ok(out)
}

/// Move a blob's bytes to `quarantine/` (copy, then delete the original).
async fn quarantine(storage: &Arc<dyn Storage>, d: &Digest) -> Result<String> {
    let (from, to) = (layout::blob(d), layout::quarantine(d));
    storage.copy(&from, &to).await?;
    storage.delete(&from).await?;
    Ok(to.to_string())
}

/// A file at a blob key that no row records: delete it (verified bytes, an orphan) or
/// quarantine it (bytes that do not match the key), if still nothing accounts for it.
async fn unrecorded_file(reg: &Registry, d: &Digest, delete: bool) -> Result<Option<String>> {
    let storage = Arc::clone(&reg.storage);
    let d = d.clone();
    reg.db
        .transaction(move |c| {
            if db::fsck::blob_accounted(c, &d.to_string())? {
                return Ok(None);
            }
            // On a blocking-pool thread, inside the write transaction (as GC's sweep).
            let rt = tokio::runtime::Handle::current();
            if delete {
                rt.block_on(storage.delete(&layout::blob(&d)))?;
                Ok(Some("deleted".to_string()))
            } else {
                let to = rt.block_on(quarantine(&storage, &d))?;
                Ok::<_, Error>(Some(format!("moved to {to}")))
            }
        })
        .await
}

/// A recorded blob whose bytes are wrong or gone: take it out of service.
async fn recorded(reg: &Registry, d: &Digest, kind: Kind) -> Result<Option<String>> {
    let storage = Arc::clone(&reg.storage);
    let d = d.clone();
    reg.db
        .transaction(move |c| {
            let digest = d.to_string();
            let Some(size) = db::blobs::size(c, &digest)? else {
                return Ok(None);
            };
            if db::fsck::blob_claimed(c, &digest)? {
                log::warn!("fsck: {digest} is being pushed again; not repaired (run again)");
                return Ok(None);
            }
            let rt = tokio::runtime::Handle::current();
            let stored = rt.block_on(storage.stat(&layout::blob(&d)))?;
            let still = match kind {
                Kind::BlobMissing => stored.is_none(),
                Kind::BlobSizeMismatch => {
                    stored.is_some_and(|s| Some(s) != u64::try_from(size).ok())
                }
                _ => stored.is_some(),
            };
            if !still {
                return Ok(None);
            }
            // Rows first: if moving the bytes fails, the transaction rolls back.
            let links = db::fsck::unrecord_blob(c, &digest)?;
            let moved = match stored {
                Some(_) => format!(
                    "bytes moved to {}; ",
                    rt.block_on(quarantine(&storage, &d))?
                ),
                None => String::new(),
            };
            Ok::<_, Error>(Some(format!(
                "{moved}record and {links} repository link(s) deleted: no longer served; \
                 pushing the blob again restores it"
            )))
        })
        .await
}
