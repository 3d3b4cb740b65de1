//! The registry's HTTP client for the index: JWKS and RFC 7662 introspection, with a time
//! limit on every request.
//!
//! `awc::Client` is tied to the thread (and actix system) that made it, while the auth
//! state is shared by every worker; so each thread keeps its own client per [`IndexClient`],
//! created on first use, and its connection pool is reused by later requests on that thread.
//! Errors name the URL and the failure, never a token or the secret.

use pier_shared::Introspection;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Largest JWKS or introspection answer read.
const MAX_BODY: usize = 1024 * 1024;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static CLIENTS: RefCell<HashMap<u64, awc::Client>> = RefCell::new(HashMap::new());
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url}: answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: unreadable answer: {reason}")]
    Body { url: String, reason: String },
}

/// How to reach the index. Cheap to share: the per-thread `awc::Client`s hang off its id.
pub struct IndexClient {
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

impl IndexClient {
    /// `ca_certificate`: PEM file of roots for `https://` URLs; empty for the web PKI roots.
    pub fn new(timeout: Duration, ca_certificate: &str) -> Result<IndexClient, String> {
        let tls = if ca_certificate.is_empty() {
            None
        } else {
            Some(Arc::new(tls_config(ca_certificate)?))
        };
        Ok(IndexClient {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            timeout,
            tls,
        })
    }

    fn client(&self) -> awc::Client {
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

    /// `GET url`, the body as text.
    pub async fn get_text(&self, url: &str) -> Result<String, IndexError> {
        let unreachable = |e: &dyn std::fmt::Display| IndexError::Unreachable {
            url: url.into(),
            reason: e.to_string(),
        };
        let mut res = self
            .client()
            .get(url)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        if !res.status().is_success() {
            return Err(IndexError::Status {
                url: url.into(),
                status: res.status().as_u16(),
            });
        }
        let body = res
            .body()
            .limit(MAX_BODY)
            .await
            .map_err(|e| IndexError::Body {
                url: url.into(),
                reason: e.to_string(),
            })?;
        String::from_utf8(body.to_vec()).map_err(|e| IndexError::Body {
            url: url.into(),
            reason: e.to_string(),
        })
    }

    /// `POST url` (RFC 7662) with `token` and the space-separated `scope` needed now,
    /// authenticated as `client:secret`.
    pub async fn introspect(
        &self,
        url: &str,
        client: &str,
        secret: &str,
        token: &str,
        scope: &str,
    ) -> Result<Introspection, IndexError> {
        let mut res = self
            .client()
            .post(url)
            .basic_auth(client, secret)
            .insert_header(("Accept", "application/json"))
            .send_form(&[("token", token), ("scope", scope)])
            .await
            .map_err(|e| IndexError::Unreachable {
                url: url.into(),
                reason: e.to_string(),
            })?;
        if !res.status().is_success() {
            return Err(IndexError::Status {
                url: url.into(),
                status: res.status().as_u16(),
            });
        }
        res.json::<Introspection>()
            .limit(MAX_BODY)
            .await
            .map_err(|e| IndexError::Body {
                url: url.into(),
                reason: e.to_string(),
            })
    }

    /// A legacy v1 token check (`GET …/images` or `PUT …/auth` at the index) with the
    /// client's `Authorization` header as given: the status and the body.
    pub async fn v1_check(
        &self,
        method: awc::http::Method,
        url: &str,
        authorization: &str,
    ) -> Result<(u16, bytes::Bytes), IndexError> {
        let unreachable = |e: &dyn std::fmt::Display| IndexError::Unreachable {
            url: url.into(),
            reason: e.to_string(),
        };
        let mut res = self
            .client()
            .request(method, url)
            .insert_header(("Authorization", authorization))
            .insert_header(("Accept", "application/json"))
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let body = res
            .body()
            .limit(MAX_BODY)
            .await
            .map_err(|e| IndexError::Body {
                url: url.into(),
                reason: e.to_string(),
            })?;
        Ok((res.status().as_u16(), body))
    }
}
