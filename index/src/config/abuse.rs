//! The abuse-limit settings of pier-index (docs/reliability.md, "Abuse limits"):
//! `[login_throttle]`, `[limits]`, and the slow-client part of `[http]`.

use super::HttpConfig;
use serde::{Deserialize, Serialize};

/// `[login_throttle]`: failed logins at every entry point (`/token`, `/v2/`, the JSON API,
/// the web UI, `/v1`), counted in the database every replica shares (docs/reliability.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LoginThrottleConfig {
    /// Failures of one account from one client address, within `window_seconds`, after
    /// which that pair is answered 429 for `block_seconds`. 0 turns throttling off.
    pub max_failures: u64,
    /// Failures from one client address, over all accounts, after which the address is
    /// answered 429 for `block_seconds` (password spraying). 0: no per-address limit.
    pub max_address_failures: u64,
    /// The window failures are counted in.
    pub window_seconds: u64,
    /// How long a blocked pair or address is refused (`Retry-After`).
    pub block_seconds: u64,
}

impl Default for LoginThrottleConfig {
    fn default() -> Self {
        LoginThrottleConfig {
            max_failures: 5,
            max_address_failures: 30,
            window_seconds: 900,
            block_seconds: 300,
        }
    }
}

/// `[limits]`: the largest body the index reads into memory, per kind; larger → 413.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// JSON bodies: the JSON API (`/api/v1`) and `/v1` (a v1 image list is ~150 bytes an
    /// image).
    pub json_max_bytes: usize,
    /// Form bodies: `POST /token` and the web UI's forms.
    pub form_max_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            json_max_bytes: 1024 * 1024,
            form_max_bytes: 64 * 1024,
        }
    }
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

#[cfg(test)]
mod tests {
    use crate::config::{IndexConfig, ENV_PREFIX};

    #[test]
    fn env_overrides_and_validation() {
        let env = [
            ("PIER_INDEX_LOGIN_THROTTLE_MAX_FAILURES", "7"),
            ("PIER_INDEX_LIMITS_FORM_MAX_BYTES", "4096"),
            ("PIER_INDEX_HTTP_TRUSTED_PROXIES", "10.0.0.0/8,fd00::/8"),
            ("PIER_INDEX_HTTP_BODY_IDLE_TIMEOUT_SECONDS", "30"),
            ("PIER_INDEX_RATE_LIMIT_ENABLED", "true"),
            ("PIER_INDEX_RATE_LIMIT_USER_PER_SECOND", "2.5"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let mut c: IndexConfig =
            pier_shared::config::load_with_env(IndexConfig::default(), None, ENV_PREFIX, &env)
                .unwrap();
        c.validate().unwrap();
        assert_eq!(c.login_throttle.max_failures, 7);
        assert_eq!(c.limits.form_max_bytes, 4096);
        assert_eq!(c.http.trusted_proxies, ["10.0.0.0/8", "fd00::/8"]);
        assert_eq!(c.http.clients().body_idle_timeout.as_secs(), 30);
        assert!(c.rate_limit.enabled && c.rate_limit.user_per_second == 2.5);
        c.http.trusted_proxies = vec!["10.0.0.0/40".into()];
        assert!(c.validate().unwrap_err().to_string().contains("prefix"));
        c.http.trusted_proxies.clear();
        c.rate_limit.user_per_second = 0.0;
        assert!(c.validate().is_err());
        let defaults = IndexConfig::default();
        assert!(!defaults.rate_limit.enabled, "off by default");
        assert_eq!(defaults.login_throttle.max_failures, 5, "on by default");
    }
}
