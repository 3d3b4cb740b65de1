//! The index goes away and comes back (on the same address, with the same database and
//! keys, as a restarted or failed-over index does).

use super::*;
use pier_integration_tests::nginx::free_port;
use pier_integration_tests::pier::{cli, index_env, registry_token_env};
use pier_integration_tests::{Registry, Service};

const REPO: &str = "alice/app";

#[test]
fn reads_go_on_writes_are_503_and_both_recover() {
    let tmp = tempfile::tempdir().unwrap();
    let index_data = tmp.path().join("index");
    let db = pier_shared::testing::database_url(&index_data, "index.db");
    let mut ienv = index_env(&index_data, &db);
    let port = free_port();
    ienv.push(("PIER_INDEX_HTTP_LISTEN".into(), format!("127.0.0.1:{port}")));
    let mut index = Service::start("pier-index", &index_data, &ienv);
    cli(
        "pier-index",
        &ienv,
        &["user", "add", "alice", "--password-stdin"],
        Some("alice-password"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let mut extra = registry_token_env(&base, 60);
    extra.push(("PIER_REGISTRY_AUTH_INDEX_PROBE_SECONDS".into(), "1".into()));
    let extra: Vec<(&str, &str)> = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let rdata = tmp.path().join("registry");
    let registry = Service::start("pier-registry", &rdata, &Registry::env(&rdata, &extra));
    let mut c = Client::new(&registry.url(""), Some("alice:alice-password"));

    // Everything is confirmed once while the index answers: pull, push and delete.
    let layer = b"layer pushed while the index answers".to_vec();
    push_image(&mut c, REPO, "before", &layer).unwrap_or_else(|r| panic!("push: {}", r.status));
    assert_image_intact(&mut c, REPO, "before", &layer);
    c.authenticate(&format!("repository:{REPO}:delete"))
        .unwrap();

    index.stop();
    // One probe interval (1 s) and the timeout of a refused connection later, the
    // registry knows.
    std::thread::sleep(std::time::Duration::from_millis(2500));

    // Reads: confirmed less than auth.confirm_ttl_seconds ago, so still served.
    assert_image_intact(&mut c, REPO, "before", &layer);
    // Writes: a cached confirmation exists for this token and scope, but no write is
    // accepted while the index does not answer.
    let r = push_blob(&mut c, REPO, b"a blob pushed while the index is down").unwrap();
    assert_eq!((r.status, oci_code(&r)), (503, "UNAVAILABLE".to_string()));
    let r = put_manifest(&mut c, REPO, "during", &image_manifest(&layer)).unwrap();
    assert_eq!((r.status, oci_code(&r)), (503, "UNAVAILABLE".to_string()));
    let r = c
        .send(
            "DELETE",
            &format!("/v2/{REPO}/manifests/{}", sha256(&image_manifest(&layer))),
            &format!("repository:{REPO}:delete"),
            &[],
            None,
            Keep::Body,
        )
        .unwrap();
    assert_eq!((r.status, oci_code(&r)), (503, "UNAVAILABLE".to_string()));
    assert!(
        registry.log().contains("the index does not answer"),
        "the registry logs that it lost the index"
    );

    // The index returns on the same address; the registry notices by itself.
    index = Service::start("pier-index", &index_data, &ienv);
    let back = std::time::Instant::now();
    let blob = b"a blob pushed after the index came back".to_vec();
    assert!(
        eventually(15, || push_blob(&mut c, REPO, &blob)
            .is_ok_and(|r| r.status == 201)),
        "pushes work again once the index answers; registry log:\n{}",
        registry.log()
    );
    println!(
        "figure: index back: pushes accepted again {:?} after it listened (probe every 1 s)",
        back.elapsed()
    );
    let layer2 = b"a second image, after".to_vec();
    push_image(&mut c, REPO, "after", &layer2).unwrap_or_else(|r| panic!("push: {}", r.status));
    assert_image_intact(&mut c, REPO, "after", &layer2);
    assert_image_intact(&mut c, REPO, "before", &layer);
    let r = c
        .send(
            "DELETE",
            &format!("/v2/{REPO}/manifests/{}", sha256(&image_manifest(&layer))),
            &format!("repository:{REPO}:delete"),
            &[],
            None,
            Keep::Body,
        )
        .unwrap();
    assert_eq!(r.status, 202, "deletes work again");
    drop(index);
}
