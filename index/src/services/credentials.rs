//! Password checks, paying bcrypt once per login rather than once per token.
//!
//! A verified password is remembered for `passwords.cache_seconds` as SHA-256(per-process
//! random salt ‖ password) next to the bcrypt hash it was checked against — never the
//! password itself. A later check with the same password against the same stored hash is a
//! hash and a constant-time compare. A password change shows up as a different stored hash
//! (even when made by another process, e.g. the CLI), and callers [`Credentials::forget`] a
//! user on change or disable. Whether the user is disabled is read from the database on
//! every request, never cached.

use crate::config::PasswordConfig;
use crate::db::users::User;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

struct Entry {
    password_hash: String,
    keyed: [u8; 32],
    until: Instant,
}

pub struct Credentials {
    salt: [u8; 32],
    ttl: Duration,
    max_entries: usize,
    cost: u32,
    cache: Mutex<HashMap<String, Entry>>,
    bcrypt_verifications: AtomicU64,
    /// A hash of a random password, checked for unknown users so that a login for a name
    /// that does not exist takes as long as one with a wrong password.
    decoy: OnceLock<String>,
}

impl Credentials {
    pub fn new(config: &PasswordConfig) -> Credentials {
        Credentials {
            salt: super::random::bytes(),
            ttl: Duration::from_secs(config.cache_seconds),
            max_entries: config.cache_entries,
            cost: config.bcrypt_cost,
            cache: Mutex::new(HashMap::new()),
            bcrypt_verifications: AtomicU64::new(0),
            decoy: OnceLock::new(),
        }
    }

    /// How many bcrypt verifications this process has run (tests, metrics).
    pub fn bcrypt_verifications(&self) -> u64 {
        self.bcrypt_verifications.load(Ordering::Relaxed)
    }

    fn keyed(&self, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn cached(&self, user: &User, keyed: &[u8; 32]) -> bool {
        let Ok(cache) = self.cache.lock() else {
            return false;
        };
        cache.get(&user.name).is_some_and(|e| {
            e.until > Instant::now()
                && e.password_hash == user.password_hash
                && e.keyed.iter().zip(keyed).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
        })
    }

    fn remember(&self, user: &User, keyed: [u8; 32]) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        let now = Instant::now();
        if cache.len() >= self.max_entries {
            cache.retain(|_, e| e.until > now);
        }
        if cache.len() < self.max_entries {
            let entry = Entry {
                password_hash: user.password_hash.clone(),
                keyed,
                until: now + self.ttl,
            };
            cache.insert(user.name.clone(), entry);
        }
    }

    /// Forget what was verified for `name` (password changed, user disabled).
    pub fn forget(&self, name: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(name);
        }
    }

    /// Does `password` match `user`'s stored hash? Disabled users never match.
    pub async fn check(&self, user: &User, password: &str) -> bool {
        if user.disabled {
            return false;
        }
        let keyed = self.keyed(password);
        if self.cached(user, &keyed) {
            return true;
        }
        self.bcrypt_verifications.fetch_add(1, Ordering::Relaxed);
        let (password, hash) = (password.to_string(), user.password_hash.clone());
        let ok = actix_web::web::block(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await
            .unwrap_or(false);
        if ok {
            self.remember(user, keyed);
        }
        ok
    }

    /// Spend what checking a password costs, for a user that does not exist. Always false.
    pub async fn check_unknown(&self, password: &str) -> bool {
        let cost = self.cost;
        let (password, decoy) = (password.to_string(), self.decoy.get().cloned());
        let made = actix_web::web::block(move || {
            let decoy = match decoy {
                Some(d) => d,
                None => bcrypt::hash(super::random::password(), cost).unwrap_or_default(),
            };
            let _ = bcrypt::verify(password, &decoy);
            decoy
        })
        .await;
        if let Ok(decoy) = made {
            let _ = self.decoy.set(decoy);
        }
        false
    }

    /// A new bcrypt hash of `password` (on the blocking pool).
    pub async fn hash(&self, password: &str) -> Result<String> {
        let (password, cost) = (password.to_string(), self.cost);
        actix_web::web::block(move || bcrypt::hash(password, cost))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(|e| Error::Internal(e.to_string()))
    }
}
