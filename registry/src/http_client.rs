//! The registry's outgoing HTTP: one `awc::Client` per worker thread per configured peer
//! (the index, each mirror upstream), with a time limit and optional private roots.
//!
//! `awc::Client` is tied to the thread (and actix system) that made it, while the state
//! that uses it is shared by every worker; so each thread keeps its own client per
//! [`ThreadClient`], created on first use, and its connection pool is reused by later
//! requests on that thread. Redirects are never followed by the client itself: a caller
//! that follows one decides which headers go along (never credentials to another host).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static CLIENTS: RefCell<HashMap<u64, awc::Client>> = RefCell::new(HashMap::new());
}

/// How to reach one peer. Cheap to share: the per-thread clients hang off its id.
pub struct ThreadClient {
    id: u64,
    timeout: Duration,
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// A rustls client configuration trusting the certificates in `pem_file`.
fn tls_config(pem_file: &str) -> Result<rustls::ClientConfig, String> {
    let pem = std::fs::read(pem_file).map_err(|e| format!("{pem_file}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| format!("{pem_file}: {e}"))?;
        roots.add(cert).map_err(|e| format!("{pem_file}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("{pem_file}: no certificate found"));
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(
            rustls::crypto::ring::default_provider().into(),
        )
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

impl ThreadClient {
    /// `timeout`: to connect, and to get an answer's headers. `ca_certificate`: PEM file of
    /// roots for `https://` URLs; empty for the web PKI roots.
    pub fn new(timeout: Duration, ca_certificate: &str) -> Result<ThreadClient, String> {
        let tls = if ca_certificate.is_empty() {
            None
        } else {
            Some(Arc::new(tls_config(ca_certificate)?))
        };
        Ok(ThreadClient {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            timeout,
            tls,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// This thread's client.
    pub fn get(&self) -> awc::Client {
        CLIENTS.with(|c| {
            c.borrow_mut()
                .entry(self.id)
                .or_insert_with(|| {
                    let mut connector = awc::Connector::new().timeout(self.timeout);
                    if let Some(tls) = &self.tls {
                        connector = connector.rustls_0_23(Arc::clone(tls));
                    }
                    awc::Client::builder()
                        .connector(connector)
                        .timeout(self.timeout)
                        .disable_redirects()
                        .finish()
                })
                .clone()
        })
    }
}
