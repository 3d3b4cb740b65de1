//! Crash safety of the registry (docs/reliability.md, "Crash safety"): `kill -9` at random
//! moments during pushes, restart on the same data, then every acknowledged push is
//! readable with its digest and `pier-registry fsck` finds nothing. The full run is
//! `pier-bench crash --pushes 1000`; this is the short one. Then the index killed during
//! token issuance and during repository deletion.

use pier_integration_tests::crash::{self, Plan};

#[test]
fn acknowledged_pushes_survive_kill_9_and_fsck_is_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = Plan {
        pushes: 200,
        clients: 2,
        kill_after_ms: (100, 400),
        seed: 13,
    };
    let f = crash::run(&tmp.path().join("pier"), &plan, &[]);
    println!("{}", f.json());
    assert!(f.kills >= 3, "{f:?}");
    assert!(f.acknowledged >= 30, "too few pushes got through: {f:?}");
    assert!(f.lost.is_empty(), "acknowledged but lost: {:?}", f.lost);
    assert_eq!(f.verified, f.acknowledged);
    assert_eq!((f.fsck_problems, f.fsck_exit), (0, 0), "{f:?}");
}

/// The index killed while clients fetch tokens: every token it answered still works
/// (refresh token redeems, access token pushes), it issues again, its database is sound.
#[test]
fn tokens_issued_before_an_index_kill_9_still_work_and_issuance_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let f = crash::index::tokens(&tmp.path().join("pier"), 4, 4, 13);
    println!("{}", f.json());
    assert!(f.acknowledged >= 20, "too few tokens issued: {f:?}");
    assert!(
        f.lost.is_empty(),
        "acknowledged tokens that no longer work: {:?}",
        f.lost
    );
    assert!(f.issued_after_restart, "{f:?}");
    assert!(f.integrity == "ok" || f.integrity == "n/a", "{f:?}");
}

/// The index killed while its worker deletes repositories at the registry: the jobs
/// resume after the restart and finish; nothing is left in the index, the registry or
/// its storage (fsck clean).
#[test]
fn repository_deletion_resumes_after_an_index_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let f = crash::index::deletion(&tmp.path().join("pier"), 4, 150, 13);
    println!("{}", f.json());
    assert_eq!((f.deleted, f.jobs_left), (4, 0), "{f:?}");
    assert_eq!(f.fsck_problems, 0, "{f:?}");
    // The dead index's lease on the job in flight expires in 15 s (it was renewed while
    // the attempt ran), not after a fixed 90 s.
    assert!(f.resumed_in_seconds < 45.0, "{f:?}");
}
