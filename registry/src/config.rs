//! pier-registry's configuration: one typed struct, a TOML file, then `PIER_REGISTRY_…`
//! environment overrides (see `pier_shared::config`).

mod mirror;
mod notifications;
mod storage;

use serde::{Deserialize, Serialize};

pub use mirror::{MirrorConfig, UpstreamConfig};
pub use notifications::{EndpointConfig, NotificationsConfig, ACTIONS, WEBHOOK_QUEUE_PREFIX};
use std::path::Path;
pub use storage::{S3Config, StorageConfig, StorageDriver};

pub const ENV_PREFIX: &str = "PIER_REGISTRY";

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    pub http: HttpConfig,
    pub storage: StorageConfig,
    pub database: DatabaseConfig,
    pub limits: LimitsConfig,
    pub uploads: UploadsConfig,
    pub auth: AuthConfig,
    pub gc: GcConfig,
    pub v1: V1Config,
    pub rate_limit: pier_shared::rate_limit::RateLimitConfig,
    pub mirror: MirrorConfig,
    pub notifications: NotificationsConfig,
    /// `[metrics]`: `GET /metrics` on a listener of its own (docs/metrics.md).
    pub metrics: pier_shared::metrics::MetricsConfig,
    /// `[log]`: the log's format (`text` or `json`; the filter is `PIER_REGISTRY_LOG`).
    pub log: pier_shared::logging::LogConfig,
}

/// `[v1]`: the legacy Docker v1 registry protocol (docs/legacy-v1.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct V1Config {
    /// The index that issues v1 tokens and confirms them (`http://127.0.0.1:5001`).
    /// Empty: `/v1` is not served.
    pub index_url: String,
    /// How long the session cookie granted after a confirmed token lasts (the rest of
    /// one pull or push).
    pub session_seconds: u64,
    /// Most sessions held at once (expired ones are dropped first).
    pub max_sessions: usize,
}

impl Default for V1Config {
    fn default() -> Self {
        V1Config {
            index_url: String::new(),
            session_seconds: 3600,
            max_sessions: 10_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on.
    pub listen: String,
    /// PEM certificate chain; with `tls_key`, serve HTTPS (rustls).
    pub tls_certificate: String,
    /// PEM private key for `tls_certificate`.
    pub tls_key: String,
    /// How often both TLS files are checked for a change (a new pair is served to new
    /// connections without a restart; a bad one is logged and the old kept). 0: never.
    pub tls_reload_seconds: u64,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the client; empty:
    /// the peer address is the client, whatever the header says.
    pub trusted_proxies: Vec<String>,
    /// A client must send a request's headers within this time of connecting (or of the
    /// previous response, after keep-alive), else the connection is closed (slowloris).
    pub header_timeout_seconds: u64,
    /// An idle keep-alive connection is closed after this long.
    pub keep_alive_seconds: u64,
    /// A request body that sends nothing for this long ends the request with an error
    /// (a stalled upload); its upload session stays resumable.
    pub body_idle_timeout_seconds: u64,
}

impl HttpConfig {
    pub fn validate_clients(&self) -> Result<(), String> {
        pier_shared::slow::Clients::check_settings(
            &self.trusted_proxies,
            self.header_timeout_seconds,
            self.body_idle_timeout_seconds,
        )
    }

    /// The settings [`pier_shared::slow`] applies to the server.
    pub fn clients(&self) -> pier_shared::slow::Clients {
        pier_shared::slow::Clients::from_seconds(
            self.header_timeout_seconds,
            self.keep_alive_seconds,
            self.body_idle_timeout_seconds,
        )
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:5000".into(),
            tls_certificate: String::new(),
            tls_key: String::new(),
            tls_reload_seconds: 10,
            workers: 0,
            trusted_proxies: Vec::new(),
            header_timeout_seconds: 10,
            keep_alive_seconds: 5,
            body_idle_timeout_seconds: 60,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (the default, one machine) or `postgres://USER:PASS@HOST:PORT/DB`
    /// (any number of replicas). A secret: it may carry a password (`_FILE` works).
    pub url: Secret,
    /// Connections in this process's pool.
    pub pool_size: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: Secret::new("sqlite://pier-data/registry/metadata.db"),
            pool_size: 8,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest manifest accepted, in bytes (at least 4 MiB per the OCI spec); larger → 413.
    pub manifest_max_bytes: usize,
    /// Largest page of `_catalog` and tags list (referrers are not paged).
    pub max_page_size: usize,
    /// Page size of `_catalog` when the client gives no `n`.
    pub catalog_default_page_size: usize,
    /// Largest JSON body of the v1 protocol (an image's json, a tag); larger → 413.
    pub json_max_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            manifest_max_bytes: 4 * 1024 * 1024,
            max_page_size: 10_000,
            catalog_default_page_size: 1_000,
            json_max_bytes: 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct UploadsConfig {
    /// `POST ?mount=<digest>` without `from`: mount a blob the registry already stores.
    pub automatic_mount: bool,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        UploadsConfig {
            automatic_mount: true,
        }
    }
}

/// What garbage collection does with manifests no tag points at.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum UntaggedPolicy {
    /// Keep them (reachable by digest) for ever.
    #[default]
    Keep,
    /// Delete those older than `gc.untagged_age_seconds` that no index, and no subject
    /// still present, needs.
    DeleteAfter,
}

/// `[gc]`: online garbage collection (see `crate::gc` and docs/deletion.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GcConfig {
    /// Seconds between two background runs; 0 turns the background task off
    /// (`pier-registry gc` still works).
    pub interval_seconds: u64,
    /// How long a blob must have been unreferenced before its bytes are deleted.
    pub grace_seconds: u64,
    /// `keep` (default) or `delete-after`.
    pub untagged: UntaggedPolicy,
    /// With `untagged = "delete-after"`: the least age of an untagged manifest deleted.
    pub untagged_age_seconds: u64,
    /// Upload sessions without progress for this long expire (rows and bytes).
    pub upload_max_age_seconds: u64,
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            interval_seconds: 3600,
            grace_seconds: 3600,
            untagged: UntaggedPolicy::Keep,
            untagged_age_seconds: 7 * 24 * 3600,
            upload_max_age_seconds: 24 * 3600,
        }
    }
}

/// Who may use the API: nobody is asked (`none`), or Docker v2 token auth against pier-index.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Anonymous: every request is served (the behaviour before token auth existed).
    #[default]
    None,
    /// Every `/v2` request needs a Bearer token from the index, confirmed with the index.
    Token,
}

pub use pier_shared::config::Secret;

/// `[auth]`: token verification (see `crate::auth` and docs/registry-auth.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `none` (default) or `token`.
    pub mode: AuthMode,
    /// The token endpoint clients are sent to (`<index>/token`), in the challenge.
    pub realm: String,
    /// This registry's name: the `service` of the challenge and the expected `aud`.
    pub service: String,
    /// The expected `iss` of tokens.
    pub issuer: String,
    /// Where the index publishes its keys (`<index>/.well-known/jwks.json`).
    pub jwks_url: String,
    /// A JWKS file with trusted keys (read at start), instead of or beside `jwks_url`.
    pub jwks_file: String,
    /// Least time between two fetches of `jwks_url` caused by an unknown `kid`.
    pub jwks_refetch_seconds: u64,
    /// The index's RFC 7662 endpoint (`<index>/introspect`).
    pub introspection_url: String,
    /// HTTP Basic user name the registry presents to the introspection endpoint.
    pub introspection_client: String,
    /// HTTP Basic password for the introspection endpoint.
    pub introspection_secret: Secret,
    /// How long the index's answer about a token (per needed scope) is reused.
    pub confirm_ttl_seconds: u64,
    /// Most answers kept in the confirmation cache.
    pub confirm_cache_entries: usize,
    /// Time limit of one request to the index (keys or introspection).
    pub index_timeout_seconds: u64,
    /// Seconds between two probes of the index (writes are refused while it does not
    /// answer); 0: no probe, only real confirmations tell.
    pub index_probe_seconds: u64,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_seconds: u64,
    /// Signature algorithms accepted (asymmetric only).
    pub algorithms: Vec<String>,
    /// PEM certificates trusted for `https://` index URLs (empty: the public web roots).
    pub ca_certificate: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            mode: AuthMode::None,
            realm: String::new(),
            service: "pier-registry".into(),
            issuer: "pier-index".into(),
            jwks_url: String::new(),
            jwks_file: String::new(),
            jwks_refetch_seconds: 10,
            introspection_url: String::new(),
            introspection_client: "registry".into(),
            introspection_secret: Secret::default(),
            confirm_ttl_seconds: 10,
            confirm_cache_entries: 10_000,
            index_timeout_seconds: 5,
            index_probe_seconds: 2,
            leeway_seconds: 60,
            algorithms: vec!["ES256".into()],
            ca_certificate: String::new(),
        }
    }
}

impl AuthConfig {
    fn validate(&self) -> Result<(), String> {
        if self.mode == AuthMode::None {
            return Ok(());
        }
        let url = |key: &str, v: &str| {
            if v.starts_with("http://") || v.starts_with("https://") {
                Ok(())
            } else {
                Err(format!("auth.{key} must be an http:// or https:// URL"))
            }
        };
        url("realm", &self.realm)?;
        url("introspection_url", &self.introspection_url)?;
        if self.jwks_url.is_empty() && self.jwks_file.is_empty() {
            return Err("auth.mode = \"token\" needs auth.jwks_url or auth.jwks_file".into());
        }
        if !self.jwks_url.is_empty() {
            url("jwks_url", &self.jwks_url)?;
        }
        if self.introspection_secret.is_empty() {
            return Err("auth.mode = \"token\" needs auth.introspection_secret".into());
        }
        for (key, v) in [("realm", &self.realm), ("service", &self.service)] {
            if v.contains(['"', '\\']) || v.chars().any(char::is_control) {
                return Err(format!(
                    "auth.{key} may not contain quotes or control characters"
                ));
            }
        }
        if self.service.is_empty() || self.issuer.is_empty() {
            return Err("auth.service and auth.issuer may not be empty".into());
        }
        if self.algorithms.is_empty() {
            return Err("auth.algorithms may not be empty".into());
        }
        for a in &self.algorithms {
            crate::auth::verify::parse_algorithm(a).map_err(|e| format!("auth.algorithms: {e}"))?;
        }
        Ok(())
    }
}

impl RegistryConfig {
    /// Defaults, then `file`, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, pier_shared::config::ConfigError> {
        Self::load_over(RegistryConfig::default(), file)
    }

    /// `base`, then `file`, then the environment.
    pub fn load_over(
        base: RegistryConfig,
        file: Option<&Path>,
    ) -> Result<Self, pier_shared::config::ConfigError> {
        let c: RegistryConfig = pier_shared::config::load_over(base, file, ENV_PREFIX)?;
        c.validate()?;
        Ok(c)
    }

    /// Defaults with storage and database under `dir` (tests, `pier up`).
    pub fn under(dir: &Path) -> Self {
        let mut c = RegistryConfig::default();
        c.storage.root = dir.join("storage");
        c.database.url = Secret::new(format!("sqlite://{}", dir.join("metadata.db").display()));
        c
    }

    pub fn validate(&self) -> Result<(), pier_shared::config::ConfigError> {
        use pier_shared::config::ConfigError::Invalid;
        if self.limits.manifest_max_bytes < 4 * 1024 * 1024 {
            return Err(Invalid(
                "limits.manifest_max_bytes must be at least 4194304".into(),
            ));
        }
        if self.http.tls_certificate.is_empty() != self.http.tls_key.is_empty() {
            return Err(Invalid(
                "http.tls_certificate and http.tls_key go together".into(),
            ));
        }
        if self.limits.max_page_size == 0 || self.limits.catalog_default_page_size == 0 {
            return Err(Invalid("page sizes must be positive".into()));
        }
        let v1 = &self.v1.index_url;
        if !(v1.is_empty() || v1.starts_with("http://") || v1.starts_with("https://")) {
            return Err(Invalid(
                "v1.index_url must be an http:// or https:// URL".into(),
            ));
        }
        if self.v1.session_seconds == 0 || self.v1.max_sessions == 0 {
            return Err(Invalid(
                "v1.session_seconds and v1.max_sessions must be positive".into(),
            ));
        }
        self.storage.validate().map_err(Invalid)?;
        self.http.validate_clients().map_err(Invalid)?;
        self.metrics.check(&self.http.listen).map_err(Invalid)?;
        self.rate_limit.validate().map_err(Invalid)?;
        self.mirror.validate().map_err(Invalid)?;
        self.notifications.validate().map_err(Invalid)?;
        self.auth.validate().map_err(Invalid)
    }

    /// The configuration with secrets replaced, for printing (`check-config`).
    pub fn redacted(&self) -> RegistryConfig {
        let mut c = self.clone();
        if !c.auth.introspection_secret.is_empty() {
            c.auth.introspection_secret = Secret::new("<redacted>");
        }
        c.database.url = Secret::new(pier_shared::db::redact(c.database.url.expose()));
        if !c.storage.s3.secret_access_key.is_empty() {
            c.storage.s3.secret_access_key = Secret::new("<redacted>");
        }
        for u in &mut c.mirror.upstreams {
            if !u.password.is_empty() {
                u.password = Secret::new("<redacted>");
            }
        }
        for e in &mut c.notifications.endpoints {
            if !e.secret.is_empty() {
                e.secret = Secret::new("<redacted>");
            }
            for v in e.headers.values_mut() {
                *v = "<redacted>".into();
            }
        }
        c
    }
}
