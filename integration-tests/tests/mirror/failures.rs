//! The upstream fails: stopped, or (through the flaky proxy) answering 429 with
//! `Retry-After`, answering 503, refusing connections. What Pier has cached is still served,
//! tags included after `tag_ttl_seconds` (with a `Warning` header); what it has not is a
//! 502/503 with an OCI error whose message names the upstream.

use super::{
    assert_pulled, get_manifest, request, skopeo_pull, skopeo_pull_ok, start_pier, upstream_with,
    Reply,
};
use pier_integration_tests::mirror::{FlakyProxy, Format, Image, MirrorToml, Mode, UpstreamToml};
use std::time::Duration;

/// A cached tag served while the upstream fails: 200, the cached bytes, a `Warning`.
fn assert_served_stale(base: &str, name: &str, tag: &str, image: &Image, what: &str) {
    let r = get_manifest(base, name, tag);
    assert_eq!(r.status, 200, "{what}: cached {name}:{tag}: {}", r.text());
    assert_eq!(r.body, image.manifest, "{what}: cached {name}:{tag}");
    let warning = r.header("warning").unwrap_or_else(|| {
        panic!(
            "{what}: a cached tag served without a Warning header: {:?}",
            r.headers
        )
    });
    assert!(
        warning.len() > 4 && warning.as_bytes()[..3].iter().all(u8::is_ascii_digit),
        "{what}: Warning is not `<code> <agent> \"<text>\"`: {warning}"
    );
}

/// A miss while the upstream fails: 502 or 503 and an OCI error naming the upstream
/// (`host:port` of its URL).
fn assert_clear_miss(r: &Reply, upstream_addr: &str, what: &str) {
    assert!(
        r.status == 502 || r.status == 503,
        "{what}: status {} (want 502 or 503): {}",
        r.status,
        r.text()
    );
    let (code, message) = r.oci_error();
    assert!(!code.is_empty(), "{what}: {}", r.text());
    assert!(
        message.contains(upstream_addr),
        "{what}: the error does not name the upstream {upstream_addr}: {}",
        r.text()
    );
}

#[test]
fn a_stopped_upstream_leaves_cached_images_pullable_and_misses_name_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cached = Image::new(30, &[5_000, 8_000], Format::Docker);
    let uncached = Image::new(31, &[5_000], Format::Docker);
    let mut up = upstream_with(
        &tmp.path().join("up"),
        &[
            ("library/cached", "1", &cached),
            ("library/uncached", "1", &uncached),
        ],
    );
    let hub = UpstreamToml::new("hub", &up.url()).ttl(1);
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, true));
    let base = format!("http://{}", pier.addr);
    let src = format!("docker://{}/hub/library/cached:1", pier.addr);
    skopeo_pull_ok(&src, &tmp.path().join("warm"), false, None, &pier.log());

    up.stop();
    std::thread::sleep(Duration::from_millis(1_500));
    assert_served_stale(
        &base,
        "hub/library/cached",
        "1",
        &cached,
        "upstream stopped",
    );
    // The default mapping's name, and a whole pull by a client.
    assert_served_stale(&base, "library/cached", "1", &cached, "upstream stopped");
    skopeo_pull_ok(&src, &tmp.path().join("stale"), false, None, &pier.log());
    assert_pulled(&tmp.path().join("stale"), &cached, false);

    let r = get_manifest(&base, "hub/library/uncached", "1");
    assert_clear_miss(&r, &up.addr, "uncached manifest, upstream stopped");
    let layer = uncached.blobs.keys().next().unwrap();
    let r = request(
        "GET",
        &format!("{base}/v2/hub/library/uncached/blobs/{layer}"),
        &[],
    );
    assert_clear_miss(&r, &up.addr, "uncached blob, upstream stopped");
    let out = skopeo_pull(
        &format!("docker://{}/hub/library/uncached:1", pier.addr),
        &tmp.path().join("miss"),
        false,
        None,
    );
    assert!(!out.status.success(), "pulled what was never cached");

    // Back: the miss is fetched, the cached tag re-checked and served without a Warning.
    up.start_again();
    let r = get_manifest(&base, "hub/library/uncached", "1");
    assert_eq!(
        (r.status, r.body.clone()),
        (200, uncached.manifest.clone()),
        "{}",
        r.text()
    );
    let r = get_manifest(&base, "hub/library/cached", "1");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("warning"),
        None,
        "a Warning after the upstream came back"
    );
}

#[test]
fn an_upstream_answering_429_or_503_or_refusing_leaves_cached_tags_served() {
    let tmp = tempfile::tempdir().unwrap();
    let cached = Image::new(32, &[6_000], Format::Docker);
    let misses: Vec<Image> = (0..3)
        .map(|i| Image::new(33 + i, &[1_000], Format::Docker))
        .collect();
    let mut images = vec![("library/cached", "1", &cached)];
    let names = ["library/miss-429", "library/miss-503", "library/miss-down"];
    for (name, image) in names.iter().zip(&misses) {
        images.push((name, "1", image));
    }
    let up = upstream_with(&tmp.path().join("up"), &images);
    let proxy = FlakyProxy::start(up.addr.parse().unwrap());
    let hub = UpstreamToml::new("hub", &proxy.url()).ttl(1);
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, false));
    let base = format!("http://{}", pier.addr);
    let src = format!("docker://{}/hub/library/cached:1", pier.addr);
    skopeo_pull_ok(&src, &tmp.path().join("warm"), false, None, &pier.log());

    let tag = "/v2/library/cached/manifests/1";
    let modes = [
        Mode::TooManyRequests { retry_after: 30 },
        Mode::Unavailable,
        Mode::Down,
    ];
    for ((mode, name), image) in modes.iter().zip(names).zip(&misses) {
        let what = format!("{mode:?}");
        proxy.set(*mode);
        let asked = proxy.count("HEAD", tag) + proxy.count("GET", tag);
        std::thread::sleep(Duration::from_millis(1_500));
        assert_served_stale(&base, "hub/library/cached", "1", &cached, &what);
        if *mode != Mode::Down {
            assert!(
                proxy.count("HEAD", tag) + proxy.count("GET", tag) > asked,
                "{what}: the expired tag was served without asking the upstream"
            );
        }
        let out = tmp.path().join(format!("stale-{}", name.replace('/', "-")));
        skopeo_pull_ok(&src, &out, false, None, &pier.log());
        assert_pulled(&out, &cached, false);

        let r = get_manifest(&base, &format!("hub/{name}"), "1");
        assert_clear_miss(
            &r,
            &proxy.addr.to_string(),
            &format!("{what}: uncached {name}"),
        );
        proxy.set(Mode::Pass);
        let r = get_manifest(&base, &format!("hub/{name}"), "1");
        assert_eq!(
            (r.status, r.body),
            (200, image.manifest.clone()),
            "{what}: after recovery"
        );
    }
}
