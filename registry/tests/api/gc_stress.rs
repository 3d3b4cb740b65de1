//! Pushes racing garbage collection: 4 pushers share layers, mount them from each other
//! (with and without `from`), re-use what HEAD finds, and delete their repositories every
//! other round; each round's shared layer is also uploaded again and again into scratch
//! repositories that are deleted at once, so it is unreferenced (and marked, and swept)
//! while other pushers finish uploads of the same bytes. GC runs continuously with no
//! grace period. Afterwards every
//! manifest's blobs must be served and hash to their digests, and their files must exist.

use crate::common::*;
use pier_registry::gc;
use serde_json::{json, Value};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

const ROUNDS: usize = 30;
const PUSHERS: usize = 4;
/// Scratch uploads of each round's shared layer, per pusher.
const CHURN: usize = 4;

/// Make `data` visible in `repo` the way a client might: HEAD, then a mount (from another
/// pusher's repository, or automatic), else an upload.
async fn ensure_blob(api: &Api, repo: &str, data: &[u8], from: &str, round: usize) {
    let d = sha256(data);
    if api.head(&format!("/v2/{repo}/blobs/{d}")).await.status == 200 {
        return;
    }
    let mount = if round.is_multiple_of(2) {
        format!("/v2/{repo}/blobs/uploads/?mount={d}&from={from}")
    } else {
        format!("/v2/{repo}/blobs/uploads/?mount={d}")
    };
    let res = api.post(&mount, "").await;
    match res.status {
        201 => {}
        202 => {
            let loc = res.location();
            let sep = if loc.contains('?') { '&' } else { '?' };
            api.put(&format!("{loc}{sep}digest={d}"), data.to_vec())
                .await
                .expect(201);
        }
        s => panic!("mount answered {s}: {}", res.text()),
    }
}

/// Upload `data` into a scratch repository, read it back, delete the repository: the blob
/// keeps becoming unreferenced while other pushers upload the very same bytes.
async fn churn(api: &Api, i: usize, data: &[u8]) {
    let scratch = format!("scratch{i}");
    push_blob(api, &scratch, data).await;
    let res = api
        .get(&format!("/v2/{scratch}/blobs/{}", sha256(data)))
        .await;
    assert_eq!(res.status, 200, "a blob just uploaded must be served");
    assert_eq!(sha256(&res.body), sha256(data));
    api.delete(&format!("/pier/v1/repositories/{scratch}"))
        .await
        .expect(202);
}

async fn pusher(api: Rc<Api>, i: usize) {
    let repo = format!("p{i}");
    let from = format!("p{}", (i + 1) % PUSHERS);
    for round in 0..ROUNDS {
        let shared = bytes(20_000, round as u8);
        for _ in 0..CHURN {
            churn(&api, i, &shared).await;
        }
        let own = bytes(5_000 + i, (round + i) as u8);
        let config = format!("{{\"pusher\":{i},\"round\":{round}}}").into_bytes();
        for blob in [&config, &shared, &own] {
            ensure_blob(&api, &repo, blob, &from, round).await;
        }
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, &config),
            "layers": [descriptor(OCI_LAYER, &shared), descriptor(OCI_LAYER, &own)],
        }))
        .unwrap();
        let res = put_manifest(&api, &repo, &format!("r{round}"), OCI_MANIFEST, &manifest).await;
        assert_eq!(res.status, 201, "round {round} of {repo}: {}", res.text());
        if round % 2 == 1 && round + 1 < ROUNDS {
            api.delete(&format!("/pier/v1/repositories/{repo}"))
                .await
                .expect(202);
        }
    }
}

#[actix_web::test]
async fn pushes_and_gc_never_leave_a_manifest_with_a_missing_blob() {
    let (_env, api) = start().await;
    let api = Rc::new(api);
    let mut reg = api.reg.clone();
    let mut config = (*reg.config).clone();
    config.gc.grace_seconds = 0;
    reg.config = Arc::new(config);
    let stop = Rc::new(Cell::new(false));
    let (runs, freed) = (Rc::new(Cell::new(0usize)), Rc::new(Cell::new(0usize)));
    let collector = {
        let (stop, runs, freed) = (stop.clone(), runs.clone(), freed.clone());
        async move {
            while !stop.get() {
                let r = gc::run(&reg, false).await.expect("gc run");
                runs.set(runs.get() + 1);
                freed.set(freed.get() + r.blobs_deleted);
                actix_web::rt::task::yield_now().await;
            }
        }
    };
    let pushers = async {
        futures_util::future::join_all((0..PUSHERS).map(|i| pusher(api.clone(), i))).await;
        stop.set(true);
    };
    futures_util::future::join(collector, pushers).await;
    assert!(runs.get() > 5, "GC ran {} times", runs.get());
    assert!(freed.get() > 0, "GC freed nothing: the test raced nothing");

    let mut checked = 0;
    for i in 0..PUSHERS {
        let repo = format!("p{i}");
        let tags = api.get(&format!("/v2/{repo}/tags/list")).await.json();
        for tag in tags["tags"].as_array().expect("tags") {
            let tag = tag.as_str().unwrap();
            let m: Value = api.get(&format!("/v2/{repo}/manifests/{tag}")).await.json();
            let descs = std::iter::once(&m["config"]).chain(m["layers"].as_array().unwrap());
            for desc in descs {
                let d = desc["digest"].as_str().unwrap();
                let res = api.get(&format!("/v2/{repo}/blobs/{d}")).await;
                assert_eq!(res.status, 200, "{repo}:{tag} blob {d}");
                assert_eq!(sha256(&res.body), d, "{repo}:{tag} blob {d} content");
                let hex = d.trim_start_matches("sha256:");
                let key = format!("blobs/sha256/{}/{hex}", &hex[..2]);
                assert_eq!(sha256(&api.stored_bytes(&key).await), d);
                checked += 1;
            }
        }
    }
    assert!(checked >= PUSHERS * 3, "checked {checked} blobs");
    // And with everything settled, GC finds nothing referenced to delete.
    let r = gc::run(&api.reg, false).await.unwrap();
    assert_eq!(r.blobs_deleted, 0);
}
