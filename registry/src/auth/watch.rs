//! Is the index answering? Reads may ride on a cached confirmation while the index is
//! away; writes may not (issue #13: "index down → the registry keeps serving reads for
//! tokens confirmed within the confirmation TTL, answers writes and deletes with 503").
//!
//! The state is "up" until a call to the index fails, and "up" again once one succeeds.
//! Every introspection reports its outcome here, and a probe (an introspection of an empty
//! token, `auth.index_probe_seconds` apart) notices a lost index even when every request is
//! answered from the cache, so a write is refused within one probe interval of the index
//! going away and accepted again within one interval of its return.

use std::sync::atomic::{AtomicBool, Ordering};

pub struct IndexWatch {
    up: AtomicBool,
}

impl Default for IndexWatch {
    fn default() -> Self {
        IndexWatch {
            up: AtomicBool::new(true),
        }
    }
}

impl IndexWatch {
    /// Did the last call to the index succeed?
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Record the outcome of a call to the index; a change is logged once.
    pub fn record(&self, up: bool) {
        if self.up.swap(up, Ordering::Relaxed) != up {
            if up {
                log::info!("the index answers again: writes are accepted");
            } else {
                log::warn!("the index does not answer: writes and deletes are refused (503) until it does; reads use confirmations younger than auth.confirm_ttl_seconds");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IndexWatch;

    #[test]
    fn follows_the_last_outcome() {
        let w = IndexWatch::default();
        assert!(w.is_up());
        w.record(false);
        assert!(!w.is_up());
        w.record(false);
        w.record(true);
        assert!(w.is_up());
    }
}
