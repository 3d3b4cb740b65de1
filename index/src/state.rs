//! What every request handler shares: the database, the signing keys, the credential
//! cache, the audit buffer and the configuration.

use crate::config::IndexConfig;
use crate::db::Db;
use crate::keys::KeyRing;
use crate::services::audit::AuditLog;
use crate::services::credentials::Credentials;
use pier_shared::client::TrustedProxies;
use pier_shared::rate_limit::RateLimiter;
use std::sync::{Arc, OnceLock};

#[derive(Clone)]
pub struct Index {
    pub db: Db,
    pub keys: Arc<KeyRing>,
    pub config: Arc<IndexConfig>,
    pub credentials: Arc<Credentials>,
    pub audit: Arc<AuditLog>,
    /// `http.trusted_proxies`, parsed: who a request comes from.
    pub proxies: Arc<TrustedProxies>,
    /// `[rate_limit]`, this process's buckets.
    pub rate_limit: Arc<RateLimiter>,
    /// This index's Prometheus series (served on `metrics.listen` when set).
    pub metrics: Arc<crate::metrics::IndexMetrics>,
    /// `http.public_url`, or the URL derived from the bound address (set by `server::bind`).
    bound_url: Arc<OnceLock<String>>,
}

impl Index {
    /// Open (and migrate) the database and load the signing keys (making the first one,
    /// or importing the pre-database key files, on first start).
    pub fn open(config: IndexConfig) -> Result<Index, String> {
        let db = crate::db::open(config.database.url.expose(), config.database.pool_size)
            .map_err(|e| e.to_string())?;
        let keys = crate::keys::store::open(&db, &config)?;
        Ok(Index {
            metrics: Arc::new(crate::metrics::IndexMetrics::new(&db)),
            db,
            keys: Arc::new(keys),
            credentials: Arc::new(Credentials::new(&config.passwords)),
            audit: Arc::new(AuditLog::default()),
            proxies: Arc::new(TrustedProxies::parse(&config.http.trusted_proxies)?),
            rate_limit: Arc::new(RateLimiter::new(&config.rate_limit)),
            config: Arc::new(config),
            bound_url: Arc::new(OnceLock::new()),
        })
    }

    /// Where `req` comes from, for the login throttle and the rate limit.
    pub fn client(&self, req: &actix_web::HttpRequest) -> crate::services::login_throttle::Client {
        crate::services::login_throttle::Client::new(self.proxies.client_of(req))
    }

    /// Remember the URL of the bound address, used when `http.public_url` is empty.
    pub fn set_bound_url(&self, url: String) {
        let _ = self.bound_url.set(url);
    }

    /// The base URL clients reach the index at; `request_base` (scheme://host of the
    /// request) when neither the config nor the bound address says.
    pub fn public_url(&self, request_base: &str) -> String {
        let configured = self.config.http.public_url.trim_end_matches('/');
        if !configured.is_empty() {
            return configured.to_string();
        }
        match self.bound_url.get() {
            Some(u) => u.clone(),
            None => request_base.trim_end_matches('/').to_string(),
        }
    }

    /// Verify a token this index (any replica) signed: signature, `iss`, `aud` ∈
    /// [`Index::audiences`], `exp`/`nbf` with leeway.
    pub async fn verify_token(&self, token: &str) -> Option<pier_shared::Claims> {
        self.keys
            .verify(token, &self.config.token.issuer, &self.audiences())
            .await
    }

    /// Every audience (`service`) this index issues tokens for.
    pub fn audiences(&self) -> Vec<&str> {
        let t = &self.config.token;
        std::iter::once(t.service.as_str())
            .chain(t.extra_services.iter().map(String::as_str))
            .collect()
    }
}
