//! HTTPS for both services: a rustls server configuration whose certificate is reloaded
//! from its PEM files when they change, without a restart.
//!
//! [`ReloadingCert`] is the server's certificate resolver: every handshake takes the
//! current certified key (one `Arc` clone under a read lock). [`spawn_reload`] checks
//! both files every few seconds (`http.tls_reload_seconds`) and swaps in a new pair once it
//! parses and the key matches the certificate; a pair that does not (a half-written file,
//! a key for another certificate) is logged and the previous one kept, so a bad deploy
//! never leaves the service without TLS. Connections already open keep the certificate
//! they were made with; the next handshake sees the new one.

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The certificate and key files' contents, hashed: what was last loaded (or refused).
type Stamp = [u8; 32];

/// A certificate resolver serving the pair last loaded from `cert` and `key`.
pub struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' contents as last seen, loaded or refused: unchanged files are not parsed
    /// again, and a bad pair is reported once, not at every check.
    seen: Mutex<Stamp>,
}

impl std::fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadingCert")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// What [`ReloadingCert::check`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    /// The files are as they were.
    Unchanged,
    /// A new pair is served from now on.
    Reloaded,
    /// The files changed but the new pair was refused (the reason); the previous pair
    /// is still served.
    Refused(String),
}

impl ReloadingCert {
    /// Load the pair; an error names the file at fault (start-up fails on it).
    pub fn load(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Arc<Self>, String> {
        let (cert, key) = (cert.as_ref().to_path_buf(), key.as_ref().to_path_buf());
        let (stamp, certified) = read_pair(&cert, &key)?;
        let certified = certified?;
        Ok(Arc::new(ReloadingCert {
            cert,
            key,
            current: RwLock::new(Arc::new(certified)),
            seen: Mutex::new(stamp),
        }))
    }

    /// The pair served now.
    pub fn current(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Read both files; if they changed since last seen, load the new pair and serve it,
    /// or keep the old one if it is refused.
    pub fn check(&self) -> Reload {
        let (stamp, certified) = match read_pair(&self.cert, &self.key) {
            Ok(read) => read,
            // Unreadable (a file moved away mid-rename): keep serving, look again later.
            Err(e) => return Refused(e),
        };
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if *seen == stamp {
            return Unchanged;
        }
        *seen = stamp;
        match certified {
            Ok(c) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(c);
                Reloaded
            }
            Err(e) => Refused(e),
        }
    }
}

use Reload::{Refused, Reloaded, Unchanged};

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// Read and hash both files (an error only if one cannot be read), then parse them.
#[allow(clippy::type_complexity)]
fn read_pair(cert: &Path, key: &Path) -> Result<(Stamp, Result<CertifiedKey, String>), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let (cert_pem, key_pem) = (read(cert)?, read(key)?);
    let mut h = Sha256::new();
    h.update((cert_pem.len() as u64).to_le_bytes());
    h.update(&cert_pem);
    h.update(&key_pem);
    let stamp: Stamp = h.finalize().into();
    Ok((stamp, parse_pair(cert, &cert_pem, key, &key_pem)))
}

/// A certified key from PEM: at least one certificate, a private key, and the key
/// matching the first certificate. Errors name the file (never its contents).
fn parse_pair(
    cert: &Path,
    cert_pem: &[u8],
    key: &Path,
    key_pem: &[u8],
) -> Result<CertifiedKey, String> {
    let certs = rustls_pemfile::certs(&mut &cert_pem[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate found", cert.display()));
    }
    let private = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(|e| format!("{}: {e}", key.display()))?
        .ok_or_else(|| format!("{}: no private key found", key.display()))?;
    CertifiedKey::from_der(certs, private, &provider()).map_err(|e| {
        format!(
            "{} / {}: TLS certificate and key: {e}",
            cert.display(),
            key.display()
        )
    })
}

fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// A rustls server config (ring provider, TLS 1.2 and 1.3) serving `resolver`'s pair.
pub fn server_config(resolver: Arc<ReloadingCert>) -> Result<rustls::ServerConfig, String> {
    Ok(
        rustls::ServerConfig::builder_with_provider(provider().into())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(resolver),
    )
}

/// Load `cert` and `key`, and (with a non-zero `interval`) check them for changes in a
/// background thread for the life of the process; the server config to bind with.
pub fn reloading_server_config(
    cert: &str,
    key: &str,
    interval: Duration,
) -> Result<rustls::ServerConfig, String> {
    let resolver = ReloadingCert::load(cert, key)?;
    if !interval.is_zero() {
        spawn_reload(Arc::clone(&resolver), interval)?;
    }
    server_config(resolver)
}

/// Check `resolver`'s files every `interval`, logging what changed.
pub fn spawn_reload(resolver: Arc<ReloadingCert>, interval: Duration) -> Result<(), String> {
    std::thread::Builder::new()
        .name("tls-reload".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            match resolver.check() {
                Unchanged => {}
                Reloaded => log::info!(
                    "TLS: reloaded certificate {} and key {}",
                    resolver.cert.display(),
                    resolver.key.display()
                ),
                Refused(e) => log::error!("TLS: {e}; still serving the previous certificate"),
            }
        })
        .map(|_| ())
        .map_err(|e| format!("starting the TLS reload thread: {e}"))
}

#[cfg(test)]
mod tests;
