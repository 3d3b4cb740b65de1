//! The registry's Prometheus metrics (`pier_registry_*`), beside the HTTP and database-pool
//! series every Pier service has (`pier_shared::metrics`). One [`RegistryMetrics`] per
//! [`crate::state::Registry`]; the code that does the work holds the clone of the series it
//! moves (the auth gate, the storage decorator, GC), so nothing reaches for a global.
//!
//! Labels come from fixed sets only (an operation, a call, an outcome): never a
//! repository, a digest or a user. docs/metrics.md lists every series.

use crate::routes::path::Route;
use pier_shared::metrics::{latency_histogram, HttpMetrics, PoolCollector, RouteTemplate};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabel {
    pub operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub call: &'static str,
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabel {
    pub call: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    pub result: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Blob uploads and manifest pushes (moved by `routes::uploads` and `routes::manifests`).
#[derive(Debug, Clone, Default)]
pub struct PushMetrics {
    pub uploads_started: Counter,
    pub uploads_completed: Counter,
    pub uploads_failed: Counter,
    pub blob_mounts: Counter,
    pub manifests_pushed: Counter,
}

/// Garbage collection runs (moved by `gc::run`).
#[derive(Debug, Clone, Default)]
pub struct GcMetrics {
    pub runs: Family<ResultLabel, Counter>,
    pub blobs_marked: Counter,
    pub blobs_deleted: Counter,
    pub bytes_freed: Counter,
    /// Unix time of the last run that finished (successfully or not, not skipped).
    pub last_run: Gauge,
}

impl GcMetrics {
    /// One run's outcome (dry runs are not recorded: they change nothing).
    pub fn record<E>(&self, result: &Result<crate::gc::Report, E>) {
        let outcome = match result {
            Ok(r) if r.skipped => "skipped",
            Ok(_) => "ok",
            Err(_) => "error",
        };
        self.runs
            .get_or_create(&ResultLabel { result: outcome })
            .inc();
        if let Ok(r) = result {
            self.blobs_marked.inc_by(r.blobs_marked as u64);
            self.blobs_deleted.inc_by(r.blobs_deleted as u64);
            self.bytes_freed.inc_by(r.bytes_freed);
        }
        if outcome != "skipped" {
            self.last_run.set(pier_shared::db::now());
        }
    }
}

/// Calls to the index (JWKS, introspection, mirror registration, v1 checks) and the
/// confirmation cache in front of introspection.
#[derive(Debug, Clone)]
pub struct IndexMetrics {
    pub calls: Family<CallLabels, Counter>,
    pub duration: Histograms<CallLabel>,
    pub confirm_cache: Family<ResultLabel, Counter>,
}

impl Default for IndexMetrics {
    fn default() -> Self {
        IndexMetrics {
            calls: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
            confirm_cache: Family::default(),
        }
    }
}

impl IndexMetrics {
    /// One call to the index: its latency and outcome (`ok`, `status`, `unreachable`,
    /// `body`).
    pub fn record(&self, call: &'static str, outcome: &'static str, seconds: f64) {
        self.calls
            .get_or_create(&CallLabels { call, outcome })
            .inc();
        self.duration
            .get_or_create(&CallLabel { call })
            .observe(seconds);
    }

    /// `hit`, `miss` (asked the index) or `bypass` (deletes always ask).
    pub fn cache(&self, result: &'static str) {
        self.confirm_cache
            .get_or_create(&ResultLabel { result })
            .inc();
    }
}

/// Storage driver calls (moved by `storage::timed`).
#[derive(Debug, Clone)]
pub struct StorageMetrics {
    pub duration: Histograms<OperationLabel>,
    pub errors: Family<OperationLabel, Counter>,
}

impl Default for StorageMetrics {
    fn default() -> Self {
        StorageMetrics {
            duration: Family::new_with_constructor(latency_histogram),
            errors: Family::default(),
        }
    }
}

/// Every series of one registry, and the Prometheus registry they are exposed from.
#[derive(Debug, Clone)]
pub struct RegistryMetrics {
    pub http: HttpMetrics,
    pub push: PushMetrics,
    pub gc: GcMetrics,
    pub index: IndexMetrics,
    pub storage: StorageMetrics,
    exposed: Arc<Registry>,
}

impl RegistryMetrics {
    /// The series, with the database pool's gauges read from `db` at scrape time.
    pub fn new(db: &pier_shared::db::Db) -> RegistryMetrics {
        let m = RegistryMetrics {
            http: HttpMetrics::default(),
            push: PushMetrics::default(),
            gc: GcMetrics::default(),
            index: IndexMetrics::default(),
            storage: StorageMetrics::default(),
            exposed: Arc::new(Registry::default()),
        };
        let mut r = Registry::with_prefix("pier");
        m.http.register(&mut r);
        r.register_collector(Box::new(PoolCollector(db.clone())));
        let reg = r.sub_registry_with_prefix("registry");
        let p = &m.push;
        reg.register(
            "blob_uploads_started",
            "Blob upload sessions opened (POST, and monolithic uploads)",
            p.uploads_started.clone(),
        );
        reg.register(
            "blob_uploads_completed",
            "Blob uploads completed: the digest checked and the blob stored",
            p.uploads_completed.clone(),
        );
        reg.register("blob_uploads_failed", "Blob uploads whose completing request failed (digest or size mismatch, storage or database error)", p.uploads_failed.clone());
        reg.register(
            "blob_mounts",
            "Blobs mounted from another repository instead of uploaded",
            p.blob_mounts.clone(),
        );
        reg.register(
            "manifests_pushed",
            "Manifests stored by PUT",
            p.manifests_pushed.clone(),
        );
        let g = &m.gc;
        reg.register(
            "gc_runs",
            "Garbage collection runs, by result (ok, error, skipped)",
            g.runs.clone(),
        );
        reg.register(
            "gc_blobs_marked",
            "Blobs unreferenced past the grace period whose rows GC deleted",
            g.blobs_marked.clone(),
        );
        reg.register(
            "gc_blobs_deleted",
            "Blob files GC deleted",
            g.blobs_deleted.clone(),
        );
        reg.register(
            "gc_freed_bytes",
            "Bytes of the blob files GC deleted",
            g.bytes_freed.clone(),
        );
        reg.register(
            "gc_last_run_timestamp_seconds",
            "Unix time the last GC run ended (0: none yet)",
            g.last_run.clone(),
        );
        let i = &m.index;
        reg.register(
            "index_calls",
            "Calls to the index, by call (jwks, introspect, probe, mirror_register, webhooks, v1_check) and outcome",
            i.calls.clone(),
        );
        reg.register(
            "index_call_duration_seconds",
            "Latency of calls to the index, by call",
            i.duration.clone(),
        );
        reg.register("confirm_cache", "Token confirmations, by result: hit (cached), miss (asked the index), bypass (deletes)", i.confirm_cache.clone());
        let s = &m.storage;
        reg.register(
            "storage_operation_duration_seconds",
            "Latency of storage driver operations, by operation",
            s.duration.clone(),
        );
        reg.register(
            "storage_errors",
            "Storage driver operations that failed (not-found answers excluded), by operation",
            s.errors.clone(),
        );
        RegistryMetrics {
            exposed: Arc::new(r),
            ..m
        }
    }

    /// What the metrics listener serves.
    pub fn exposed(&self) -> Arc<Registry> {
        Arc::clone(&self.exposed)
    }
}

/// The `route` label of a `/v2` route (the OCI spec's own notation), put into the request
/// for `pier_shared::metrics::http::track`. An unparseable `/v2/…` path is `/v2/<invalid>`.
pub fn route_template(route: Option<&Route>) -> RouteTemplate {
    RouteTemplate(match route {
        None => "/v2/<invalid>",
        Some(Route::Base) => "/v2/",
        Some(Route::Catalog) => "/v2/_catalog",
        Some(Route::Tags(_)) => "/v2/<name>/tags/list",
        Some(Route::Manifest(..)) => "/v2/<name>/manifests/<reference>",
        Some(Route::Blob(..)) => "/v2/<name>/blobs/<digest>",
        Some(Route::UploadStart(_)) => "/v2/<name>/blobs/uploads/",
        Some(Route::Upload(..)) => "/v2/<name>/blobs/uploads/<uuid>",
        Some(Route::Referrers(..)) => "/v2/<name>/referrers/<digest>",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_never_name_the_repository() {
        let name: pier_shared::RepoName = "secret/app".parse().unwrap();
        let d: pier_shared::Digest =
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .parse()
                .unwrap();
        let routes = [
            Route::Base,
            Route::Catalog,
            Route::Tags(name.clone()),
            Route::Manifest(name.clone(), "latest".parse().unwrap()),
            Route::Blob(name.clone(), d.clone()),
            Route::UploadStart(name.clone()),
            Route::Upload(name.clone(), None),
            Route::Referrers(name, d),
        ];
        let mut seen = std::collections::HashSet::new();
        for r in &routes {
            let RouteTemplate(t) = route_template(Some(r));
            assert!(t.starts_with("/v2/") && !t.contains("secret"), "{t}");
            assert!(seen.insert(t), "two routes share {t}");
        }
        assert_eq!(route_template(None), RouteTemplate("/v2/<invalid>"));
    }

    #[test]
    fn gc_runs_are_recorded() {
        let g = GcMetrics::default();
        let report = crate::gc::Report {
            blobs_marked: 2,
            blobs_deleted: 3,
            bytes_freed: 100,
            ..Default::default()
        };
        g.record::<()>(&Ok(report));
        g.record::<()>(&Ok(crate::gc::Report {
            skipped: true,
            ..Default::default()
        }));
        g.record(&Err(()));
        let runs = |result| g.runs.get_or_create(&ResultLabel { result }).get();
        assert_eq!((runs("ok"), runs("skipped"), runs("error")), (1, 1, 1));
        assert_eq!(g.blobs_marked.get(), 2);
        assert_eq!(g.blobs_deleted.get(), 3);
        assert_eq!(g.bytes_freed.get(), 100);
        assert!(g.last_run.get() > 0);
    }
}
