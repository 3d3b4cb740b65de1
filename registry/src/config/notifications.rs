//! `[notifications]`: where the registry sends its events (docs/notifications.md).
//!
//! ```toml
//! [[notifications.endpoints]]
//! name = "ci"
//! url = "http://127.0.0.1:9000/events"
//! headers = { Authorization = "Bearer xyz" }
//! actions = ["push", "delete"]   # default: all but pull
//! timeout_seconds = 5
//! secret = "…"                   # HMAC key for X-Pier-Signature (or secret_file)
//! ```

use pier_shared::config::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The actions an event can have, in distribution's words.
pub const ACTIONS: [&str; 4] = ["push", "pull", "delete", "mount"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    pub endpoints: Vec<EndpointConfig>,
    /// How often (seconds) the set of per-namespace webhooks is read from the index
    /// (token mode); 0: webhooks are not delivered by this registry.
    pub webhook_refresh_seconds: u64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            endpoints: Vec::new(),
            webhook_refresh_seconds: 10,
        }
    }
}

/// Queue names of per-namespace webhooks are `webhook-<id>`: no configured endpoint may
/// take one.
pub const WEBHOOK_QUEUE_PREFIX: &str = "webhook-";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointConfig {
    /// Names the endpoint's queue and delivery state: keep it when the URL changes, and
    /// pending events follow to the new URL.
    pub name: String,
    /// Where envelopes are POSTed (`http://` or `https://`).
    pub url: String,
    /// Extra request headers (an `Authorization` the receiver expects).
    pub headers: BTreeMap<String, String>,
    /// Which actions are sent (`push`, `pull`, `delete`, `mount`); default all but `pull`.
    pub actions: Vec<String>,
    /// Time limit of one delivery (connect and answer).
    pub timeout_seconds: u64,
    /// HMAC-SHA256 key of `X-Pier-Signature`; empty: requests are not signed.
    pub secret: Secret,
    /// A file holding the secret (read at start), instead of `secret`.
    pub secret_file: String,
    /// First wait after a failed delivery; doubled on each further failure.
    pub backoff_seconds: u64,
    /// Longest wait between two attempts.
    pub backoff_max_seconds: u64,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            name: String::new(),
            url: String::new(),
            headers: BTreeMap::new(),
            actions: vec!["push".into(), "delete".into(), "mount".into()],
            timeout_seconds: 5,
            secret: Secret::default(),
            secret_file: String::new(),
            backoff_seconds: 1,
            backoff_max_seconds: 300,
        }
    }
}

impl EndpointConfig {
    /// The HMAC key, from `secret` or read from `secret_file`.
    pub fn secret(&self) -> Result<Secret, String> {
        if self.secret_file.is_empty() {
            return Ok(self.secret.clone());
        }
        let text = std::fs::read_to_string(&self.secret_file).map_err(|e| {
            format!(
                "notifications endpoint {}: secret_file {}: {e}",
                self.name, self.secret_file
            )
        })?;
        Ok(Secret::new(text.trim_end_matches(['\r', '\n'])))
    }
}

impl NotificationsConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (i, e) in self.endpoints.iter().enumerate() {
            let what = format!("notifications.endpoints[{i}]");
            let name_ok = !e.name.is_empty()
                && e.name.len() <= 64
                && e.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !name_ok {
                return Err(format!(
                    "{what}.name {:?} must be 1 to 64 letters, digits, '-', '_' or '.'",
                    e.name
                ));
            }
            if e.name.starts_with(WEBHOOK_QUEUE_PREFIX) {
                return Err(format!(
                    "{what}.name {:?}: names starting with {WEBHOOK_QUEUE_PREFIX:?} are the \
                     queues of per-namespace webhooks",
                    e.name
                ));
            }
            if self.endpoints[..i].iter().any(|o| o.name == e.name) {
                return Err(format!("{what}.name {:?} is used twice", e.name));
            }
            let scheme_ok = e.url.starts_with("http://") || e.url.starts_with("https://");
            if !scheme_ok || e.url.parse::<actix_web::http::Uri>().is_err() {
                return Err(format!("{what}.url must be an http:// or https:// URL"));
            }
            for a in &e.actions {
                if !ACTIONS.contains(&a.as_str()) {
                    return Err(format!(
                        "{what}.actions: {a:?} is not one of push, pull, delete, mount"
                    ));
                }
            }
            for (k, v) in &e.headers {
                let ok = actix_web::http::header::HeaderName::try_from(k.as_str()).is_ok()
                    && actix_web::http::header::HeaderValue::from_str(v).is_ok();
                if !ok {
                    return Err(format!("{what}.headers: {k:?} is not a valid header"));
                }
            }
            if e.timeout_seconds == 0 || e.backoff_seconds == 0 {
                return Err(format!(
                    "{what}: timeout_seconds and backoff_seconds must be positive"
                ));
            }
            if e.backoff_max_seconds < e.backoff_seconds {
                return Err(format!(
                    "{what}.backoff_max_seconds may not be less than backoff_seconds"
                ));
            }
            if !e.secret.is_empty() && !e.secret_file.is_empty() {
                return Err(format!("{what}: secret and secret_file exclude each other"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str) -> EndpointConfig {
        EndpointConfig {
            name: name.into(),
            url: "http://127.0.0.1:9000/events".into(),
            ..Default::default()
        }
    }

    #[test]
    fn parses_the_documented_form() {
        let c: crate::RegistryConfig = toml::from_str(
            r#"
            [[notifications.endpoints]]
            name = "ci"
            url = "http://127.0.0.1:9000/events"
            headers = { Authorization = "Bearer xyz" }
            actions = ["push", "delete"]
            timeout_seconds = 5
            secret = "k"
            "#,
        )
        .unwrap();
        let e = &c.notifications.endpoints[0];
        assert_eq!(e.headers["Authorization"], "Bearer xyz");
        assert_eq!(e.actions, ["push", "delete"]);
        assert_eq!(e.secret.expose(), "k");
        assert!(c.notifications.validate().is_ok());
    }

    #[test]
    fn check_config_hides_secrets_and_headers() {
        let mut c = crate::RegistryConfig::default();
        let mut e = endpoint("a");
        e.secret = Secret::new("hunter2");
        e.headers
            .insert("Authorization".into(), "Bearer xyz".into());
        c.notifications.endpoints.push(e);
        let shown = toml::to_string(&c.redacted()).unwrap();
        assert!(
            !shown.contains("hunter2") && !shown.contains("xyz"),
            "{shown}"
        );
        assert!(shown.contains("Authorization"), "{shown}");
    }

    #[test]
    fn default_actions_are_all_but_pull() {
        assert_eq!(endpoint("a").actions, ["push", "delete", "mount"]);
    }

    #[test]
    fn refuses_bad_endpoints() {
        let bad = |e: EndpointConfig| {
            NotificationsConfig {
                endpoints: vec![e],
                ..Default::default()
            }
            .validate()
            .unwrap_err()
        };
        assert!(bad(endpoint("")).contains("name"));
        assert!(bad(endpoint("webhook-1")).contains("webhooks"));
        assert!(bad(EndpointConfig {
            url: "ftp://x".into(),
            ..endpoint("a")
        })
        .contains("url"));
        assert!(bad(EndpointConfig {
            actions: vec!["tag".into()],
            ..endpoint("a")
        })
        .contains("actions"));
        assert!(bad(EndpointConfig {
            secret: Secret::new("x"),
            secret_file: "/f".into(),
            ..endpoint("a")
        })
        .contains("exclude"));
        let twice = NotificationsConfig {
            endpoints: vec![endpoint("a"), endpoint("a")],
            ..Default::default()
        };
        assert!(twice.validate().unwrap_err().contains("twice"));
    }
}
