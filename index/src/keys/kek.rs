//! The key-encryption key (KEK) that seals private signing keys in the database.
//!
//! 32 bytes, written as base64 (`openssl rand -base64 32`) or 64 hex digits. Given by
//! `keys.encryption_key` (`PIER_INDEX_KEYS_ENCRYPTION_KEY`, or `…_FILE`); without it, the
//! single-node default makes one on first start in `<token.key_dir>/key-encryption-key`
//! (mode 0600, the same base64 form, so the file can later be handed to replicas as
//! `PIER_INDEX_KEYS_ENCRYPTION_KEY_FILE`).
//!
//! Sealing is AES-256-GCM with a random 96-bit nonce per key and the key's `kid` as
//! additional data, so a sealed key only opens under its own kid. The KEK is never logged
//! and never printed; [`Kek::id`] (8 bytes of its SHA-256) names it in errors.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// File name of the generated KEK under `token.key_dir`.
pub const LOCAL_FILE: &str = "key-encryption-key";

pub struct Kek {
    key: LessSafeKey,
    id: String,
    /// Where it came from, for error messages (never the value).
    origin: String,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek {{ id: {}, origin: {} }}", self.id, self.origin)
    }
}

/// Parse the textual form: base64 (standard alphabet) or hex, of exactly 32 bytes.
/// The error never repeats the input.
pub fn parse(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|_| "not hex".to_string())?
    } else {
        STANDARD
            .decode(text)
            .map_err(|_| "keys.encryption_key is neither base64 nor 64 hex digits".to_string())?
    };
    bytes.try_into().map_err(|b: Vec<u8>| {
        format!(
            "keys.encryption_key must be 32 bytes (openssl rand -base64 32), not {}",
            b.len()
        )
    })
}

impl Kek {
    pub fn new(bytes: [u8; 32], origin: impl Into<String>) -> Kek {
        let id = hex::encode(&Sha256::digest(bytes)[..8]);
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &bytes).unwrap_or_else(|_| unreachable!("32 bytes")),
        );
        Kek {
            key,
            id,
            origin: origin.into(),
        }
    }

    /// The configured key, else the local file under `key_dir` (created on first use).
    pub fn resolve(configured: &str, key_dir: &Path) -> Result<Kek, String> {
        if !configured.is_empty() {
            return Ok(Kek::new(parse(configured)?, "keys.encryption_key"));
        }
        let path = key_dir.join(LOCAL_FILE);
        let origin = path.display().to_string();
        let err = |e: &dyn std::fmt::Display| format!("{origin}: {e}");
        if !path.exists() {
            let mut bytes = [0u8; 32];
            SystemRandom::new()
                .fill(&mut bytes)
                .map_err(|_| err(&"no randomness"))?;
            std::fs::create_dir_all(key_dir).map_err(|e| err(&e))?;
            write_new_private(&path, &format!("{}\n", STANDARD.encode(bytes)))
                .map_err(|e| err(&e))?;
            log::info!("made a key-encryption key in {origin} (keys.encryption_key is empty)");
        }
        let text = std::fs::read_to_string(&path).map_err(|e| err(&e))?;
        Ok(Kek::new(parse(&text).map_err(|e| err(&e))?, origin))
    }

    /// 8 bytes of the KEK's SHA-256, hex: safe to store and print.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Seal `plain` for `kid`: `(ciphertext || tag, nonce)`.
    pub fn seal(&self, kid: &str, plain: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "no randomness".to_string())?;
        let mut data = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut data,
            )
            .map_err(|_| "sealing failed".to_string())?;
        Ok((data, nonce.to_vec()))
    }

    /// Open what [`Kek::seal`] made for `kid`; `None` if the KEK, nonce or kid is wrong or
    /// the ciphertext was changed.
    pub fn open(&self, kid: &str, sealed: &[u8], nonce: &[u8]) -> Option<Vec<u8>> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut data)
            .ok()?;
        Some(plain.to_vec())
    }
}

/// Create `path` with mode 0600, failing if it exists (two processes starting at once:
/// one writes, the other reads what it wrote).
fn write_new_private(path: &PathBuf, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    // hard_link fails if `path` exists: the first writer wins, atomically.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_base64_and_hex_only_of_32_bytes() {
        let b64 = STANDARD.encode([7u8; 32]);
        assert_eq!(parse(&b64).unwrap(), [7u8; 32]);
        assert_eq!(parse(&format!("{b64}\n")).unwrap(), [7u8; 32]);
        assert_eq!(parse(&"07".repeat(32)).unwrap(), [7u8; 32]);
        let short = STANDARD.encode([7u8; 16]);
        assert!(parse(&short).unwrap_err().contains("32 bytes"));
        let e = parse("hunter2-not-a-key").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn seals_bound_to_kid_and_key() {
        let kek = Kek::new([1u8; 32], "test");
        let (sealed, nonce) = kek.seal("kid-a", b"private").unwrap();
        assert_eq!(sealed.len(), b"private".len() + 16);
        assert_eq!(kek.open("kid-a", &sealed, &nonce).unwrap(), b"private");
        assert!(kek.open("kid-b", &sealed, &nonce).is_none());
        assert!(Kek::new([2u8; 32], "other")
            .open("kid-a", &sealed, &nonce)
            .is_none());
        let (again, nonce2) = kek.seal("kid-a", b"private").unwrap();
        assert_ne!((again, nonce2), (sealed, nonce), "random nonce");
    }

    #[test]
    fn local_file_is_made_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = Kek::resolve("", dir.path()).unwrap();
        let b = Kek::resolve("", dir.path()).unwrap();
        assert_eq!(a.id(), b.id());
        let meta = std::fs::metadata(dir.path().join(LOCAL_FILE)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let text = std::fs::read_to_string(dir.path().join(LOCAL_FILE)).unwrap();
        let configured = Kek::resolve(text.trim(), Path::new("/nonexistent")).unwrap();
        assert_eq!(configured.id(), a.id());
    }
}
