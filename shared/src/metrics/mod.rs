//! Prometheus metrics, served on a listener of their own (`metrics.listen`), never on a
//! service's public port: a scrape endpoint says how busy each repository route is and how
//! the database and the index behave, which is nobody's business outside the operators'.
//!
//! This module owns what both services share, so that they expose one vocabulary:
//!
//! ```text
//! MetricsConfig        [metrics] listen = "127.0.0.1:5002"   ("" = off)       (here)
//! HttpMetrics + track  requests by route template, method, status; latency;   (http.rs)
//!                      bytes received and sent: an actix middleware
//! PoolCollector        database pool size / in use / idle / waiting, read at  (pool.rs)
//!                      scrape time from the pool itself
//! listener::bind       `GET /metrics` in the Prometheus text format           (listener.rs)
//! ```
//!
//! Each service keeps its own metrics (uploads, GC, tokens, …) in its own `metrics`
//! module and registers them, with these, into one [`prometheus_client::registry::Registry`]
//! per service. Labels are always from small fixed sets (route *templates*, methods, status
//! codes, operation names): never a repository, a user, a digest or a raw path, so that a
//! client cannot grow the exposition without bound.

pub mod http;
pub mod listener;
pub mod pool;

pub use http::{HttpMetrics, RouteTemplate};
pub use pool::PoolCollector;

use serde::{Deserialize, Serialize};

/// `[metrics]`: where `GET /metrics` is served (`PIER_<SERVICE>_METRICS_LISTEN`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// `host:port` of the metrics listener; empty (the default) turns metrics off. Keep it
    /// on loopback or a management network: it has no authentication.
    pub listen: String,
}

impl MetricsConfig {
    pub fn enabled(&self) -> bool {
        !self.listen.is_empty()
    }

    /// The listener must be an address (`host:port`) and not the service's own
    /// `http.listen`, where the metrics would become public.
    pub fn check(&self, http_listen: &str) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        if self.listen == http_listen {
            return Err(format!(
                "metrics.listen {} is http.listen: metrics are served on a listener of their own",
                self.listen
            ));
        }
        if !self.listen.contains(':') {
            return Err(format!("metrics.listen {:?} is not host:port", self.listen));
        }
        Ok(())
    }
}

/// Latency buckets in seconds, for HTTP requests and calls to other services: from a cached
/// manifest HEAD (milliseconds) to a large blob upload's final PUT (minutes).
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// A histogram with [`LATENCY_BUCKETS`], for `Family::new_with_constructor`.
pub fn latency_histogram() -> prometheus_client::metrics::histogram::Histogram {
    prometheus_client::metrics::histogram::Histogram::new(LATENCY_BUCKETS)
}

/// The text exposition of `registry` (Prometheus text format 0.0.4).
pub fn encode(registry: &prometheus_client::registry::Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail; an encoder error would be a bug in a collector.
    if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, registry) {
        log::error!("metrics: encoding failed: {e}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_is_checked() {
        let off = MetricsConfig::default();
        assert!(!off.enabled() && off.check("127.0.0.1:5000").is_ok());
        let on = |l: &str| MetricsConfig { listen: l.into() };
        assert!(on("127.0.0.1:5002").check("127.0.0.1:5000").is_ok());
        assert!(on("127.0.0.1:5000").check("127.0.0.1:5000").is_err());
        assert!(on("5002").check("127.0.0.1:5000").is_err());
    }

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Service {
        metrics: MetricsConfig,
    }

    #[test]
    fn set_by_file_and_by_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[metrics]\nlisten = \"127.0.0.1:5002\"\n").unwrap();
        let load = |env: &[(&str, &str)]| -> Service {
            let env: Vec<(String, String)> = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            crate::config::load_with_env(Service::default(), Some(&file), "PIER_X", &env).unwrap()
        };
        assert_eq!(load(&[]).metrics.listen, "127.0.0.1:5002");
        let moved = load(&[("PIER_X_METRICS_LISTEN", "127.0.0.1:9102")]);
        assert_eq!(moved.metrics.listen, "127.0.0.1:9102");
        assert!(!load(&[("PIER_X_METRICS_LISTEN", "")]).metrics.enabled());
    }
}
