//! `[storage]`: which driver holds the bytes, and its settings (docs/storage.md).

use pier_shared::config::Secret;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageDriver {
    /// Files under `storage.root` (default).
    #[default]
    Filesystem,
    /// An S3-compatible object store (`storage.s3`).
    S3,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `filesystem` (default) or `s3`.
    pub driver: StorageDriver,
    /// Root directory of the filesystem driver.
    pub root: PathBuf,
    /// The S3 driver's settings (used with `driver = "s3"`).
    pub s3: S3Config,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            driver: StorageDriver::Filesystem,
            root: PathBuf::from("pier-data/registry/storage"),
            s3: S3Config::default(),
        }
    }
}

/// `[storage.s3]`. Only these settings choose where the driver writes: no `AWS_*`
/// environment variable is read (see docs/storage.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// `https://host[:port]` (or `http://` for a local test engine); empty: AWS's
    /// regional endpoint for `region`.
    pub endpoint: String,
    pub bucket: String,
    /// The signing region (Garage: its `s3_region`, e.g. `garage`).
    pub region: String,
    pub access_key_id: String,
    /// Also `PIER_REGISTRY_STORAGE_S3_SECRET_ACCESS_KEY_FILE`.
    pub secret_access_key: Secret,
    /// Key prefix inside the bucket (`a/b`), so that several registries can share one.
    pub prefix: String,
    /// `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (Garage,
    /// MinIO and most self-hosted engines need it).
    pub force_path_style: bool,
    /// Blob GETs answer 307 to a presigned URL of the object instead of streaming it.
    pub redirect: bool,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: String::new(),
            bucket: String::new(),
            region: "us-east-1".into(),
            access_key_id: String::new(),
            secret_access_key: Secret::default(),
            prefix: String::new(),
            force_path_style: false,
            redirect: false,
        }
    }
}

impl StorageConfig {
    pub fn validate(&self) -> Result<(), String> {
        match self.driver {
            StorageDriver::Filesystem if self.root.as_os_str().is_empty() => {
                Err("storage.root may not be empty with storage.driver = \"filesystem\"".into())
            }
            StorageDriver::Filesystem => Ok(()),
            StorageDriver::S3 => self.s3.validate(),
        }
    }
}

impl S3Config {
    fn validate(&self) -> Result<(), String> {
        let need = |key: &str, empty: bool| {
            if empty {
                Err(format!("storage.driver = \"s3\" needs storage.s3.{key}"))
            } else {
                Ok(())
            }
        };
        need("bucket", self.bucket.is_empty())?;
        need("region", self.region.is_empty())?;
        need("access_key_id", self.access_key_id.is_empty())?;
        need(
            "secret_access_key (or PIER_REGISTRY_STORAGE_S3_SECRET_ACCESS_KEY_FILE)",
            self.secret_access_key.is_empty(),
        )?;
        let e = &self.endpoint;
        let rest = e
            .strip_prefix("https://")
            .or_else(|| e.strip_prefix("http://"));
        if !e.is_empty() && rest.is_none_or(|r| r.is_empty() || r.contains(['?', '#', '@'])) {
            return Err("storage.s3.endpoint must be an http:// or https:// URL \
                        without credentials, query or fragment"
                .into());
        }
        let bucket_ok = self
            .bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err("storage.s3.bucket may hold only a-z, 0-9, '-' and '.'".into());
        }
        let p = self.prefix.trim_matches('/');
        let prefix_ok = p.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
        if !p.is_empty() && !prefix_ok {
            return Err(
                "storage.s3.prefix: '/'-separated components of A-Z, a-z, 0-9, \
                        '-', '_' and '.' (no empty, '.' or '..' component)"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3() -> StorageConfig {
        let mut c = StorageConfig {
            driver: StorageDriver::S3,
            ..StorageConfig::default()
        };
        c.s3.bucket = "pier".into();
        c.s3.access_key_id = "GK1".into();
        c.s3.secret_access_key = Secret::new("s");
        c.s3.endpoint = "http://127.0.0.1:3900".into();
        c
    }

    #[test]
    fn s3_settings_are_checked() {
        assert_eq!(s3().validate(), Ok(()));
        let mut c = s3();
        c.s3.bucket.clear();
        assert!(c.validate().unwrap_err().contains("storage.s3.bucket"));
        let mut c = s3();
        c.s3.secret_access_key = Secret::default();
        assert!(c.validate().unwrap_err().contains("secret_access_key"));
        for bad in ["ftp://x", "http://", "https://u:p@host", "host:3900"] {
            let mut c = s3();
            c.s3.endpoint = bad.into();
            assert!(c.validate().is_err(), "{bad}");
        }
        for bad in ["a//b", "../x", "a/./b", "a b"] {
            let mut c = s3();
            c.s3.prefix = bad.into();
            assert!(c.validate().is_err(), "{bad}");
        }
        let mut c = s3();
        c.s3.prefix = "/team-a/registry/".into();
        assert_eq!(c.validate(), Ok(()));
    }
}
