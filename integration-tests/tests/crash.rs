//! Crash safety of the registry (docs/reliability.md, "Crash safety"): `kill -9` at random
//! moments during pushes, restart on the same data, then every acknowledged push is
//! readable with its digest and `pier-registry fsck` finds nothing. The full run is
//! `pier-bench crash --pushes 1000`; this is the short one.

use pier_integration_tests::crash::{self, Plan};

#[test]
fn acknowledged_pushes_survive_kill_9_and_fsck_is_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = Plan {
        pushes: 100,
        clients: 2,
        kill_after_ms: (300, 900),
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
