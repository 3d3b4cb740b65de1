//! `mirror.max_bytes`: keep the cache under a size bound by dropping the least recently
//! pulled cached manifests (with their tags), then the links of blobs no remaining
//! manifest of that repository uses. The bytes themselves go with garbage collection,
//! after its grace period, like any unreferenced blob; a later pull fetches again.
//!
//! The bound counts the distinct blobs linked into cached repositories (manifests are a
//! rounding error). Each step is one transaction, so replicas running it at once drop at
//! most a batch more than needed, never anything half.

use crate::db;
use crate::error::{Error, Result};
use crate::state::Registry;

/// Most manifests dropped in one transaction.
const BATCH: usize = 20;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evicted {
    pub manifests: usize,
    pub links: usize,
    /// Cached bytes after the run.
    pub bytes: i64,
}

/// Drop cached content until it fits `mirror.max_bytes` (nothing if the bound is 0).
pub async fn run(reg: &Registry) -> Result<Evicted> {
    let bound = reg.mirror.config.max_bytes;
    let mut out = Evicted::default();
    if bound == 0 {
        return Ok(out);
    }
    let bound = i64::try_from(bound).unwrap_or(i64::MAX);
    loop {
        let step = reg
            .db
            .transaction(move |c| {
                let mut step = Evicted {
                    bytes: db::mirror::cached_bytes(c)?,
                    ..Default::default()
                };
                let mut dropped = 0;
                while step.bytes > bound && dropped < BATCH {
                    let Some((repo, digest)) = db::mirror::least_recently_pulled(c)? else {
                        break;
                    };
                    db::manifests::delete(c, repo, &digest)?;
                    step.manifests += 1;
                    step.links += db::mirror::unlink_unreferenced(c, repo)?;
                    step.bytes = db::mirror::cached_bytes(c)?;
                    dropped += 1;
                }
                Ok::<_, Error>(step)
            })
            .await?;
        out.manifests += step.manifests;
        out.links += step.links;
        out.bytes = step.bytes;
        if step.manifests < BATCH || step.bytes <= bound {
            if out.manifests > 0 {
                log::info!(
                    "mirror: evicted {} cached manifests ({} blob links) to stay under {bound} \
                     bytes; {} bytes cached",
                    out.manifests,
                    out.links,
                    out.bytes
                );
            }
            return Ok(out);
        }
    }
}
