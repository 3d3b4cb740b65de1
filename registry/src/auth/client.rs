//! The registry's HTTP client for the index: JWKS and RFC 7662 introspection, with a time
//! limit on every request.
//!
//! One `awc::Client` per worker thread (`crate::http_client`).
//! Errors name the URL and the failure, never a token or the secret. Every call's latency
//! and outcome go to `pier_registry_index_calls_total` / `_call_duration_seconds`
//! (`crate::metrics::IndexMetrics`), labelled by the call, never by its URL.

use crate::http_client::ThreadClient;
use crate::metrics::IndexMetrics;
use pier_shared::Introspection;
use std::future::Future;
use std::time::{Duration, Instant};

/// Largest answer read from the index (the webhook list of every namespace is one document).
const MAX_BODY: usize = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url}: answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: unreadable answer: {reason}")]
    Body { url: String, reason: String },
}

/// How to reach the index.
pub struct IndexClient {
    http: ThreadClient,
    metrics: IndexMetrics,
}

impl IndexError {
    /// The `outcome` label of a failed call.
    fn outcome(&self) -> &'static str {
        match self {
            IndexError::Unreachable { .. } => "unreachable",
            IndexError::Status { .. } => "status",
            IndexError::Body { .. } => "body",
        }
    }
}

impl IndexClient {
    /// `ca_certificate`: PEM file of roots for `https://` URLs; empty for the web PKI roots.
    /// Its calls are counted in series no registry exposes until [`IndexClient::with_metrics`].
    pub fn new(timeout: Duration, ca_certificate: &str) -> Result<IndexClient, String> {
        Ok(IndexClient {
            http: ThreadClient::new(timeout, ca_certificate)?,
            metrics: IndexMetrics::default(),
        })
    }

    /// Count this client's calls in `metrics` (the registry's own series).
    pub fn with_metrics(self, metrics: IndexMetrics) -> IndexClient {
        IndexClient { metrics, ..self }
    }

    fn client(&self) -> awc::Client {
        self.http.get()
    }

    /// A request to the index carrying the current request's `X-Request-Id`, so that the
    /// index's log lines of this call name the same request (`pier_shared::request_id`).
    fn request(&self, method: awc::http::Method, url: &str) -> awc::ClientRequest {
        let req = self.client().request(method, url);
        match pier_shared::request_id::current() {
            Some(id) => req.insert_header((pier_shared::request_id::HEADER, id)),
            None => req,
        }
    }

    /// Run one call, recording its latency and outcome under `call`.
    async fn measured<T>(
        &self,
        call: &'static str,
        f: impl Future<Output = Result<T, IndexError>>,
    ) -> Result<T, IndexError> {
        let started = Instant::now();
        let result = f.await;
        let outcome = result.as_ref().map_or_else(IndexError::outcome, |_| "ok");
        self.metrics
            .record(call, outcome, started.elapsed().as_secs_f64());
        result
    }

    /// `GET url`, the body as text (the index's JWKS).
    pub async fn get_text(&self, url: &str) -> Result<String, IndexError> {
        self.measured("jwks", self.get_text_unmeasured(url)).await
    }

    async fn get_text_unmeasured(&self, url: &str) -> Result<String, IndexError> {
        let unreachable = |e: &dyn std::fmt::Display| IndexError::Unreachable {
            url: url.into(),
            reason: e.to_string(),
        };
        let res = self
            .request(awc::http::Method::GET, url)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        if !res.status().is_success() {
            return Err(IndexError::Status {
                url: url.into(),
                status: res.status().as_u16(),
            });
        }
        let (_, body) = status_and_body(url, res).await?;
        String::from_utf8(body.to_vec()).map_err(|e| IndexError::Body {
            url: url.into(),
            reason: e.to_string(),
        })
    }

    /// `POST url` (RFC 7662) with `token` and the space-separated `scope` needed now,
    /// authenticated as `client:secret`. Counted as call `introspect`, or `probe` for the
    /// empty token the index watch sends (`Confirmer::probe`).
    pub async fn introspect(
        &self,
        url: &str,
        client: &str,
        secret: &str,
        token: &str,
        scope: &str,
    ) -> Result<Introspection, IndexError> {
        let label = if token.is_empty() {
            "probe"
        } else {
            "introspect"
        };
        let call = async {
            let mut res = self
                .request(awc::http::Method::POST, url)
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
        };
        self.measured(label, call).await
    }

    /// `PUT url` with a JSON body (or none), authenticated as `client:secret` like
    /// introspection: the registry telling the index of its mirrors. The status and body.
    pub async fn put_json(
        &self,
        url: &str,
        client: &str,
        secret: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, bytes::Bytes), IndexError> {
        self.measured(
            "mirror_register",
            self.basic(awc::http::Method::PUT, url, client, secret, body),
        )
        .await
    }

    /// `GET url`, authenticated as `client:secret` like introspection: the registry reading
    /// the per-namespace webhooks. The status and body.
    pub async fn get_basic(
        &self,
        url: &str,
        client: &str,
        secret: &str,
    ) -> Result<(u16, bytes::Bytes), IndexError> {
        self.measured(
            "webhooks",
            self.basic(awc::http::Method::GET, url, client, secret, None),
        )
        .await
    }

    async fn basic(
        &self,
        method: awc::http::Method,
        url: &str,
        client: &str,
        secret: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, bytes::Bytes), IndexError> {
        let req = self
            .request(method, url)
            .basic_auth(client, secret)
            .insert_header(("Accept", "application/json"));
        let sent = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        };
        let res = sent.map_err(|e| IndexError::Unreachable {
            url: url.into(),
            reason: e.to_string(),
        })?;
        status_and_body(url, res).await
    }

    /// A legacy v1 token check (`GET …/images` or `PUT …/auth` at the index) with the
    /// client's `Authorization` header as given: the status and the body.
    pub async fn v1_check(
        &self,
        method: awc::http::Method,
        url: &str,
        authorization: &str,
    ) -> Result<(u16, bytes::Bytes), IndexError> {
        self.measured(
            "v1_check",
            self.v1_check_unmeasured(method, url, authorization),
        )
        .await
    }

    async fn v1_check_unmeasured(
        &self,
        method: awc::http::Method,
        url: &str,
        authorization: &str,
    ) -> Result<(u16, bytes::Bytes), IndexError> {
        let unreachable = |e: &dyn std::fmt::Display| IndexError::Unreachable {
            url: url.into(),
            reason: e.to_string(),
        };
        let res = self
            .request(method, url)
            .insert_header(("Authorization", authorization))
            .insert_header(("Accept", "application/json"))
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        status_and_body(url, res).await
    }
}

/// An answer's status and (at most `MAX_BODY` of) its body.
async fn status_and_body(
    url: &str,
    mut res: awc::ClientResponse,
) -> Result<(u16, bytes::Bytes), IndexError> {
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
