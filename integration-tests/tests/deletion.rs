//! Repository deletion through the index, and garbage collection, with the real binaries
//! and skopeo: the index deletes at the registry with its own deletion token, old tokens
//! are refused, shared layers survive, `pier-registry gc` frees the unshared bytes on disk,
//! and a deletion made while the registry is down finishes once it is back.

use pier_integration_tests::basic_auth;
use pier_integration_tests::image::pseudo_random;
use pier_integration_tests::stored::Stored;
use pier_integration_tests::{require_tool, run_ok, OciLayout, Pier};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USER: &str = "alice";
const PASSWORD: &str = "alice-pw";

fn basic() -> String {
    basic_auth(USER, PASSWORD)
}

/// The index's answer to a token request for `scope`, as alice.
fn token_answer(pier: &Pier, scope: &str) -> Value {
    let resp = ureq::get(&pier.index.url("/token"))
        .query("service", "pier-registry")
        .query("scope", scope)
        .set("Authorization", &basic())
        .call()
        .expect("token");
    serde_json::from_str(&resp.into_string().unwrap()).unwrap()
}

fn token(pier: &Pier, scope: &str) -> String {
    token_answer(pier, scope)["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The `scope` the index granted for `scope`.
fn token_scope(pier: &Pier, scope: &str) -> String {
    token_answer(pier, scope)["scope"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Status and body of a registry GET with a token.
fn get(pier: &Pier, path: &str, token: &str) -> (u16, String) {
    match ureq::get(&pier.registry.url(path))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{e}"),
    }
}

fn delete_via_index(pier: &Pier, name: &str) {
    let res = ureq::delete(&pier.index.url(&format!("/api/v1/repositories/{name}")))
        .set("Authorization", &basic())
        .call()
        .expect("index delete");
    assert_eq!(res.status(), 204);
}

fn skopeo(args: &[&str]) -> String {
    require_tool("skopeo");
    run_ok("skopeo", args)
}

/// Two images sharing a 300 kB layer, each with its own 200 kB layer; returns the layout
/// and the layer contents (shared, own of "one", own of "two").
fn layout(dir: &Path) -> (PathBuf, [Vec<u8>; 3]) {
    let path = dir.join("layout");
    let mut l = OciLayout::create(&path);
    let shared = pseudo_random(300_000, 1);
    let own = [pseudo_random(200_000, 2), pseudo_random(200_000, 3)];
    for (i, name) in ["one", "two"].iter().enumerate() {
        let layers = [
            l.blob("application/vnd.oci.image.layer.v1.tar+gzip", &shared),
            l.blob("application/vnd.oci.image.layer.v1.tar+gzip", &own[i]),
        ];
        let config = json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layers[0]["digest"], layers[1]["digest"]]},
            "config": {"Labels": {"name": name}},
        });
        let config = l.blob(
            "application/vnd.oci.image.config.v1+json",
            config.to_string().as_bytes(),
        );
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": layers,
        });
        let d = l.blob(
            "application/vnd.oci.image.manifest.v1+json",
            manifest.to_string().as_bytes(),
        );
        l.tag(name, &d);
    }
    let [a, b] = own;
    (path, [shared, a, b])
}

fn push(pier: &Pier, layout: &Path, tag: &str, repo: &str) {
    let creds = format!("{USER}:{PASSWORD}");
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        &creds,
        &format!("oci:{}:{tag}", layout.display()),
        &format!("docker://{}/{repo}:v1", pier.registry.addr),
    ]);
}

/// The stored size of the blob of `data`, read through the registry's storage driver.
fn stored_blob(pier: &Pier, data: &[u8]) -> Option<u64> {
    Stored::of(&pier.registry.data).blob_size(&pier_integration_tests::sha256(data))
}

/// Wait until `f` holds (the index's worker runs every second), at most `secs`.
fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn name_unknown(pier: &Pier, repo: &str) -> bool {
    let t = token(pier, &format!("repository:{repo}:pull"));
    let (status, body) = get(pier, &format!("/v2/{repo}/manifests/v1"), &t);
    status == 404 && body.contains("NAME_UNKNOWN")
}

#[test]
fn deleting_a_repository_via_the_index_then_gc_frees_its_unshared_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start_linked(tmp.path(), 1);
    pier.add_user(USER, PASSWORD);
    let (layout, [shared, own_one, own_two]) = layout(tmp.path());
    push(&pier, &layout, "one", "alice/one");
    push(&pier, &layout, "two", "alice/two");
    let old = token(&pier, "repository:alice/one:pull");
    assert_eq!(get(&pier, "/v2/alice/one/manifests/v1", &old).0, 200);
    assert!(stored_blob(&pier, &own_one).is_some());

    // The registry's repository delete needs `delete`: a push token is refused.
    let push_token = token(&pier, "repository:alice/one:pull,push");
    let refused = ureq::delete(&pier.registry.url("/pier/v1/repositories/alice/one"))
        .set("Authorization", &format!("Bearer {push_token}"))
        .call();
    assert!(
        matches!(refused, Err(ureq::Error::Status(401, _))),
        "{refused:?}"
    );

    delete_via_index(&pier, "alice/one");
    wait_for(20, "the registry deletes alice/one", || {
        name_unknown(&pier, "alice/one")
    });
    assert!(pier.index_cli(&["repo", "deletions"], None).is_empty());
    // A token issued before the delete is refused (past the confirmation cache's TTL).
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(get(&pier, "/v2/alice/two/tags/list", &old).0, 401);
    assert_eq!(get(&pier, "/v2/alice/one/tags/list", &old).0, 401);

    // The shared layer still pulls from the other repository.
    let out = tmp.path().join("pulled");
    let creds = format!("{USER}:{PASSWORD}");
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        &creds,
        &format!("docker://{}/alice/two:v1", pier.registry.addr),
        &format!("oci:{}:x", out.display()),
    ]);
    OciLayout::verify(&out);
    let pulled = OciLayout::blob_digests(&out);
    assert!(pulled.contains(&pier_integration_tests::sha256(&shared)));

    // GC with no grace: the bytes of alice/one's own layer leave the disk, the rest stay.
    let stored = Stored::of(&pier.registry.data);
    let before = stored.blob_bytes();
    let report: Value = serde_json::from_str(
        &pier.registry_cli(&["gc"], &[("PIER_REGISTRY_GC_GRACE_SECONDS", "0")]),
    )
    .expect("gc JSON");
    let after = stored.blob_bytes();
    assert_eq!(report["blobs_deleted"], 2, "{report}"); // own layer and config of "one"
    assert!(
        stored_blob(&pier, &own_one).is_none(),
        "unshared layer still on disk"
    );
    assert!(stored_blob(&pier, &shared).is_some() && stored_blob(&pier, &own_two).is_some());
    assert!(before - after >= own_one.len() as u64, "{before} → {after}");
    assert_eq!(report["bytes_freed"].as_u64(), Some(before - after));

    // The name is free again: it can be pushed to anew.
    push(&pier, &layout, "one", "alice/one");
    let t = token(&pier, "repository:alice/one:pull");
    assert_eq!(get(&pier, "/v2/alice/one/manifests/v1", &t).0, 200);
}

#[test]
fn a_deletion_made_while_the_registry_is_down_finishes_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let mut pier = Pier::start_linked(tmp.path(), 1);
    pier.add_user(USER, PASSWORD);
    let (layout, _) = layout(tmp.path());
    push(&pier, &layout, "one", "alice/one");

    pier.stop_registry();
    delete_via_index(&pier, "alice/one");
    wait_for(20, "a failed attempt is recorded", || {
        pier.index_cli(&["repo", "deletions"], None)
            .contains("alice/one\tattempts=1")
    });
    // Meanwhile nobody may push to the name: the index grants pull only.
    assert_eq!(
        token_scope(&pier, "repository:alice/one:pull,push"),
        "repository:alice/one:pull"
    );

    pier.start_registry();
    wait_for(30, "the pending deletion finishes", || {
        pier.index_cli(&["repo", "deletions"], None).is_empty()
    });
    assert!(name_unknown(&pier, "alice/one"));
    assert!(
        pier.index
            .log()
            .contains("repository alice/one deleted at the registry"),
        "{}",
        pier.index.log()
    );
}
