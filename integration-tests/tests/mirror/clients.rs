//! Real clients pull through Pier with the client settings of docs/mirror.md ("Client settings"):
//! containerd with a `hosts.toml` for docker.io (it adds `?ns=docker.io`; or the prefix in
//! the host's path with `override_path`), a docker engine with `registry-mirrors` in its
//! daemon.json (it asks for `library/<x>`), and skopeo with a containers-registries.conf
//! `[[registry.mirror]]` (what podman and CRI-O read).

use super::harness::closed_port;
use super::{blob_gets, skopeo_pull_ok, start_pier, tail, upstream_with};
use pier_integration_tests::mirror::containerd::{
    write_hosts_toml, write_hosts_toml_with_path, Containerd,
};
use pier_integration_tests::mirror::dockerd::Dockerd;
use pier_integration_tests::mirror::{Format, Image, MirrorToml, UpstreamToml};
use pier_integration_tests::{manifest_digest, Service};

/// Pier's request log has a line for `method path` answered `status`
/// (`127.0.0.1 "GET /v2/…" 200 …`; the log carries no query strings).
fn pier_logged(pier: &Service, method: &str, path: &str, status: u16) -> bool {
    let needle = format!("\"{method} {path}\" {status} ");
    pier.log().lines().any(|l| l.contains(&needle))
}

#[test]
fn containerd_pulls_docker_io_images_through_hosts_toml_and_ns() {
    let tmp = tempfile::tempdir().unwrap();
    let multi = Image::multi_arch(60, &[3_000, 9_000], &["amd64", "arm64"]);
    let up = upstream_with(&tmp.path().join("up"), &[("library/multi", "1", &multi)]);
    // No default: only ?ns=docker.io can send library/multi to this upstream.
    let hub = UpstreamToml::new("hub", &up.url()).ns(&["docker.io"]);
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, false));
    let ctd = Containerd::start(&tmp.path().join("ctd"));
    let hosts = tmp.path().join("hosts");
    write_hosts_toml(
        &hosts,
        "docker.io",
        &closed_port(),
        &format!("http://{}", pier.addr),
    );

    let out = ctd.pull(&hosts, "docker.io/library/multi:1");
    assert!(
        out.status.success(),
        "ctr pull: {}{}\nPier's log (end):\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        tail(&pier.log(), 30)
    );
    assert_eq!(
        ctd.image_digest("docker.io/library/multi:1").as_deref(),
        Some(multi.digest().as_str())
    );
    let content = ctd.content();
    let amd64 = multi.amd64_manifest();
    let mut amd64_blobs = vec![amd64["config"]["digest"].as_str().unwrap().to_string()];
    for l in amd64["layers"].as_array().unwrap() {
        amd64_blobs.push(l["digest"].as_str().unwrap().to_string());
    }
    for d in &amd64_blobs {
        assert!(content.contains(d), "{d} not pulled: {content:?}");
        assert_eq!(up.blob_gets("library/multi", d), 1, "upstream GETs of {d}");
        assert!(pier_logged(
            &pier,
            "GET",
            &format!("/v2/library/multi/blobs/{d}"),
            200
        ));
    }
    // Cached under hub/library/multi: the same index by the prefixed name, not re-asked.
    let asked = up.access_log().len();
    assert_eq!(
        manifest_digest(&format!("docker://{}/hub/library/multi:1", pier.addr), None),
        Some(multi.digest())
    );
    assert_eq!(
        up.access_log().len(),
        asked,
        "the cached index was asked again"
    );

    // A second containerd (nothing cached client-side), whose hosts.toml names the prefix
    // in the mirror's path instead (`override_path`): Pier's cache alone answers.
    let ctd2 = Containerd::start(&tmp.path().join("ctd2"));
    let hosts2 = tmp.path().join("hosts2");
    let root = format!("http://{}/v2/hub", pier.addr);
    write_hosts_toml_with_path(&hosts2, "docker.io", &closed_port(), &root);
    let out = ctd2.pull(&hosts2, "docker.io/library/multi:1");
    assert!(
        out.status.success(),
        "ctr pull with override_path: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        ctd2.image_digest("docker.io/library/multi:1").as_deref(),
        Some(multi.digest().as_str())
    );
    for d in &amd64_blobs {
        assert!(pier_logged(
            &pier,
            "GET",
            &format!("/v2/hub/library/multi/blobs/{d}"),
            200
        ));
        assert_eq!(up.blob_gets("library/multi", d), 1, "upstream GETs of {d}");
    }
}

#[test]
fn skopeo_follows_a_registries_conf_mirror_as_podman_and_cri_o_do() {
    let tmp = tempfile::tempdir().unwrap();
    let alpine = Image::new(63, &[4_000, 5_000], Format::Docker);
    let up = upstream_with(
        &tmp.path().join("up"),
        &[("library/alpine", "3.20", &alpine)],
    );
    let hub = UpstreamToml::new("hub", &up.url());
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, true));
    // containers-registries.conf(5), read from $HOME/.config/containers/ when it exists
    // (podman, CRI-O, buildah and skopeo share it). The primary location is a closed port
    // here, so that only the mirror can answer.
    let home = tmp.path().join("home");
    let conf = home.join(".config/containers");
    std::fs::create_dir_all(&conf).unwrap();
    let closed = closed_port();
    let locations = [format!("{}/hub", pier.addr), pier.addr.clone()];
    for (i, location) in locations.iter().enumerate() {
        let text = format!(
            "[[registry]]\nprefix = \"docker.io\"\nlocation = \"{}\"\n\n[[registry.mirror]]\nlocation = \"{location}\"\ninsecure = true\n",
            closed.trim_start_matches("http://")
        );
        std::fs::write(conf.join("registries.conf"), text).unwrap();
        let out = tmp.path().join(format!("pulled-{i}"));
        let copy = std::process::Command::new("skopeo")
            .args([
                "copy",
                "--preserve-digests",
                "docker://docker.io/library/alpine:3.20",
            ])
            .arg(format!("dir:{}", out.display()))
            .env("HOME", &home)
            .output()
            .expect("skopeo");
        assert!(
            copy.status.success(),
            "skopeo through the registries.conf mirror {location}: {}\nPier's log (end):\n{}",
            String::from_utf8_lossy(&copy.stderr),
            tail(&pier.log(), 20)
        );
        super::assert_pulled(&out, &alpine, false);
    }
    // The first by the prefixed name, the second through the default mapping.
    assert!(pier_logged(
        &pier,
        "GET",
        "/v2/hub/library/alpine/manifests/3.20",
        200
    ));
    assert!(pier_logged(
        &pier,
        "GET",
        "/v2/library/alpine/manifests/3.20",
        200
    ));
    for (digest, n) in blob_gets(&up, "library/alpine", &alpine) {
        assert_eq!(n, 1, "upstream GETs of {digest}");
    }
}

#[test]
fn a_docker_engine_pulls_library_images_through_registry_mirrors() {
    if !pier_integration_tests::mirror::dockerd::wanted() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hello = Image::new(61, &[4_000, 6_000], Format::Docker);
    let multi = Image::multi_arch(62, &[3_000], &["amd64", "arm64"]);
    let up = upstream_with(
        &tmp.path().join("up"),
        &[
            ("library/hello", "latest", &hello),
            ("library/multi", "1", &multi),
        ],
    );
    let hub = UpstreamToml::new("hub", &up.url());
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, true));
    let mirror = format!("http://{}", pier.addr);
    let engine = Dockerd::start(&tmp.path().join("dockerd"), &[&mirror]);

    for (reference, image) in [("hello", &hello), ("multi:1", &multi)] {
        let pull = engine.pull(reference);
        assert!(
            pull.status.success(),
            "docker pull {reference}: {}\nengine log:\n{}\nPier's log (end):\n{}",
            String::from_utf8_lossy(&pull.stderr),
            engine.log_tail(30),
            tail(&pier.log(), 30)
        );
        assert_eq!(engine.image_id(reference), Some(image.config_digest()));
        let digests = engine.repo_digests(reference);
        assert!(
            digests.iter().any(|d| d.ends_with(&image.digest())),
            "{digests:?}"
        );
    }
    // The engine asked Pier (the default mapping of library/<x>); nothing else could have
    // answered: the machine reaches no registry but 127.0.0.1.
    assert!(
        pier_logged(
            &pier,
            "GET",
            &format!("/v2/library/hello/manifests/{}", hello.digest()),
            200
        ) || pier_logged(&pier, "GET", "/v2/library/hello/manifests/latest", 200),
        "no manifest GET of library/hello in Pier's log:\n{}",
        tail(&pier.log(), 30)
    );
    for (digest, n) in blob_gets(&up, "library/hello", &hello) {
        assert!(pier_logged(
            &pier,
            "GET",
            &format!("/v2/library/hello/blobs/{digest}"),
            200
        ));
        assert_eq!(n, 1, "upstream GETs of {digest}");
    }

    // Removed and pulled again: from Pier's cache.
    engine.ok(&["rmi", "hello"]);
    let pull = engine.pull("hello");
    assert!(
        pull.status.success(),
        "{}",
        String::from_utf8_lossy(&pull.stderr)
    );
    for (digest, n) in blob_gets(&up, "library/hello", &hello) {
        assert_eq!(n, 1, "upstream GETs of {digest} after a second engine pull");
    }
    // skopeo sees the same bytes under the prefixed name.
    skopeo_pull_ok(
        &format!("docker://{}/hub/library/hello:latest", pier.addr),
        &tmp.path().join("hello"),
        false,
        None,
        &pier.log(),
    );
    super::assert_pulled(&tmp.path().join("hello"), &hello, false);
}
