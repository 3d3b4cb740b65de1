//! Hit and miss counts of cached repositories, added up in memory and written to
//! `mirror_repositories` every few seconds ([`flush`]), so that a pull costs no database
//! write of its own. Counts of the last interval are lost if the process dies: they are
//! figures for people, not for billing.

use crate::db;
use crate::state::Registry;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    hits: i64,
    misses: i64,
    last: i64,
}

#[derive(Default)]
pub struct Stats {
    pending: Mutex<HashMap<String, Counts>>,
}

impl Stats {
    /// A request for the cached repository `local` was served from the cache.
    pub fn hit(&self, local: &str) {
        self.add(local, 1, 0);
    }

    /// A request for the cached repository `local` had to ask the upstream.
    pub fn miss(&self, local: &str) {
        self.add(local, 0, 1);
    }

    fn add(&self, local: &str, hits: i64, misses: i64) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let c = p.entry(local.to_string()).or_default();
        c.hits += hits;
        c.misses += misses;
        c.last = db::now();
    }

    fn take(&self) -> HashMap<String, Counts> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Write the counts gathered since the last flush. On a database error they are put back.
pub async fn flush(reg: &Registry) {
    let taken = reg.mirror.stats.take();
    if taken.is_empty() {
        return;
    }
    let rows: Vec<(String, Counts)> = taken.into_iter().collect();
    let kept = rows.clone();
    let written = reg
        .db
        .transaction(move |c| {
            for (name, n) in &rows {
                db::mirror::add_counts(c, name, n.hits, n.misses, n.last)?;
            }
            Ok::<_, db::DbError>(())
        })
        .await;
    if let Err(e) = written {
        log::warn!("mirror: could not record hit/miss counts (kept for the next try): {e}");
        for (name, n) in kept {
            reg.mirror.stats.add(&name, n.hits, n.misses);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_are_taken_once() {
        let s = Stats::default();
        s.hit("hub/a");
        s.hit("hub/a");
        s.miss("hub/a");
        s.miss("hub/b");
        let t = s.take();
        assert_eq!((t["hub/a"].hits, t["hub/a"].misses), (2, 1));
        assert_eq!((t["hub/b"].hits, t["hub/b"].misses), (0, 1));
        assert!(s.take().is_empty());
    }
}
