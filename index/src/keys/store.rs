//! Keys in the database: the first key (imported from the pre-database files, or made),
//! loading and opening rows, rotation, and the listing `pier-index keys list` prints.
//!
//! Two replicas starting on an empty database, or two rotations at once, both try the
//! same `generation`; the table's UNIQUE constraint lets one win and the other reloads.

use super::kek::Kek;
use super::{Entry, KeyRing, KeySet, SigningKey, LEEWAY_SECONDS};
use crate::config::IndexConfig;
use crate::db::signing_keys::{self as rows, SigningKeyRow};
use crate::db::{Conn, Db, DbError};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// The key and certificate files of the single-node layout before keys moved into the
/// database; imported on first start so tokens signed with them stay valid.
pub const LEGACY_KEY_FILE: &str = "token-signing-key.pem";
pub const LEGACY_CERT_FILE: &str = "token-signing-cert.pem";

const ES256: &str = "ES256";

/// Open the key ring: the KEK, the first key if there is none, every live key opened.
/// A key the KEK cannot open is an error here (never a silent new key).
pub fn open(db: &Db, config: &IndexConfig) -> Result<KeyRing, String> {
    let kek = Kek::resolve(config.keys.encryption_key.expose(), &config.token.key_dir)?;
    let at = crate::db::now();
    // One write transaction (serialised across replicas, shared/src/db): of several
    // replicas starting at once on an empty table, exactly one makes the first key and
    // the others see it.
    let live = db
        .transaction_sync(|c| Ok::<_, DbError>(ensure_key(c, &kek, config, at)))
        .map_err(|e| format!("signing keys: {e}"))?
        .map_err(|e| format!("signing keys: {e}"))?;
    let (set, errors) = build_set(live, &KeySet::default(), &kek);
    if let Some(first) = errors.into_iter().next() {
        return Err(first);
    }
    Ok(KeyRing::new(set, db.clone(), kek))
}

/// The live rows, after adding a key if none is live (first start).
fn ensure_key(
    c: &mut Conn,
    kek: &Kek,
    config: &IndexConfig,
    at: i64,
) -> Result<Vec<SigningKeyRow>, String> {
    let e = |e: DbError| e.to_string();
    let live = rows::live(c, at).map_err(e)?;
    if !live.is_empty() {
        return Ok(live);
    }
    let newest = rows::newest_generation(c).map_err(e)?;
    let (pkcs8, cert, origin) = match newest {
        None => match read_legacy(&config.token.key_dir, &config.token.issuer)? {
            Some((pkcs8, cert)) => (pkcs8, cert, "imported from token.key_dir"),
            None => {
                let (pkcs8, cert) = super::key::generate(&config.token.issuer)?;
                (pkcs8, cert, "made")
            }
        },
        Some(_) => {
            let (pkcs8, cert) = super::key::generate(&config.token.issuer)?;
            (pkcs8, cert, "made (every key was retired)")
        }
    };
    let row = seal_row(kek, &pkcs8, cert, newest.unwrap_or(0) + 1, at, at)?;
    match rows::insert(c, &row) {
        Ok(()) => log::info!("signing key {} {origin}", row.kid),
        Err(err) if err.is_conflict() => {
            log::info!("another replica made the first signing key; using it");
        }
        Err(err) => return Err(err.to_string()),
    }
    rows::live(c, at).map_err(e)
}

/// The PKCS#8 DER and certificate of the pre-database key files, if there are any.
fn read_legacy(dir: &Path, common_name: &str) -> Result<Option<(Vec<u8>, String)>, String> {
    let key_path = dir.join(LEGACY_KEY_FILE);
    if !key_path.exists() {
        return Ok(None);
    }
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", key_path.display());
    let pem = std::fs::read_to_string(&key_path).map_err(|e| err(&e))?;
    let key = rcgen::KeyPair::from_pem(&pem).map_err(|e| err(&e))?;
    if !key.is_compatible(&rcgen::PKCS_ECDSA_P256_SHA256) {
        return Err(err(&"not a P-256 key"));
    }
    let cert_path = dir.join(LEGACY_CERT_FILE);
    let cert = match std::fs::read_to_string(&cert_path) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            super::key::self_signed(&key, common_name)?
        }
        Err(e) => return Err(format!("{}: {e}", cert_path.display())),
    };
    log::info!(
        "importing {} into the database; the file is no longer read and may be deleted",
        key_path.display()
    );
    Ok(Some((key.serialize_der(), cert)))
}

/// A row for a key: checked (key and certificate agree), sealed under `kek`.
fn seal_row(
    kek: &Kek,
    pkcs8: &[u8],
    certificate_pem: String,
    generation: i64,
    created_at: i64,
    signs_from: i64,
) -> Result<SigningKeyRow, String> {
    let key = SigningKey::from_pkcs8(pkcs8, certificate_pem.clone())?;
    let kid = key.kid().to_string();
    let (encrypted_private_key, nonce) = kek.seal(&kid, pkcs8)?;
    Ok(SigningKeyRow {
        kid,
        generation,
        algorithm: ES256.into(),
        encrypted_private_key,
        nonce,
        kek_id: kek.id().to_string(),
        certificate_pem,
        created_at,
        signs_from,
        retire_after: None,
    })
}

/// Open one row.
fn open_row(kek: &Kek, row: &SigningKeyRow) -> Result<SigningKey, String> {
    if row.algorithm != ES256 {
        return Err(format!(
            "signing key {}: algorithm {} is not supported",
            row.kid, row.algorithm
        ));
    }
    let Some(pkcs8) = kek.open(&row.kid, &row.encrypted_private_key, &row.nonce) else {
        let why = if row.kek_id != kek.id() {
            format!(
                "it was sealed with key-encryption key {}, and this replica's ({}, from {}) is {}",
                row.kek_id,
                kek.id(),
                kek.origin(),
                "another: give every replica the same keys.encryption_key"
            )
        } else {
            "the row was changed (authentication failed)".to_string()
        };
        return Err(format!(
            "signing key {} cannot be decrypted: {why}",
            row.kid
        ));
    };
    let key = SigningKey::from_pkcs8(&pkcs8, row.certificate_pem.clone())
        .map_err(|e| format!("signing key {}: {e}", row.kid))?;
    if key.kid() != row.kid {
        return Err(format!(
            "signing key {}: the key's thumbprint differs",
            row.kid
        ));
    }
    Ok(key)
}

/// The key set for `rows`, reusing keys `previous` already opened. Rows that cannot be
/// opened are left out and reported.
pub fn build_set(rows: Vec<SigningKeyRow>, previous: &KeySet, kek: &Kek) -> (KeySet, Vec<String>) {
    let mut entries = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for row in rows {
        let known = previous
            .entries()
            .iter()
            .find(|e| e.key.kid() == row.kid)
            .map(|e| Arc::clone(&e.key));
        let key = match known {
            Some(k) => k,
            None => match open_row(kek, &row) {
                Ok(k) => Arc::new(k),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            },
        };
        entries.push(Entry {
            key,
            generation: row.generation,
            signs_from: row.signs_from,
            retire_after: row.retire_after,
        });
    }
    (KeySet::new(entries), errors)
}

/// What `keys rotate` did.
#[derive(Debug, Clone, Serialize)]
pub struct Rotation {
    pub kid: String,
    pub signs_from: i64,
    /// When the keys before it stop being published and trusted.
    pub previous_retire_after: i64,
    pub previous_keys: usize,
}

/// The longest a token signed by the index lives (user tokens, deletion tokens).
pub fn longest_token_seconds(config: &IndexConfig) -> i64 {
    config
        .token
        .lifetime_seconds
        .max(crate::services::deletions::TOKEN_SECONDS as u64) as i64
}

/// Add a key that is published now and signs from `at + publish_seconds`; every key
/// before it retires once the last token it can sign has expired (+ leeway).
pub async fn rotate(
    ring: &KeyRing,
    config: &IndexConfig,
    publish_seconds: u64,
    at: i64,
) -> Result<Rotation, String> {
    let (pkcs8, cert) = super::key::generate(&config.token.issuer)?;
    let signs_from = at + publish_seconds as i64;
    let retire_after = signs_from + longest_token_seconds(config) + LEEWAY_SECONDS as i64;
    let db = ring.db.clone();
    let generation = db
        .run(rows::newest_generation)
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or(0)
        + 1;
    let row = seal_row(ring.kek(), &pkcs8, cert, generation, at, signs_from)?;
    let kid = row.kid.clone();
    let marked = db.run(move |c| rows::rotate(c, &row, retire_after)).await;
    let previous_keys = match marked {
        Ok(n) => n,
        Err(e) if e.is_conflict() => {
            return Err("another rotation happened at the same time; see `keys list`".into())
        }
        Err(e) => return Err(e.to_string()),
    };
    ring.reload().await?;
    Ok(Rotation {
        kid,
        signs_from,
        previous_retire_after: retire_after,
        previous_keys,
    })
}

/// One line of `keys list`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyInfo {
    pub kid: String,
    pub generation: i64,
    /// `next` (published, not signing yet), `current` (signing), `previous` (verifying
    /// only, until `retire_after`), `retired`.
    pub state: &'static str,
    pub created_at: i64,
    pub signs_from: i64,
    pub retire_after: Option<i64>,
    pub kek_id: String,
}

/// Every key in the database and its state at `at`.
pub async fn list(db: &Db, at: i64) -> Result<Vec<KeyInfo>, String> {
    let all = db.run(rows::all).await.map_err(|e| e.to_string())?;
    let signer = all
        .iter()
        .rev()
        .find(|r| r.retire_after.is_none_or(|t| t > at) && r.signs_from <= at)
        .map(|r| r.generation);
    Ok(all
        .into_iter()
        .map(|r| {
            let state = if r.retire_after.is_some_and(|t| t <= at) {
                "retired"
            } else if Some(r.generation) == signer {
                "current"
            } else if r.signs_from > at {
                "next"
            } else {
                "previous"
            };
            KeyInfo {
                kid: r.kid,
                generation: r.generation,
                state,
                created_at: r.created_at,
                signs_from: r.signs_from,
                retire_after: r.retire_after,
                kek_id: r.kek_id,
            }
        })
        .collect())
}
