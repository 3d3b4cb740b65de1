//! pier-registry's configuration: one typed struct, a TOML file, then `PIER_REGISTRY_…`
//! environment overrides (see `pier_shared::config`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const ENV_PREFIX: &str = "PIER_REGISTRY";

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    pub http: HttpConfig,
    pub storage: StorageConfig,
    pub database: DatabaseConfig,
    pub limits: LimitsConfig,
    pub uploads: UploadsConfig,
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
    /// Worker threads (0: one per core).
    pub workers: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:5000".into(),
            tls_certificate: String::new(),
            tls_key: String::new(),
            workers: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Root directory of the filesystem driver.
    pub root: PathBuf,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            root: PathBuf::from("pier-data/registry/storage"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (default) — PostgreSQL is planned, see docs/configuration.md.
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://pier-data/registry/metadata.db".into(),
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
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            manifest_max_bytes: 4 * 1024 * 1024,
            max_page_size: 10_000,
            catalog_default_page_size: 1_000,
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
        c.database.url = format!("sqlite://{}", dir.join("metadata.db").display());
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
        Ok(())
    }
}
