//! pier-index's configuration: one typed struct, a TOML file, then `PIER_INDEX_…`
//! environment overrides (see `pier_shared::config`; secrets also from `…_FILE`).
//!
//! Secrets are [`Secret`]s: they serialise as themselves (the loader round-trips the tree
//! through TOML) but print as `Secret(<redacted>)` in `Debug`; `check-config` prints
//! [`IndexConfig::redacted`].

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const ENV_PREFIX: &str = "PIER_INDEX";

pub use pier_shared::config::Secret;

mod abuse;
pub use abuse::{LimitsConfig, LoginThrottleConfig};

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub token: TokenConfig,
    pub registry: RegistryLinkConfig,
    pub admin: AdminConfig,
    pub passwords: PasswordConfig,
    pub v1: V1Config,
    pub keys: KeysConfig,
    pub login_throttle: LoginThrottleConfig,
    pub limits: LimitsConfig,
    pub rate_limit: pier_shared::rate_limit::RateLimitConfig,
    /// `[metrics]`: `GET /metrics` on a listener of its own (docs/metrics.md).
    pub metrics: pier_shared::metrics::MetricsConfig,
    /// `[log]`: the log's format (`text` or `json`; the filter is `PIER_INDEX_LOG`).
    pub log: pier_shared::logging::LogConfig,
}

/// `[keys]`: the token signing keys every replica shares (docs/token-flow.md, "Signing keys").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// Key-encryption key sealing the private keys in the database: 32 bytes, base64
    /// (`openssl rand -base64 32`) or 64 hex digits. The same on every replica. Empty: a
    /// key made on first start in `<token.key_dir>/key-encryption-key` (single node).
    pub encryption_key: Secret,
    /// How often each replica reloads the keys from the database.
    pub reload_seconds: u64,
    /// How long `keys rotate` publishes a new key before it signs with it. At least the
    /// JWKS `max-age` (300) plus `reload_seconds`.
    pub publish_seconds: u64,
}

impl Default for KeysConfig {
    fn default() -> Self {
        KeysConfig {
            encryption_key: Secret::default(),
            reload_seconds: 30,
            publish_seconds: 600,
        }
    }
}

impl KeysConfig {
    /// The shortest publish delay that is safe with this reload interval.
    pub fn min_publish_seconds(&self) -> u64 {
        crate::keys::JWKS_MAX_AGE_SECONDS + self.reload_seconds
    }
}

/// `[v1]`: the legacy Docker v1 index protocol (docs/legacy-v1.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct V1Config {
    /// Serve `/v1/…` at all.
    pub enabled: bool,
    /// `X-Docker-Endpoints`: the registries (`host:port`) clients are sent to. Empty: the
    /// host and port of `registry.url`.
    pub endpoints: Vec<String>,
    /// Lifetime of a v1 token (it is also used up by its first confirmation).
    pub token_lifetime_seconds: u64,
    /// `POST /v1/users/` creates accounts (else it answers "Username or email already
    /// exists", which makes old clients fall back to a login check).
    pub registration: bool,
    /// After a v1 DELETE, how long the index waits for the client's second DELETE before
    /// its own deletion job clears the repository at the registry.
    pub delete_grace_seconds: u64,
}

impl Default for V1Config {
    fn default() -> Self {
        V1Config {
            enabled: true,
            endpoints: Vec::new(),
            token_lifetime_seconds: 600,
            registration: false,
            delete_grace_seconds: 300,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on.
    pub listen: String,
    /// Base URL clients use to reach the index (the token realm is `<public_url>/token`).
    /// Empty: `http(s)://<bound address>`.
    pub public_url: String,
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

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:5001".into(),
            public_url: String::new(),
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
            url: Secret::new("sqlite://pier-data/index/index.db"),
            pool_size: 8,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// The `iss` of every token; the registry's `issuer`.
    pub issuer: String,
    /// The `aud` of tokens: the `service` the registry announces in its challenge.
    pub service: String,
    /// Other service names accepted on `/token` (each becomes the `aud` when asked for).
    pub extra_services: Vec<String>,
    /// Access-token lifetime (at least 60, the clients' minimum).
    pub lifetime_seconds: u64,
    /// The key-encryption key file made when `keys.encryption_key` is empty, and where
    /// the pre-database key files (`token-signing-key.pem`) are imported from.
    pub key_dir: PathBuf,
    /// Refresh-token (docker identity token) lifetime.
    pub refresh_lifetime_days: u64,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            issuer: "pier-index".into(),
            service: "pier-registry".into(),
            extra_services: Vec::new(),
            lifetime_seconds: 300,
            key_dir: PathBuf::from("pier-data/index/keys"),
            refresh_lifetime_days: 90,
        }
    }
}

impl TokenConfig {
    /// Is `name` a service this index issues tokens for?
    pub fn accepts_service(&self, name: &str) -> bool {
        self.service == name || self.extra_services.iter().any(|s| s == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryLinkConfig {
    /// The registry authenticates to `/introspect` as Basic `registry:<secret>`.
    /// Empty: introspection is disabled (404).
    pub introspection_secret: Secret,
    /// The registry's base URL (`http://127.0.0.1:5000`), for the repository deletion
    /// worker (`DELETE <url>/pier/v1/repositories/<name>`). Empty: deletions wait (logged).
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Password of the `admin` user created on first start; empty: generate and print once.
    pub password: Secret,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordConfig {
    /// bcrypt cost of new hashes (4..=31).
    pub bcrypt_cost: u32,
    /// How long a verified password is remembered (keyed hash only) so that bcrypt is paid
    /// once per login rather than per token; 0 disables the cache.
    pub cache_seconds: u64,
    /// Most users remembered at once.
    pub cache_entries: usize,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            bcrypt_cost: 12,
            cache_seconds: 60,
            cache_entries: 10_000,
        }
    }
}

impl IndexConfig {
    /// Defaults, then `file`, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, pier_shared::config::ConfigError> {
        Self::load_over(IndexConfig::default(), file)
    }

    /// `base`, then `file`, then the environment.
    pub fn load_over(
        base: IndexConfig,
        file: Option<&Path>,
    ) -> Result<Self, pier_shared::config::ConfigError> {
        let c: IndexConfig = pier_shared::config::load_over(base, file, ENV_PREFIX)?;
        c.validate()?;
        Ok(c)
    }

    /// Defaults with the database and the signing keys under `dir` (tests, `pier up`).
    pub fn under(dir: &Path) -> Self {
        let mut c = IndexConfig::default();
        c.database.url = Secret::new(format!("sqlite://{}", dir.join("index.db").display()));
        c.token.key_dir = dir.join("keys");
        c
    }

    /// Do browsers reach the index over HTTPS: it serves TLS itself, or `http.public_url`
    /// is `https://…` (a TLS-terminating proxy in front)? Then the UI's cookies are
    /// `Secure` and every response carries `Strict-Transport-Security`.
    pub fn https(&self) -> bool {
        !self.http.tls_certificate.is_empty() || self.http.public_url.starts_with("https://")
    }

    pub fn validate(&self) -> Result<(), pier_shared::config::ConfigError> {
        use pier_shared::config::ConfigError::Invalid;
        if self.http.tls_certificate.is_empty() != self.http.tls_key.is_empty() {
            return Err(Invalid(
                "http.tls_certificate and http.tls_key go together".into(),
            ));
        }
        if self.token.lifetime_seconds < 60 {
            return Err(Invalid("token.lifetime_seconds must be at least 60".into()));
        }
        if self.token.issuer.is_empty() || self.token.service.is_empty() {
            return Err(Invalid(
                "token.issuer and token.service are required".into(),
            ));
        }
        if self.token.refresh_lifetime_days == 0 {
            return Err(Invalid(
                "token.refresh_lifetime_days must be positive".into(),
            ));
        }
        if !(4..=31).contains(&self.passwords.bcrypt_cost) {
            return Err(Invalid("passwords.bcrypt_cost must be in 4..=31".into()));
        }
        if self.v1.token_lifetime_seconds == 0 {
            return Err(Invalid("v1.token_lifetime_seconds must be positive".into()));
        }
        if self
            .v1
            .endpoints
            .iter()
            .any(|e| e.contains(['/', ',', ' ']))
        {
            return Err(Invalid("v1.endpoints are host:port values".into()));
        }
        if self.keys.reload_seconds == 0 {
            return Err(Invalid("keys.reload_seconds must be positive".into()));
        }
        if self.keys.publish_seconds < self.keys.min_publish_seconds() {
            return Err(Invalid(format!(
                "keys.publish_seconds must be at least {} (JWKS max-age {} + keys.reload_seconds)",
                self.keys.min_publish_seconds(),
                crate::keys::JWKS_MAX_AGE_SECONDS
            )));
        }
        if !self.keys.encryption_key.is_empty() {
            crate::keys::kek::parse(self.keys.encryption_key.expose()).map_err(Invalid)?;
        }
        let t = &self.login_throttle;
        if t.max_failures > 0 && (t.window_seconds == 0 || t.block_seconds == 0) {
            return Err(Invalid(
                "login_throttle.window_seconds and block_seconds must be positive".into(),
            ));
        }
        self.http.validate_clients().map_err(Invalid)?;
        self.metrics.check(&self.http.listen).map_err(Invalid)?;
        self.rate_limit.validate().map_err(Invalid)?;
        let url = &self.http.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Invalid(
                "http.public_url must start with http:// or https://".into(),
            ));
        }
        Ok(())
    }

    /// A copy safe to print: every non-empty secret replaced by `<redacted>`.
    pub fn redacted(&self) -> IndexConfig {
        let hide = |s: &Secret| {
            if s.is_empty() {
                Secret::default()
            } else {
                Secret::new("<redacted>")
            }
        };
        let mut c = self.clone();
        c.registry.introspection_secret = hide(&c.registry.introspection_secret);
        c.admin.password = hide(&c.admin.password);
        c.database.url = Secret::new(pier_shared::db::redact(c.database.url.expose()));
        c.keys.encryption_key = hide(&c.keys.encryption_key);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_redact_themselves() {
        let mut c = IndexConfig::default();
        c.admin.password = Secret::new("hunter2");
        c.registry.introspection_secret = Secret::new("s3cret");
        c.keys.encryption_key = Secret::new("a2VrLWtlay1rZWsta2VrLWtlay1rZWsta2VrLWtlayE=");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2") && !dbg.contains("s3cret"), "{dbg}");
        assert!(!dbg.contains("a2Vr"), "{dbg}");
        let printed = toml::to_string(&c.redacted()).unwrap();
        assert!(!printed.contains("hunter2") && printed.contains("<redacted>"));
        assert!(!printed.contains("a2Vr"), "{printed}");
    }

    #[test]
    fn env_overrides_and_file_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("secret");
        std::fs::write(&f, "from-file\n").unwrap();
        let env = [
            ("PIER_INDEX_TOKEN_LIFETIME_SECONDS", "120"),
            ("PIER_INDEX_TOKEN_EXTRA_SERVICES", "a,b"),
            ("PIER_INDEX_ADMIN_PASSWORD", "pw"),
            (
                "PIER_INDEX_REGISTRY_INTROSPECTION_SECRET_FILE",
                f.to_str().unwrap(),
            ),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let c: IndexConfig =
            pier_shared::config::load_with_env(IndexConfig::default(), None, ENV_PREFIX, &env)
                .unwrap();
        assert_eq!(c.token.lifetime_seconds, 120);
        assert_eq!(c.token.extra_services, ["a", "b"]);
        assert_eq!(c.admin.password.expose(), "pw");
        assert_eq!(c.registry.introspection_secret.expose(), "from-file");
        assert!(c.token.accepts_service("b") && !c.token.accepts_service("c"));
    }

    #[test]
    fn key_encryption_key_from_a_file_and_publish_delay_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("kek");
        std::fs::write(&f, "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n").unwrap();
        let env = [
            ("PIER_INDEX_KEYS_ENCRYPTION_KEY_FILE", f.to_str().unwrap()),
            ("PIER_INDEX_KEYS_PUBLISH_SECONDS", "330"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let mut c: IndexConfig =
            pier_shared::config::load_with_env(IndexConfig::default(), None, ENV_PREFIX, &env)
                .unwrap();
        c.validate().unwrap();
        assert_eq!(
            crate::keys::kek::parse(c.keys.encryption_key.expose()).unwrap(),
            [7; 32]
        );
        c.keys.publish_seconds = 329;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("at least 330"));
    }
}
