//! Token mode on both sides of the mirror:
//!
//! - the upstream is a second Pier (index + registry, token mode) holding a private image
//!   of a user; the mirror's `[[mirror.upstreams]]` has that user's username and password,
//!   so Pier must do the Bearer dance (401 challenge → realm → token) to fetch it;
//! - the mirror itself is a Pier pair: its prefix is an organization of its index, a
//!   `public = true` mirror lets anonymous clients pull (an anonymous docker engine with
//!   `registry-mirrors` asking for `library/<x>`, the default mapping), a private one
//!   does not.

use super::{assert_pulled, skopeo_pull, skopeo_pull_ok, tail, upstream_with};
use pier_integration_tests::mirror::dockerd::Dockerd;
use pier_integration_tests::mirror::{Format, Image, MirrorToml, UpstreamToml};
use pier_integration_tests::pier::ADMIN_PASSWORD;
use pier_integration_tests::{basic_auth, manifest_digest, Pier};
use std::path::Path;
use std::time::{Duration, Instant};

/// Poll `GET <index>/api/v1/<what>` as the admin until `ready` holds for its JSON (30 s):
/// the registry registers its mirrors with the index at start, and each repository when it
/// first caches a manifest of it, without the test being told when.
fn wait_for_index(pier: &Pier, what: &str, ready: impl Fn(&serde_json::Value) -> bool) {
    let url = pier.index.url(&format!("/api/v1/{what}"));
    let auth = basic_auth("admin", ADMIN_PASSWORD);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    while Instant::now() < deadline {
        match ureq::get(&url).set("Authorization", &auth).call() {
            Ok(r) => {
                let v: serde_json::Value = r.into_json().unwrap_or_default();
                if ready(&v) {
                    return;
                }
                last = v.to_string();
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "the index's /api/v1/{what} never showed what the mirror registers: {last}\nregistry log (end):\n{}",
        tail(&pier.registry.log(), 30)
    );
}

/// The organization `name` exists in the index (the mirror's prefix).
fn wait_for_org(pier: &Pier, name: &str) {
    wait_for_index(pier, "orgs", |v| {
        v.as_array()
            .into_iter()
            .flatten()
            .any(|o| o["name"] == name)
    });
}

/// The index lists repository `name` (registered by the registry when it cached it).
fn wait_for_repository(pier: &Pier, name: &str) {
    wait_for_index(pier, "repositories", |v| {
        v.to_string().contains(&format!("\"{name}\""))
    });
}

fn start_mirror(dir: &Path, mirror: &MirrorToml) -> Pier {
    let config = mirror.write(&dir.join("config"));
    Pier::start_with_registry_config(dir, 5, &config)
}

#[test]
fn a_token_mode_pier_upstream_is_pulled_with_the_bearer_dance() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Pier::start(&tmp.path().join("upstream"), 5);
    upstream.add_user("ursula", "ursula-password");
    let image = Image::new(70, &[4_000, 9_000], Format::Docker);
    let at_upstream = format!("docker://{}/ursula/app:v1", upstream.registry.addr);
    image.push(
        &tmp.path().join("push"),
        &at_upstream,
        Some("ursula:ursula-password"),
    );
    // Private upstream: nothing to fetch without ursula's credentials.
    assert_eq!(manifest_digest(&at_upstream, None), None);
    assert_eq!(
        manifest_digest(&at_upstream, Some("ursula:ursula-password")),
        Some(image.digest())
    );

    let up = UpstreamToml::new("up", &format!("http://{}", upstream.registry.addr))
        .credentials("ursula", "ursula-password")
        .public(false);
    let mirror = start_mirror(&tmp.path().join("mirror"), &MirrorToml::one(up, false));
    wait_for_org(&mirror, "up");
    let src = format!("docker://{}/up/ursula/app:v1", mirror.registry.addr);
    let admin = format!("admin:{ADMIN_PASSWORD}");
    skopeo_pull_ok(
        &src,
        &tmp.path().join("pulled"),
        false,
        Some(&admin),
        &mirror.registry.log(),
    );
    assert_pulled(&tmp.path().join("pulled"), &image, false);
    // The upstream registry answered the mirror with tokens from its index: its log shows
    // the blob GETs answered 200 (an anonymous request there would have been a 401).
    for digest in image.blobs.keys() {
        let needle = format!("\"GET /v2/ursula/app/blobs/{digest}\" 200 ");
        assert!(
            upstream.registry.log().contains(&needle),
            "no authorized upstream GET of {digest}:\n{}",
            tail(&upstream.registry.log(), 30)
        );
    }
    // Not public: anonymous clients of the mirror get nothing; the index knows the repository.
    let anonymous = skopeo_pull(&src, &tmp.path().join("anonymous"), false, None);
    assert!(
        !anonymous.status.success(),
        "an anonymous pull of a private mirror worked"
    );
    wait_for_repository(&mirror, "up/ursula/app");
}

#[test]
fn an_anonymous_docker_engine_pulls_through_a_public_mirror() {
    if !pier_integration_tests::mirror::dockerd::wanted() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hello = Image::new(71, &[4_000, 6_000], Format::Docker);
    let registry = upstream_with(
        &tmp.path().join("up"),
        &[("library/hello", "latest", &hello)],
    );
    let hub = UpstreamToml::new("hub", &registry.url()).public(true);
    let mirror = start_mirror(&tmp.path().join("mirror"), &MirrorToml::one(hub, true));
    wait_for_org(&mirror, "hub");
    let engine = Dockerd::start(
        &tmp.path().join("dockerd"),
        &[&format!("http://{}", mirror.registry.addr)],
    );
    let pull = engine.pull("hello");
    assert!(
        pull.status.success(),
        "anonymous docker pull hello: {}\nengine log:\n{}\nregistry log (end):\n{}",
        String::from_utf8_lossy(&pull.stderr),
        engine.log_tail(30),
        tail(&mirror.registry.log(), 30)
    );
    assert_eq!(engine.image_id("hello"), Some(hello.config_digest()));
    let log = mirror.registry.log();
    assert!(
        log.contains("\"GET /v2/library/hello/manifests/")
            || log.contains("\"HEAD /v2/library/hello/manifests/"),
        "the engine did not pull through Pier:\n{}",
        tail(&log, 30)
    );
    for digest in hello.blobs.keys() {
        assert_eq!(
            registry.blob_gets("library/hello", digest),
            1,
            "upstream GETs of {digest}"
        );
    }
    // Anonymous skopeo by the prefixed name, too; and the index lists the repository.
    let src = format!("docker://{}/hub/library/hello:latest", mirror.registry.addr);
    skopeo_pull_ok(
        &src,
        &tmp.path().join("skopeo"),
        false,
        None,
        &mirror.registry.log(),
    );
    assert_pulled(&tmp.path().join("skopeo"), &hello, false);
    wait_for_repository(&mirror, "hub/library/hello");

    // The counts the web UI shows: misses (the engine's first pull asked upstream) and
    // hits (skopeo's pull after it), for a token with `registry:catalog:*`.
    let token: serde_json::Value = ureq::get(
        &mirror
            .index
            .url("/token?service=pier-registry&scope=registry:catalog:*"),
    )
    .set("Authorization", &basic_auth("admin", ADMIN_PASSWORD))
    .call()
    .expect("a catalog token for the admin")
    .into_json()
    .unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let url = mirror.registry.url("/pier/v1/mirror/repositories");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list: serde_json::Value = ureq::get(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("GET /pier/v1/mirror/repositories")
            .into_json()
            .unwrap();
        let entry = list["repositories"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == "hub/library/hello")
            .cloned();
        if let Some(e) = &entry {
            assert_eq!(e["prefix"], "hub", "{e}");
            assert_eq!(e["url"], registry.url().as_str(), "{e}");
            if e["misses"].as_u64() >= Some(1) && e["hits"].as_u64() >= Some(1) {
                assert!(e["bytes"].as_u64() >= Some(hello.size() as u64), "{e}");
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no hit and miss counted for hub/library/hello: {list}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
