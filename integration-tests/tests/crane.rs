//! crane (go-containerregistry, built from Debian's sources by tools/build-crane.sh)
//! against the real pier-registry binary.

use pier_integration_tests::{require_tool, run_ok, sha256, Registry};

fn crane(args: &[&str]) -> String {
    require_tool("crane");
    run_ok("crane", args)
}

#[test]
fn crane_append_copy_list_and_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = Registry::start(&tmp.path().join("pier"));
    let root = tmp.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("hello.txt"), "hello from crane\n").unwrap();
    let tar = tmp.path().join("layer.tar");
    run_ok(
        "tar",
        &[
            "-C",
            root.to_str().unwrap(),
            "-cf",
            tar.to_str().unwrap(),
            ".",
        ],
    );

    let src = format!("{}/crane/src:v1", reg.addr);
    crane(&["append", "-f", tar.to_str().unwrap(), "-t", &src]);
    let digest = crane(&["digest", &src]).trim().to_string();
    let manifest = crane(&["manifest", &src]);
    assert_eq!(
        sha256(manifest.as_bytes()),
        digest,
        "manifest not byte-exact"
    );

    // Copy within the registry: crane mounts the layers from the source repository.
    let dst = format!("{}/crane/dst:copied", reg.addr);
    crane(&["copy", &src, &dst]);
    assert_eq!(crane(&["digest", &dst]).trim(), digest);
    // The access log has no query strings (they may carry secrets); a mount is the upload
    // POST answered 201 (an upload it opens is a 202).
    assert!(
        reg.log()
            .contains(r#""POST /v2/crane/dst/blobs/uploads/" 201"#),
        "crane did not use cross-repository mount; log:\n{}",
        reg.log()
    );

    let tags = crane(&["ls", &format!("{}/crane/dst", reg.addr)]);
    assert_eq!(tags.trim(), "copied");
    let catalog = crane(&["catalog", &reg.addr]);
    assert_eq!(
        catalog.split_whitespace().collect::<Vec<_>>(),
        ["crane/dst", "crane/src"]
    );

    // Pull the layer back and find the file.
    let out = tmp.path().join("export.tar");
    crane(&["export", &dst, out.to_str().unwrap()]);
    let listing = run_ok("tar", &["-tf", out.to_str().unwrap()]);
    assert!(listing.contains("hello.txt"), "{listing}");

    crane(&["delete", &format!("{}/crane/dst@{digest}", reg.addr)]);
    let gone = std::process::Command::new("crane")
        .args(["digest", &dst])
        .output()
        .unwrap();
    assert!(
        !gone.status.success(),
        "manifest still there after crane delete"
    );
}
