//! Garbage collection on registry A (`pier-registry gc`, no grace period) while registry B
//! takes pushes, some of them re-uploading the very bytes GC is freeing: afterwards every
//! manifest's blobs are still served, with their digests, and the garbage nobody re-pushed
//! is gone.

use crate::cluster;
use crate::http::{self, req, send, token};
use pier_integration_tests::image::pseudo_random;
use pier_integration_tests::replicas::storage_is_directory;
use pier_integration_tests::sha256;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn gc_on_one_replica_while_the_other_takes_pushes_keeps_every_manifest_whole() {
    let (tmp, c) = cluster();
    let index = c.index_url("");
    let (a, b) = (c.registries[0].url(""), c.registries[1].url(""));
    let scope = "repository:alice/garbage:pull,push,delete repository:alice/busy:pull,push";
    let t = token(&index, scope);

    // Garbage: two blobs whose only link is deleted. The pushers re-push `raced`.
    let raced = pseudo_random(200_000, 21);
    let freed = pseudo_random(150_000, 22);
    for blob in [&raced, &freed] {
        let d = http::push_blob(&a, "alice/garbage", &t, blob);
        let (status, _) = send(
            req("DELETE", &a, &format!("/v2/alice/garbage/blobs/{d}"), &t),
            None,
        );
        assert_eq!(status, 202);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let pusher = {
        let (b, stop, raced) = (b.clone(), Arc::clone(&stop), raced.clone());
        let index = index.clone();
        std::thread::spawn(move || {
            let mut pushed = 0u64;
            while !stop.load(Ordering::Relaxed) || pushed < 4 {
                // A token per image: a long run outlives none.
                let t = token(&index, "repository:alice/busy:pull,push");
                let layers = [raced.clone(), pseudo_random(64_000, 100 + pushed)];
                http::push_image(&b, "alice/busy", &format!("t{pushed}"), &t, &layers);
                pushed += 1;
            }
            pushed
        })
    };
    let mut deleted = 0;
    for _ in 0..4 {
        let out = c.registries[0].cli(&["gc"], &[("PIER_REGISTRY_GC_GRACE_SECONDS", "0")], None);
        let report: serde_json::Value = serde_json::from_str(&out).expect("gc JSON");
        deleted += report["blobs_deleted"].as_u64().unwrap_or(0);
    }
    stop.store(true, Ordering::Relaxed);
    let pushed = pusher.join().expect("pusher");
    assert!(deleted >= 1, "GC freed nothing");

    // Every manifest pushed through B, read through A, through B and through nginx.
    let t = token(&index, "repository:alice/busy:pull");
    for base in [&a, &b, &c.registry_url("")] {
        let blobs = http::verify_repository(base, "alice/busy", &t);
        assert_eq!(
            blobs as u64,
            3 * pushed,
            "blobs of {pushed} images via {base}"
        );
    }
    if storage_is_directory() {
        let hex = &sha256(&freed)[7..];
        let file = tmp
            .path()
            .join("shared-storage/blobs/sha256")
            .join(&hex[..2])
            .join(hex);
        assert!(
            !file.exists(),
            "unreferenced blob still stored: {}",
            file.display()
        );
    }
}
