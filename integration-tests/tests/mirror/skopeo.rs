//! skopeo through an anonymous Pier (`auth.mode = "none"`) mirroring a docker-registry:
//! names under the prefix, the `default` upstream, `?ns=`, tag freshness, read-only.

use super::{
    assert_pulled, blob_gets, get_manifest, request, request_with_body, skopeo_pull,
    skopeo_pull_ok, start_pier, upstream_with,
};
use pier_integration_tests::mirror::images::DOCKER_MANIFEST;
use pier_integration_tests::mirror::{Format, Image, MirrorToml, UpstreamToml};
use pier_integration_tests::{manifest_digest, sha256};
use std::time::Duration;

#[test]
fn hub_prefixed_names_pull_byte_identical_to_the_upstream_and_once() {
    let tmp = tempfile::tempdir().unwrap();
    let alpine = Image::new(10, &[4_000, 12_000], Format::Docker);
    let multi = Image::multi_arch(11, &[3_000, 5_000], &["amd64", "arm64"]);
    let up = upstream_with(
        &tmp.path().join("up"),
        &[
            ("library/alpine", "3.20", &alpine),
            ("library/multi", "1", &multi),
        ],
    );
    let hub = UpstreamToml::new("hub", &up.url()).ns(&["docker.io"]);
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, false));
    let base = format!("http://{}", pier.addr);

    let src = format!("docker://{}/hub/library/alpine:3.20", pier.addr);
    skopeo_pull_ok(&src, &tmp.path().join("a1"), false, None, &pier.log());
    assert_pulled(&tmp.path().join("a1"), &alpine, false);
    assert_eq!(
        manifest_digest(&src, None),
        manifest_digest(&format!("docker://{}/library/alpine:3.20", up.addr), None),
        "Pier's manifest is not the upstream's"
    );
    let r = get_manifest(&base, "hub/library/alpine", "3.20");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, alpine.manifest);
    assert_eq!(
        r.header("docker-content-digest"),
        Some(alpine.digest().as_str())
    );
    assert_eq!(r.header("content-type"), Some(DOCKER_MANIFEST));

    // Pulled again, by tag and by digest: from the cache, no blob asked twice upstream.
    skopeo_pull_ok(&src, &tmp.path().join("a2"), false, None, &pier.log());
    let by_digest = format!(
        "docker://{}/hub/library/alpine@{}",
        pier.addr,
        alpine.digest()
    );
    skopeo_pull_ok(&by_digest, &tmp.path().join("a3"), false, None, &pier.log());
    assert_pulled(&tmp.path().join("a3"), &alpine, false);
    for (digest, n) in blob_gets(&up, "library/alpine", &alpine) {
        assert_eq!(n, 1, "upstream GETs of {digest}");
    }

    // Without a default, the upstream's own name is mirrored only with a matching ?ns=.
    let r = get_manifest(&base, "library/alpine", "3.20?ns=docker.io");
    assert_eq!((r.status, r.body.clone()), (200, alpine.manifest.clone()));
    assert_eq!(get_manifest(&base, "library/alpine", "3.20").status, 404);
    assert_eq!(
        get_manifest(&base, "library/alpine", "3.20?ns=quay.io").status,
        404
    );

    // An index with every platform.
    let src = format!("docker://{}/hub/library/multi:1", pier.addr);
    skopeo_pull_ok(&src, &tmp.path().join("m"), true, None, &pier.log());
    assert_pulled(&tmp.path().join("m"), &multi, true);

    // What the upstream does not have is a 404 with the OCI code, not an upstream failure.
    let r = get_manifest(&base, "hub/library/nothing", "1");
    assert_eq!(r.status, 404, "{}", r.text());
    let (code, _) = r.oci_error();
    assert!(
        code == "NAME_UNKNOWN" || code == "MANIFEST_UNKNOWN",
        "{code}: {}",
        r.text()
    );
}

#[test]
fn the_default_upstream_serves_names_no_local_namespace_owns() {
    let tmp = tempfile::tempdir().unwrap();
    let alpine = Image::new(12, &[4_000], Format::Docker);
    let up = upstream_with(
        &tmp.path().join("up"),
        &[("library/alpine", "3.20", &alpine)],
    );
    let hub = UpstreamToml::new("hub", &up.url()).ns(&["docker.io"]);
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, true));
    let base = format!("http://{}", pier.addr);
    // Pushes never go through the default: this makes `team` a local namespace. (The
    // client's HEAD of its first blob, before anything lives under `team`, is a read of a
    // name no local namespace owns, and may be asked upstream; see
    // a_push_to_a_new_namespace_works_while_the_default_upstream_is_down.)
    let local = Image::new(13, &[2_000], Format::Docker);
    let dest = format!("docker://{}/team/app:1", pier.addr);
    local.push(&tmp.path().join("push"), &dest, None);

    let src = format!("docker://{}/library/alpine:3.20", pier.addr);
    skopeo_pull_ok(&src, &tmp.path().join("d1"), false, None, &pier.log());
    assert_pulled(&tmp.path().join("d1"), &alpine, false);
    // Cached under the local name hub/library/alpine: served from there, not asked again.
    let src = format!("docker://{}/hub/library/alpine:3.20", pier.addr);
    skopeo_pull_ok(&src, &tmp.path().join("d2"), false, None, &pier.log());
    assert_pulled(&tmp.path().join("d2"), &alpine, false);
    // containerd's ?ns=docker.io names the same upstream.
    let r = get_manifest(&base, "library/alpine", "3.20?ns=docker.io");
    assert_eq!((r.status, r.body.clone()), (200, alpine.manifest.clone()));
    for (digest, n) in blob_gets(&up, "library/alpine", &alpine) {
        assert_eq!(n, 1, "upstream GETs of {digest}");
    }

    // A local namespace stays local: its image, and its misses, never go upstream.
    assert_eq!(
        manifest_digest(&format!("docker://{}/team/app:1", pier.addr), None),
        Some(local.digest())
    );
    let r = get_manifest(&base, "team/missing", "1");
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(up.requests("GET", "/v2/team/missing/manifests/1"), 0);
    assert_eq!(up.requests("HEAD", "/v2/team/missing/manifests/1"), 0);
    assert_eq!(up.requests("GET", "/v2/team/app/manifests/1"), 0);
}

#[test]
fn mirrored_repositories_are_read_only() {
    let tmp = tempfile::tempdir().unwrap();
    let alpine = Image::new(14, &[4_000], Format::Docker);
    let up = upstream_with(
        &tmp.path().join("up"),
        &[("library/alpine", "3.20", &alpine)],
    );
    let hub = UpstreamToml::new("hub", &up.url());
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, true));
    let base = format!("http://{}", pier.addr);
    let src = format!("docker://{}/hub/library/alpine:3.20", pier.addr);
    skopeo_pull_ok(&src, &tmp.path().join("before"), false, None, &pier.log());

    let seen = up.access_log().len();
    let layer = b"not to be stored";
    let digest = sha256(layer);
    let attempts: Vec<(&str, String, Option<&[u8]>)> = vec![
        (
            "POST",
            format!("{base}/v2/hub/library/alpine/blobs/uploads/"),
            None,
        ),
        (
            "POST",
            format!("{base}/v2/hub/library/alpine/blobs/uploads/?digest={digest}"),
            Some(layer),
        ),
        (
            "PATCH",
            format!("{base}/v2/hub/library/alpine/blobs/uploads/0d4f5b1c-made-up"),
            Some(layer),
        ),
        (
            "PUT",
            format!("{base}/v2/hub/library/alpine/manifests/evil"),
            Some(&alpine.manifest),
        ),
    ];
    for (method, url, body) in attempts {
        let r = request_with_body(
            method,
            &url,
            &[("Content-Type", DOCKER_MANIFEST)],
            Some(body.unwrap_or_default()),
        );
        assert_eq!(r.status, 405, "{method} {url}: {}", r.text());
        assert_eq!(
            r.oci_error().0,
            "UNSUPPORTED",
            "{method} {url}: {}",
            r.text()
        );
    }
    // A real client's push fails the same way, and nothing reaches the upstream.
    let other = Image::new(15, &[1_000], Format::Docker);
    let (src_ref, _) = other.write_for_skopeo(&tmp.path().join("other"));
    let push = pier_integration_tests::run(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &src_ref,
            &format!("docker://{}/hub/library/new:1", pier.addr),
        ],
    );
    assert!(
        !push.status.success(),
        "skopeo pushed to a mirrored repository"
    );
    let writes: Vec<_> = up.access_log()[seen..]
        .iter()
        .filter(|l| l.method != "GET" && l.method != "HEAD")
        .cloned()
        .collect();
    assert!(writes.is_empty(), "writes reached the upstream: {writes:?}");
    assert_eq!(up.requests("POST", "/v2/library/new/blobs/uploads/"), 0);
    // Pulls are unaffected.
    skopeo_pull_ok(&src, &tmp.path().join("after"), false, None, &pier.log());
    assert_pulled(&tmp.path().join("after"), &alpine, false);
    assert_eq!(get_manifest(&base, "hub/library/evil", "x").status, 404);
    assert_eq!(
        request(
            "GET",
            &format!("{base}/v2/hub/library/alpine/manifests/evil"),
            &[]
        )
        .status,
        404
    );
}

#[test]
fn an_admin_may_delete_cached_content_and_the_next_pull_fetches_it_again() {
    let tmp = tempfile::tempdir().unwrap();
    let alpine = Image::new(16, &[4_000], Format::Docker);
    let up = upstream_with(
        &tmp.path().join("up"),
        &[("library/alpine", "3.20", &alpine)],
    );
    let hub = UpstreamToml::new("hub", &up.url());
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, false));
    let base = format!("http://{}", pier.addr);
    let src = format!("docker://{}/hub/library/alpine:3.20", pier.addr);
    skopeo_pull_ok(&src, &tmp.path().join("1"), false, None, &pier.log());
    let gets = |up: &pier_integration_tests::mirror::Upstream| {
        up.requests("GET", "/v2/library/alpine/manifests/3.20")
            + up.requests(
                "GET",
                &format!("/v2/library/alpine/manifests/{}", alpine.digest()),
            )
    };
    let before = gets(&up);
    assert!(before >= 1);
    // auth.mode = "none": everyone is the admin.
    let url = format!("{base}/v2/hub/library/alpine/manifests/{}", alpine.digest());
    let r = request("DELETE", &url, &[]);
    assert_eq!(r.status, 202, "{}", r.text());
    skopeo_pull_ok(&src, &tmp.path().join("2"), false, None, &pier.log());
    assert_pulled(&tmp.path().join("2"), &alpine, false);
    assert!(
        gets(&up) > before,
        "the deleted manifest was not fetched again"
    );
}

#[test]
fn a_tag_is_trusted_for_tag_ttl_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Image::new(17, &[2_000], Format::Docker);
    let b = Image::new(18, &[2_000], Format::Docker);
    let up = upstream_with(&tmp.path().join("up"), &[("library/fresh", "1", &a)]);
    let hub = UpstreamToml::new("hub", &up.url()).ttl(300);
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, false));
    let base = format!("http://{}", pier.addr);
    assert_eq!(
        get_manifest(&base, "hub/library/fresh", "1").body,
        a.manifest
    );
    let asked = up.requests("GET", "/v2/library/fresh/manifests/1")
        + up.requests("HEAD", "/v2/library/fresh/manifests/1");
    up.push(&b, "library/fresh", "1");
    // Within the TTL: the cached answer, without asking.
    let r = get_manifest(&base, "hub/library/fresh", "1");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body, a.manifest,
        "re-asked the upstream within tag_ttl_seconds"
    );
    assert_eq!(
        up.requests("GET", "/v2/library/fresh/manifests/1")
            + up.requests("HEAD", "/v2/library/fresh/manifests/1"),
        asked
    );
}

#[test]
fn after_tag_ttl_seconds_a_tag_is_rechecked_with_head_and_digests_never_are() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Image::new(19, &[2_000], Format::Docker);
    let b = Image::new(20, &[2_000], Format::Docker);
    let up = upstream_with(&tmp.path().join("up"), &[("library/fresh", "1", &a)]);
    let hub = UpstreamToml::new("hub", &up.url()).ttl(1);
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, false));
    let base = format!("http://{}", pier.addr);
    assert_eq!(
        get_manifest(&base, "hub/library/fresh", "1").body,
        a.manifest
    );
    let by_digest = |d: &str| up.requests("GET", &format!("/v2/library/fresh/manifests/{d}"));
    let a_asked = by_digest(&a.digest());

    // Unchanged upstream, TTL expired: a HEAD, and the same answer.
    std::thread::sleep(Duration::from_millis(1_500));
    let heads = up.requests("HEAD", "/v2/library/fresh/manifests/1");
    assert_eq!(
        get_manifest(&base, "hub/library/fresh", "1").body,
        a.manifest
    );
    assert!(
        up.requests("HEAD", "/v2/library/fresh/manifests/1") > heads,
        "the expired tag was not re-checked with a HEAD"
    );

    // Re-tagged upstream: after the TTL the new image.
    up.push(&b, "library/fresh", "1");
    std::thread::sleep(Duration::from_millis(1_500));
    let r = get_manifest(&base, "hub/library/fresh", "1");
    assert_eq!(
        r.body, b.manifest,
        "still the old image after tag_ttl_seconds"
    );
    let src = format!("docker://{}/hub/library/fresh:1", pier.addr);
    skopeo_pull_ok(&src, &tmp.path().join("b"), false, None, &pier.log());
    assert_pulled(&tmp.path().join("b"), &b, false);

    // By digest: immutable, never asked again, however long ago.
    for _ in 0..2 {
        let r = get_manifest(&base, "hub/library/fresh", &a.digest());
        assert_eq!((r.status, r.body), (200, a.manifest.clone()));
    }
    assert_eq!(
        by_digest(&a.digest()),
        a_asked,
        "a manifest by digest was re-asked"
    );
    assert!(!skopeo_pull(
        &format!("docker://{}/hub/library/fresh:nope", pier.addr),
        &tmp.path().join("nope"),
        false,
        None
    )
    .status
    .success());
}

#[test]
fn a_push_to_a_new_namespace_works_while_the_default_upstream_is_down() {
    let tmp = tempfile::tempdir().unwrap();
    let alpine = Image::new(21, &[2_000], Format::Docker);
    let mut up = upstream_with(
        &tmp.path().join("up"),
        &[("library/alpine", "3.20", &alpine)],
    );
    let hub = UpstreamToml::new("hub", &up.url());
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, true));
    up.stop();
    // skopeo (as docker) first asks whether each blob is already there: HEAD
    // /v2/newteam/app/blobs/<digest>. `newteam` is not local yet, so the default maps it;
    // the upstream being down must not turn that into a 503 that aborts the push.
    let local = Image::new(22, &[2_000], Format::Docker);
    let (src, _) = local.write_for_skopeo(&tmp.path().join("local"));
    let dest = format!("docker://{}/newteam/app:1", pier.addr);
    let push = pier_integration_tests::run(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &src,
            &dest,
        ],
    );
    assert!(
        push.status.success(),
        "a push to a new namespace failed while the default upstream is down: {}\nPier's log (end):\n{}",
        String::from_utf8_lossy(&push.stderr),
        super::tail(&pier.log(), 10)
    );
    assert_eq!(manifest_digest(&dest, None), Some(local.digest()));
}
