//! The token signing keys every replica shares: kept in the `signing_keys` table, private
//! keys sealed with the key-encryption key ([`kek`]), held in memory as a [`KeySet`] that
//! is swapped whole on reload, so signing never reads the database.
//!
//! A key's life (times in Unix seconds, compared with this replica's clock):
//!
//! ```text
//! created ── published (JWKS) ── signs_from ── signing ── successor signs ── retire_after
//!            "next"                            "current"   "previous": verifies only   "retired"
//! ```
//!
//! The signer is the newest (highest `generation`) published key whose `signs_from` has
//! come. `pier-index keys rotate` ([`store::rotate`]) adds a key that signs only after the
//! publish delay and gives the keys before it a `retire_after` past the expiry of the
//! last token they can sign. Each replica reloads every `keys.reload_seconds`, and at once
//! (at most once a second) when a token names a kid it does not know.
//!
//! This module owns key material and its rows' meaning; it knows nothing of users or policy.

pub mod kek;
mod key;
pub mod store;

pub use key::{jwk_thumbprint, self_signed, SigningKey, LEEWAY_SECONDS};

use crate::db::Db;
use kek::Kek;
use pier_shared::Claims;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// `Cache-Control: max-age` of the JWKS and certificate bundle. The publish delay must
/// exceed it (plus the reload interval), so that no cached JWKS lacks a key in use.
pub const JWKS_MAX_AGE_SECONDS: u64 = 300;

/// Least time between two reloads caused by unknown kids (a flood of made-up kids costs
/// one query a second).
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(1);

/// One loaded key and its times.
#[derive(Clone)]
pub struct Entry {
    pub key: Arc<SigningKey>,
    pub generation: i64,
    pub signs_from: i64,
    pub retire_after: Option<i64>,
}

impl Entry {
    /// In the JWKS and trusted at `at`.
    pub fn published_at(&self, at: i64) -> bool {
        self.retire_after.is_none_or(|r| r > at)
    }
}

/// The keys one replica knows, oldest generation first.
#[derive(Clone, Default)]
pub struct KeySet {
    entries: Vec<Entry>,
}

impl KeySet {
    pub fn new(mut entries: Vec<Entry>) -> KeySet {
        entries.sort_by_key(|e| e.generation);
        KeySet { entries }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The key that signs at `at`: the newest published one whose `signs_from` has come.
    pub fn signer(&self, at: i64) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.published_at(at) && e.signs_from <= at)
    }

    /// The published key `kid`.
    pub fn find(&self, kid: &str, at: i64) -> Option<&Arc<SigningKey>> {
        self.entries
            .iter()
            .find(|e| e.key.kid() == kid && e.published_at(at))
            .map(|e| &e.key)
    }

    fn published(&self, at: i64) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.published_at(at))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no signing key is usable now (see `pier-index keys list`)")]
    NoKey,
    #[error(transparent)]
    Jwt(#[from] jsonwebtoken::errors::Error),
}

/// The replica's key set and how to reload it.
pub struct KeyRing {
    set: RwLock<Arc<KeySet>>,
    db: Db,
    kek: Kek,
    last_unknown_reload: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<String> = self
            .current()
            .entries
            .iter()
            .map(|e| e.key.kid().to_string())
            .collect();
        write!(f, "KeyRing {{ kids: {kids:?}, kek: {:?} }}", self.kek)
    }
}

fn now() -> i64 {
    crate::db::now()
}

impl KeyRing {
    pub(crate) fn new(set: KeySet, db: Db, kek: Kek) -> KeyRing {
        KeyRing {
            set: RwLock::new(Arc::new(set)),
            db,
            kek,
            last_unknown_reload: Mutex::new(None),
        }
    }

    /// The key set now (a cheap `Arc` clone; reloads swap it whole).
    pub fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.set.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn swap(&self, set: KeySet) {
        *self.set.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
    }

    pub fn kek(&self) -> &Kek {
        &self.kek
    }

    /// The kid that signs now.
    pub fn signing_kid(&self) -> Option<String> {
        self.current()
            .signer(now())
            .map(|e| e.key.kid().to_string())
    }

    /// Sign `claims` with the key that signs now.
    pub fn sign(&self, claims: &Claims) -> Result<String, SignError> {
        let set = self.current();
        let signer = set.signer(now()).ok_or(SignError::NoKey)?;
        Ok(signer.key.sign(claims)?)
    }

    /// Verify with the keys in memory only (see [`KeyRing::verify`]).
    pub fn verify_loaded(&self, token: &str, issuer: &str, audiences: &[&str]) -> Option<Claims> {
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        let key = Arc::clone(self.current().find(&kid, now())?);
        key.verify(token, issuer, audiences)
    }

    /// Verify `token` (signature by a published key, `iss`, `aud`, `exp`/`nbf` with
    /// leeway). A kid not in memory makes the replica reload from the database first, at
    /// most once a second, so a key another replica just made is found.
    pub async fn verify(&self, token: &str, issuer: &str, audiences: &[&str]) -> Option<Claims> {
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        let known = self.current().find(&kid, now()).cloned();
        let key = match known {
            Some(k) => k,
            None => {
                if !self.may_reload_for_unknown() {
                    return None;
                }
                if let Err(e) = self.reload().await {
                    log::warn!("reloading signing keys: {e}");
                }
                Arc::clone(self.current().find(&kid, now())?)
            }
        };
        key.verify(token, issuer, audiences)
    }

    fn may_reload_for_unknown(&self) -> bool {
        let mut last = self
            .last_unknown_reload
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < UNKNOWN_KID_RELOAD) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Read the keys from the database again and swap the set. Keys already in memory are
    /// reused; a row that cannot be opened is logged and left out (the old set stays
    /// usable). Returns how many keys are loaded.
    pub async fn reload(&self) -> Result<usize, String> {
        let at = now();
        let rows = self
            .db
            .run(move |c| crate::db::signing_keys::live(c, at))
            .await
            .map_err(|e| e.to_string())?;
        let (set, errors) = store::build_set(rows, &self.current(), &self.kek);
        for e in errors {
            log::error!("{e}");
        }
        let n = set.entries.len();
        self.swap(set);
        Ok(n)
    }

    /// The JWK Set of every published key (`GET /.well-known/jwks.json`).
    pub fn jwks(&self) -> serde_json::Value {
        let set = self.current();
        let keys: Vec<serde_json::Value> = set.published(now()).map(|e| e.key.jwk()).collect();
        serde_json::json!({ "keys": keys })
    }

    /// Every published certificate, PEM, concatenated (distribution's `rootcertbundle`).
    pub fn certificates_pem(&self) -> String {
        let set = self.current();
        let mut out = String::new();
        for e in set.published(now()) {
            let pem = e.key.certificate_pem();
            out.push_str(pem);
            if !pem.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}

/// Reload the keys every `interval` (started by `server::bind`).
pub fn spawn_reload(ring: Arc<KeyRing>, interval: Duration) {
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(interval).await;
            if let Err(e) = ring.reload().await {
                log::warn!("reloading signing keys: {e}");
            }
        }
    });
}
