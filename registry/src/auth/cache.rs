//! A small bounded cache of the index's answers, each kept for a fixed time.
//!
//! Keyed by SHA-256 of the token plus the scope asked about, so the cache never holds a
//! token. When full, expired entries go first, then the oldest. The lock is held only for a
//! map operation, never across an `.await`.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TtlCache<V> {
    ttl: Duration,
    max: usize,
    map: Mutex<HashMap<[u8; 32], (Instant, V)>>,
}

/// The cache key of (`token`, `scope`).
pub fn key(token: &str, scope: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    h.update([0]);
    h.update(scope.as_bytes());
    h.finalize().into()
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration, max: usize) -> Self {
        TtlCache {
            ttl,
            max,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The value stored under `key` less than the TTL ago.
    pub fn get(&self, key: &[u8; 32]) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: [u8; 32], value: V) {
        if self.ttl.is_zero() || self.max == 0 {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.max && !map.contains_key(&key) {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= self.max {
                if let Some(oldest) = map.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| *k) {
                    map.remove(&oldest);
                }
            }
        }
        map.insert(key, (Instant::now(), value));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_and_stays_bounded() {
        let c = TtlCache::new(Duration::from_millis(50), 2);
        c.put(key("t1", "s"), 1);
        assert_eq!(c.get(&key("t1", "s")), Some(1));
        assert_eq!(c.get(&key("t1", "other")), None);
        c.put(key("t2", "s"), 2);
        c.put(key("t3", "s"), 3);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&key("t1", "s")), None, "the oldest went");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get(&key("t3", "s")), None, "expired");
        let off = TtlCache::new(Duration::ZERO, 10);
        off.put(key("t", "s"), 1);
        assert_eq!(off.get(&key("t", "s")), None);
    }
}
