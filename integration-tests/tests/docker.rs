//! The docker engine pushes to and pulls from the real pier-registry binary.
//!
//! Needs a running engine (`docker info`). Where none runs, set PIER_TEST_NO_DOCKER=1 to
//! skip explicitly; without it a missing engine fails the test.

use pier_integration_tests::{run, run_ok, Pier, Registry};
use std::io::Write;

/// A one-file image made with `docker import` (the engine here can pull nothing).
fn make_image(dir: &std::path::Path, tag: &str) {
    let root = dir.join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/pier-test"), format!("made for {tag}\n")).unwrap();
    let tar = dir.join("rootfs.tar");
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
    run_ok("docker", &["import", tar.to_str().unwrap(), tag]);
}

#[test]
fn docker_push_and_pull() {
    if !pier_integration_tests::docker_engine_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let reg = Registry::start(&tmp.path().join("pier"));
    let tag = format!("{}/it/docker:{}", reg.addr, std::process::id());
    make_image(tmp.path(), &tag);
    let id_before = run_ok("docker", &["image", "inspect", "--format", "{{.Id}}", &tag]);
    let push = run("docker", &["push", &tag]);
    let cleanup = || {
        let _ = run("docker", &["rmi", "-f", &tag]);
    };
    if !push.status.success() {
        cleanup();
        panic!(
            "docker push failed: {}\nregistry log:\n{}",
            String::from_utf8_lossy(&push.stderr),
            reg.log()
        );
    }
    run_ok("docker", &["rmi", "-f", &tag]);
    let pull = run("docker", &["pull", &tag]);
    let id_after = run("docker", &["image", "inspect", "--format", "{{.Id}}", &tag]);
    cleanup();
    assert!(
        pull.status.success(),
        "docker pull failed: {}",
        String::from_utf8_lossy(&pull.stderr)
    );
    assert_eq!(
        id_before.trim(),
        String::from_utf8_lossy(&id_after.stdout).trim(),
        "image id changed through the registry"
    );
}

#[test]
fn docker_login_push_and_pull_with_token_auth() {
    if !pier_integration_tests::docker_engine_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), 5);
    pier.add_user("dora", "dora-pw");
    let config = tmp.path().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    let docker = |args: &[&str]| {
        std::process::Command::new("docker")
            .args(args)
            .env("DOCKER_CONFIG", &config)
            .output()
            .unwrap()
    };
    let tag = format!("{}/dora/app:{}", pier.registry.addr, std::process::id());
    make_image(tmp.path(), &tag);
    let denied = docker(&["push", &tag]);
    assert!(!denied.status.success(), "push without login succeeded");

    let login = std::process::Command::new("docker")
        .args([
            "login",
            &pier.registry.addr,
            "-u",
            "dora",
            "--password-stdin",
        ])
        .env("DOCKER_CONFIG", &config)
        .stdin(std::process::Stdio::piped())
        .output_with_stdin("dora-pw");
    assert!(
        login.status.success(),
        "docker login: {}",
        String::from_utf8_lossy(&login.stderr)
    );
    let push = docker(&["push", &tag]);
    let rmi = docker(&["rmi", "-f", &tag]);
    let pull = docker(&["pull", &tag]);
    let _ = docker(&["rmi", "-f", &tag]);
    assert!(
        push.status.success(),
        "docker push: {}\n{}",
        String::from_utf8_lossy(&push.stderr),
        pier.registry.log()
    );
    assert!(rmi.status.success());
    assert!(
        pull.status.success(),
        "docker pull: {}",
        String::from_utf8_lossy(&pull.stderr)
    );
}

trait OutputWithStdin {
    fn output_with_stdin(&mut self, input: &str) -> std::process::Output;
}

impl OutputWithStdin for std::process::Command {
    fn output_with_stdin(&mut self, input: &str) -> std::process::Output {
        let mut child = self
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}
