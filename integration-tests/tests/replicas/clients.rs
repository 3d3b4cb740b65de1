//! Real clients through nginx: skopeo copies an image in and out, docker logs in, pushes
//! and pulls. Which replica serves each request is nginx's round-robin choice.

use crate::cluster;
use crate::http::{PASSWORD, USER};
use pier_integration_tests::{require_tool, run_ok, OciLayout, Platform};
use std::io::Write;
use std::process::{Command, Stdio};

const AMD64: Platform = Platform {
    os: "linux",
    architecture: "amd64",
};

#[test]
fn skopeo_copies_in_and_out_through_nginx() {
    require_tool("skopeo");
    let (tmp, c) = cluster();
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(7, &[3_000, 700_000, 2_000_000], AMD64);
    src.tag("v1", &image);
    let creds = format!("{USER}:{PASSWORD}");
    let dest = format!("docker://{}/alice/skopeo:v1", c.registry_addr);
    run_ok(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &format!("oci:{}:v1", src.dir.display()),
            &dest,
        ],
    );
    let out = tmp.path().join("out");
    run_ok(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-creds",
            &creds,
            &dest,
            &format!("oci:{}:v1", out.display()),
        ],
    );
    assert_eq!(
        OciLayout::blob_digests(&out),
        OciLayout::blob_digests(&src.dir)
    );
    OciLayout::verify(&out);
    // Both registry replicas served part of it.
    let log = c.nginx.access_log();
    for r in &c.registries {
        assert!(
            log.contains(&r.svc().addr),
            "no request reached {}",
            r.svc().addr
        );
    }
}

#[test]
fn docker_logs_in_pushes_and_pulls_through_nginx() {
    if !pier_integration_tests::docker_engine_available() {
        return;
    }
    let (tmp, c) = cluster();
    let config = tmp.path().join("docker-config");
    std::fs::create_dir_all(&config).expect("docker config dir");
    let docker = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new("docker")
            .args(args)
            .env("DOCKER_CONFIG", &config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn docker");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes()).expect("docker stdin");
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("docker")
    };
    let tag = format!("{}/alice/docker:{}", c.registry_addr, std::process::id());
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).expect("rootfs");
    std::fs::write(root.join("etc/pier-test"), format!("made for {tag}\n")).expect("file");
    let tar = tmp.path().join("rootfs.tar");
    run_ok(
        "tar",
        &[
            "-C",
            root.to_str().unwrap_or("."),
            "-cf",
            tar.to_str().unwrap_or("x"),
            ".",
        ],
    );
    run_ok("docker", &["import", tar.to_str().unwrap_or("x"), &tag]);
    let id = |out: std::process::Output| String::from_utf8_lossy(&out.stdout).trim().to_string();
    let before = id(docker(
        &["image", "inspect", "--format", "{{.Id}}", &tag],
        None,
    ));

    let login = docker(
        &["login", &c.registry_addr, "-u", USER, "--password-stdin"],
        Some(PASSWORD),
    );
    let push = docker(&["push", &tag], None);
    let rmi = docker(&["rmi", "-f", &tag], None);
    let pull = docker(&["pull", &tag], None);
    let after = id(docker(
        &["image", "inspect", "--format", "{{.Id}}", &tag],
        None,
    ));
    let _ = docker(&["rmi", "-f", &tag], None);
    for (what, out) in [
        ("login", &login),
        ("push", &push),
        ("rmi", &rmi),
        ("pull", &pull),
    ] {
        assert!(
            out.status.success(),
            "docker {what}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            c.logs()
        );
    }
    assert_eq!(before, after, "image id changed through the replicas");
}
