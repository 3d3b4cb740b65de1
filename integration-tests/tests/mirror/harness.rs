//! The harness without Pier: the upstream holds what was pushed and counts what it serves,
//! the proxy switches, and the test's own docker engine and containerd pull from a mirror
//! at 127.0.0.1 over plain HTTP with the settings docs/mirror.md ("Client settings") gives users.

use super::{assert_pulled, blob_gets, get_manifest, skopeo_pull, skopeo_pull_ok, upstream_with};
use pier_integration_tests::mirror::containerd::{write_hosts_toml, Containerd};
use pier_integration_tests::mirror::dockerd::Dockerd;
use pier_integration_tests::mirror::{FlakyProxy, Format, Image, Mode};
use std::net::SocketAddr;

/// A 127.0.0.1 address nothing listens on (port 1, tcpmux, which no test binds, and which
/// unlike a port picked free now cannot be handed to another test's server later): the
/// `server` of a hosts.toml or the primary location of a registries.conf, so that a client
/// that gave up on its mirror fails instead of reaching out to Docker Hub.
pub fn closed_port() -> String {
    "http://127.0.0.1:1".to_string()
}

#[test]
fn upstream_serves_what_was_pushed_and_counts_blob_gets() {
    let tmp = tempfile::tempdir().unwrap();
    let small = Image::new(1, &[3_000, 9_000], Format::Docker);
    let multi = Image::multi_arch(2, &[2_000], &["amd64", "arm64"]);
    let mut up = upstream_with(
        &tmp.path().join("up"),
        &[
            ("library/small", "1", &small),
            ("library/multi", "1", &multi),
        ],
    );
    let r = get_manifest(&up.url(), "library/small", "1");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, small.manifest);
    assert!(blob_gets(&up, "library/small", &small)
        .iter()
        .all(|(_, n)| *n == 0));

    let out = tmp.path().join("small");
    let src = format!("docker://{}/library/small:1", up.addr);
    skopeo_pull_ok(&src, &out, false, None, &up.log());
    assert_pulled(&out, &small, false);
    for (digest, n) in blob_gets(&up, "library/small", &small) {
        assert_eq!(n, 1, "GETs of {digest}");
    }
    let out = tmp.path().join("multi");
    let src = format!("docker://{}/library/multi:1", up.addr);
    skopeo_pull_ok(&src, &out, true, None, &up.log());
    assert_pulled(&out, &multi, true);

    // Stopped, the port refuses; started again, same address, same content.
    up.stop();
    assert!(std::net::TcpStream::connect(&up.addr).is_err());
    assert!(!skopeo_pull(&src, &tmp.path().join("down"), true, None)
        .status
        .success());
    up.start_again();
    assert_eq!(
        get_manifest(&up.url(), "library/small", "1").body,
        small.manifest
    );
}

#[test]
fn the_proxy_passes_skopeo_through_then_answers_429_503_and_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let image = Image::new(3, &[5_000], Format::Docker);
    let up = upstream_with(&tmp.path().join("up"), &[("library/p", "1", &image)]);
    let proxy = FlakyProxy::start(up.addr.parse::<SocketAddr>().unwrap());
    let src = format!("docker://{}/library/p:1", proxy.addr);
    skopeo_pull_ok(&src, &tmp.path().join("pass"), false, None, &up.log());
    assert_pulled(&tmp.path().join("pass"), &image, false);
    for digest in image.blobs.keys() {
        assert_eq!(
            proxy.count("GET", &format!("/v2/library/p/blobs/{digest}")),
            1
        );
        assert_eq!(up.blob_gets("library/p", digest), 1);
    }
    proxy.set(Mode::TooManyRequests { retry_after: 60 });
    let r = get_manifest(&proxy.url(), "library/p", "1");
    assert_eq!((r.status, r.header("retry-after")), (429, Some("60")));
    proxy.set(Mode::Unavailable);
    assert_eq!(get_manifest(&proxy.url(), "library/p", "1").status, 503);
    proxy.set(Mode::Down);
    assert!(!skopeo_pull(&src, &tmp.path().join("down"), false, None)
        .status
        .success());
    let before = up.requests("GET", "/v2/library/p/manifests/1");
    proxy.set(Mode::Pass);
    assert_eq!(get_manifest(&proxy.url(), "library/p", "1").status, 200);
    assert_eq!(up.requests("GET", "/v2/library/p/manifests/1"), before + 1);
}

#[test]
fn a_docker_engine_of_our_own_pulls_from_its_registry_mirror() {
    if !pier_integration_tests::mirror::dockerd::wanted() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let image = Image::new(4, &[4_000, 6_000], Format::Docker);
    let up = upstream_with(
        &tmp.path().join("up"),
        &[("library/hello", "latest", &image)],
    );
    let engine = Dockerd::start(&tmp.path().join("dockerd"), &[&up.url()]);
    let pull = engine.pull("hello");
    assert!(
        pull.status.success(),
        "docker pull hello: {}\n{}",
        String::from_utf8_lossy(&pull.stderr),
        engine.log_tail(30)
    );
    assert_eq!(
        engine.image_id("hello").as_deref(),
        Some(image.config_digest().as_str())
    );
    let digests = engine.repo_digests("hello");
    assert!(
        digests.iter().any(|d| d.ends_with(&image.digest())),
        "{digests:?}"
    );
    // The engine asked the mirror, by the Docker Hub name.
    assert!(
        up.requests(
            "GET",
            &format!("/v2/library/hello/manifests/{}", image.digest())
        ) >= 1
            || up.requests("GET", "/v2/library/hello/manifests/latest") >= 1
    );
    for (digest, n) in blob_gets(&up, "library/hello", &image) {
        assert_eq!(n, 1, "GETs of {digest}");
    }
    // What the mirror lacks, the engine looks for at Docker Hub: on this machine.
    let miss = engine.pull("not-on-the-mirror");
    assert!(!miss.status.success());
    let err = String::from_utf8_lossy(&miss.stderr);
    assert!(
        err.contains("127.0.0.1:443"),
        "the engine's fallback to Docker Hub did not stay on 127.0.0.1: {err}"
    );
    assert!(
        up.requests("GET", "/v2/library/not-on-the-mirror/manifests/latest") >= 1
            || up.requests("HEAD", "/v2/library/not-on-the-mirror/manifests/latest") >= 1
    );
}

#[test]
fn a_containerd_of_our_own_pulls_through_hosts_toml_with_ns() {
    let tmp = tempfile::tempdir().unwrap();
    let multi = Image::multi_arch(5, &[3_000, 7_000], &["amd64", "arm64"]);
    let up = upstream_with(&tmp.path().join("up"), &[("library/multi", "1", &multi)]);
    let ctd = Containerd::start(&tmp.path().join("ctd"));
    let hosts = tmp.path().join("hosts");
    write_hosts_toml(&hosts, "docker.io", &closed_port(), &up.url());
    let out = ctd.pull(&hosts, "docker.io/library/multi:1");
    assert!(
        out.status.success(),
        "ctr pull: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        ctd.image_digest("docker.io/library/multi:1").as_deref(),
        Some(multi.digest().as_str())
    );
    let content = ctd.content();
    let amd64 = multi.amd64_manifest();
    for layer in amd64["layers"].as_array().unwrap() {
        let d = layer["digest"].as_str().unwrap();
        assert!(content.iter().any(|c| c == d), "{d} not in {content:?}");
    }
    // containerd names the registry it means in ?ns= on every request to a mirror (the
    // only GETs of library/multi: skopeo's push sent none).
    let gets: Vec<_> = up
        .access_log()
        .into_iter()
        .filter(|l| l.method == "GET" && l.path.starts_with("/v2/library/multi/"))
        .collect();
    assert_eq!(gets.len(), 5, "index, manifest, config, 2 layers: {gets:?}");
    assert!(
        gets.iter()
            .all(|l| l.query.as_deref() == Some("ns=docker.io")),
        "{gets:?}"
    );
}
