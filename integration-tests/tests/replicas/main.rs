//! Pier scaled out (issue #12): two pier-index and two pier-registry processes on one
//! PostgreSQL and one storage, behind nginx (`pier_integration_tests::replicas`).
//!
//! Needs `PIER_TEST_POSTGRES_URL` (run-tests.sh starts a server): without it every test
//! here fails with a message saying so, never skips. The storage is the shared directory,
//! or the S3 bucket with `PIER_TEST_STORAGE=s3`.
//!
//! One module per scenario group: `clients` (docker and skopeo through nginx), `crossing`
//! (an upload, a token, a deletion that each cross replicas), `gc` (GC on one replica
//! while the other takes pushes), `crash` (a replica killed in the middle of a push).

mod clients;
mod crash;
mod crossing;
mod gc;
mod http;

use pier_integration_tests::replicas::Cluster;
use std::time::{Duration, Instant};

/// A started cluster with alice, and its temporary directory (kept as long as it runs).
pub fn cluster() -> (tempfile::TempDir, Cluster) {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let c = Cluster::start(tmp.path());
    c.add_user(http::USER, http::PASSWORD);
    (tmp, c)
}

/// Wait until `f` holds, at most `secs` seconds.
pub fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn every_replica_is_ready_and_announces_the_same_realm() {
    let (_tmp, c) = cluster();
    let realm = format!("realm=\"{}\"", c.index_url("/token"));
    for r in c.indexes.iter().chain(c.registries.iter()) {
        let (status, res) = http::send(ureq::get(&r.url("/readyz")), None);
        assert_eq!(status, 200, "{}", res.into_string().unwrap_or_default());
        let (status, res) = http::send(ureq::get(&r.url("/v2/")), None);
        assert_eq!(status, 401);
        let challenge = res.header("WWW-Authenticate").unwrap_or_default();
        assert!(challenge.contains(&realm), "{challenge} lacks {realm}");
    }
    for url in [c.index_url("/healthz"), c.registry_url("/healthz")] {
        let (status, _) = http::send(ureq::get(&url), None);
        assert_eq!(status, 200, "{url}");
    }
}
