//! Short runs of the concurrency and soak harnesses (src/stress/); the full ones are
//! `pier-bench concurrency` (64 clients, 5 minutes) and `pier-bench soak` (10 minutes),
//! whose figures are in docs/reliability.md.

use pier_integration_tests::stress;
use std::time::Duration;

#[test]
fn racing_clients_leave_verified_blobs_a_winning_tag_and_a_clean_fsck() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = stress::start_pier(tmp.path());
    let plan = stress::concurrency::Plan {
        clients: 16,
        duration: Duration::from_secs(20),
        repositories: 3,
        tags: 2,
        seed: 7,
    };
    let f = stress::concurrency::run(&pier, &plan);
    println!("{f}");
    assert!(
        f["traffic"]["by_kind"]["put_tag"].as_u64().unwrap_or(0) >= 20,
        "{f}"
    );
    assert!(
        f["traffic"]["by_kind"]["mount"].as_u64().unwrap_or(0) >= 10,
        "{f}"
    );
    stress::judge_concurrency(&f).unwrap_or_else(|e| panic!("{e}: {f}"));
}

#[test]
fn mixed_load_serves_every_request_without_growing_descriptors() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = stress::start_pier(tmp.path());
    let plan = stress::soak::Plan {
        clients: 4,
        duration: Duration::from_secs(30),
        interval: Duration::from_secs(2),
        window: Duration::from_secs(8),
        seed: 7,
    };
    let f = stress::soak::run(&pier, &plan);
    println!("{f}");
    assert!(
        f["traffic"]["by_kind"]["token"].as_u64().unwrap_or(0) >= 10,
        "{f}"
    );
    // Memory takes longer than 30 s to settle (caches fill); the full soak judges it.
    stress::judge_soak(&f, 1.0).unwrap_or_else(|e| panic!("{e}: {f}"));
}
