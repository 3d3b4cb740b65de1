//! The index's Prometheus metrics (`pier_index_*`), beside the HTTP and database-pool
//! series every Pier service has (`pier_shared::metrics`). One [`IndexMetrics`] per
//! [`crate::state::Index`]. Labels come from fixed sets (grant type, outcome, reason):
//! never a user, a namespace or a token. docs/metrics.md lists every series.

use pier_shared::metrics::{HttpMetrics, PoolCollector};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrantLabels {
    pub grant_type: &'static str,
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Debug, Clone)]
pub struct IndexMetrics {
    pub http: HttpMetrics,
    /// `/token`: by grant type (`basic`, `anonymous`, `password`, `refresh_token`,
    /// `unsupported`) and outcome (`issued` or the OAuth error code).
    pub tokens: Family<GrantLabels, Counter>,
    /// `/introspect` answers: `active`, `inactive`, `error`.
    pub introspections: Family<OutcomeLabel, Counter>,
    /// Failed logins: `bad_credentials` (counted by the throttle) or `throttled` (refused
    /// unchecked).
    pub login_failures: Family<ReasonLabel, Counter>,
    exposed: Arc<Registry>,
}

impl IndexMetrics {
    /// The series, with the database pool's gauges read from `db` at scrape time.
    pub fn new(db: &pier_shared::db::Db) -> IndexMetrics {
        let m = IndexMetrics {
            http: HttpMetrics::default(),
            tokens: Family::default(),
            introspections: Family::default(),
            login_failures: Family::default(),
            exposed: Arc::new(Registry::default()),
        };
        let mut r = Registry::with_prefix("pier");
        m.http.register(&mut r);
        r.register_collector(Box::new(PoolCollector(db.clone())));
        let index = r.sub_registry_with_prefix("index");
        index.register(
            "tokens",
            "Token endpoint answers, by grant type and outcome",
            m.tokens.clone(),
        );
        index.register(
            "introspections",
            "Introspection (RFC 7662) answers to the registry, by outcome",
            m.introspections.clone(),
        );
        index.register(
            "login_failures",
            "Failed logins, by reason (bad_credentials, throttled)",
            m.login_failures.clone(),
        );
        IndexMetrics {
            exposed: Arc::new(r),
            ..m
        }
    }

    pub fn token(&self, grant_type: &'static str, outcome: &'static str) {
        self.tokens
            .get_or_create(&GrantLabels {
                grant_type,
                outcome,
            })
            .inc();
    }

    pub fn login_failure(&self, reason: &'static str) {
        self.login_failures
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// What the metrics listener serves.
    pub fn exposed(&self) -> Arc<Registry> {
        Arc::clone(&self.exposed)
    }
}
