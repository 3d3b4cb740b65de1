//! skopeo (Debian's package, not written here) against the real pier-registry binary.

use pier_integration_tests::{require_tool, run, run_ok, sha256, OciLayout, Platform, Registry};

const AMD64: Platform = Platform {
    os: "linux",
    architecture: "amd64",
};
const ARM64: Platform = Platform {
    os: "linux",
    architecture: "arm64",
};

fn skopeo(args: &[&str]) -> String {
    require_tool("skopeo");
    run_ok("skopeo", args)
}

/// Push `tag` of `src` to `dest` and pull it back: the manifest must come back byte-exact
/// (same digest) and every blob identical. `all` copies every platform of an index.
fn round_trip(
    tmp: &std::path::Path,
    src: &OciLayout,
    tag: &str,
    dest: &str,
    digest: &str,
    all: bool,
) {
    let src_ref = format!("oci:{}:{tag}", src.dir.display());
    let out = tmp.join(format!("out-{tag}"));
    let out_ref = format!("oci:{}:{tag}", out.display());
    // `--all`: every platform of an index; repeating --preserve-digests is harmless.
    let all = if all { "--all" } else { "--preserve-digests" };
    skopeo(&[
        "copy",
        all,
        "--preserve-digests",
        "--dest-tls-verify=false",
        &src_ref,
        dest,
    ]);
    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", dest]);
    assert_eq!(sha256(raw.as_bytes()), digest, "manifest not byte-exact");
    skopeo(&[
        "copy",
        all,
        "--preserve-digests",
        "--src-tls-verify=false",
        dest,
        &out_ref,
    ]);
    assert_eq!(
        OciLayout::blob_digests(&out),
        OciLayout::blob_digests(&src.dir)
    );
    OciLayout::verify(&out);
    // Pushing again is a no-op for what is already there (HEAD finds it).
    skopeo(&[
        "copy",
        all,
        "--preserve-digests",
        "--dest-tls-verify=false",
        &src_ref,
        dest,
    ]);
}

#[test]
fn multi_layer_image_round_trips_byte_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = Registry::start(&tmp.path().join("pier"));
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(1, &[3_000, 70_000, 2_500_000], AMD64);
    src.tag("v1", &image);
    let dest = format!("docker://{}/team/app:v1", reg.addr);
    round_trip(
        tmp.path(),
        &src,
        "v1",
        &dest,
        image["digest"].as_str().unwrap(),
        false,
    );
}

#[test]
fn multi_arch_index_round_trips_byte_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = Registry::start(&tmp.path().join("pier"));
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let a = src.image(10, &[1_000, 20_000], AMD64);
    let b = src.image(20, &[1_500, 30_000], ARM64);
    let index = src.index(&[a, b]);
    src.tag("multi", &index);
    let dest = format!("docker://{}/team/multi:multi", reg.addr);
    round_trip(
        tmp.path(),
        &src,
        "multi",
        &dest,
        index["digest"].as_str().unwrap(),
        true,
    );

    // A single platform resolves through the index.
    let arm = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--override-arch",
        "arm64",
        &dest,
    ]);
    let arm: serde_json::Value = serde_json::from_str(&arm).unwrap();
    assert_eq!(arm["Architecture"], "arm64");
}

#[test]
fn list_tags_and_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = Registry::start(&tmp.path().join("pier"));
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(3, &[4_000], AMD64);
    src.tag("v1", &image);
    let src_ref = format!("oci:{}:v1", src.dir.display());
    for tag in ["1.0", "1.1", "latest"] {
        let dest = format!("docker://{}/lib/tool:{tag}", reg.addr);
        skopeo(&[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &src_ref,
            &dest,
        ]);
    }
    let repo = format!("docker://{}/lib/tool", reg.addr);
    let tags: serde_json::Value =
        serde_json::from_str(&skopeo(&["list-tags", "--tls-verify=false", &repo])).unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["1.0", "1.1", "latest"]));

    // skopeo delete removes the manifest by digest: every tag on it goes.
    let latest = format!("docker://{}/lib/tool:latest", reg.addr);
    skopeo(&["delete", "--tls-verify=false", &latest]);
    let out = run(
        "skopeo",
        &["inspect", "--raw", "--tls-verify=false", &latest],
    );
    assert!(!out.status.success(), "manifest still served after delete");
    let tags: serde_json::Value =
        serde_json::from_str(&skopeo(&["list-tags", "--tls-verify=false", &repo])).unwrap();
    assert_eq!(tags["Tags"], serde_json::json!([]));
}
