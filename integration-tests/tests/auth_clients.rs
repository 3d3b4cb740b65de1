//! Real clients against the pair (pier-index + pier-registry in token mode): docker login,
//! skopeo with credentials, anonymous pulls of public and private repositories.

use pier_integration_tests::basic_auth;
use pier_integration_tests::{
    manifest_digest, require_tool, run, run_ok, sha256, OciLayout, Pier, Platform,
};
use std::io::Write;
use std::process::{Command, Stdio};

const AMD64: Platform = Platform {
    os: "linux",
    architecture: "amd64",
};

/// `docker login` with a private DOCKER_CONFIG; returns (success, stderr).
fn docker_login(
    config: &std::path::Path,
    host: &str,
    user: &str,
    password: &str,
) -> (bool, String) {
    require_tool("docker");
    let mut child = Command::new("docker")
        .args(["login", host, "-u", user, "--password-stdin"])
        .env("DOCKER_CONFIG", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn docker_login_to_registry_and_index() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), 5);
    pier.add_user("alice", "alice-secret-1");
    let config = tmp.path().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();

    let (ok, err) = docker_login(&config, &pier.registry.addr, "alice", "alice-secret-1");
    assert!(ok, "docker login to the registry failed: {err}");
    let (ok, err) = docker_login(&config, &pier.index.addr, "alice", "alice-secret-1");
    assert!(ok, "docker login to the index failed: {err}");
    let (ok, err) = docker_login(&config, &pier.registry.addr, "alice", "wrong");
    assert!(!ok, "docker login with a wrong password succeeded");
    assert!(
        err.contains("401") || err.to_lowercase().contains("unauthorized"),
        "{err}"
    );
    // The password never reaches the logs.
    for log in [pier.index.log(), pier.registry.log()] {
        assert!(!log.contains("alice-secret-1"), "password in a log");
    }
}

#[test]
fn skopeo_push_pull_with_credentials_and_anonymous_pulls() {
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), 5);
    pier.add_user("alice", "alice-pw");
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(5, &[5_000, 50_000], AMD64);
    src.tag("v1", &image);
    let src_ref = format!("oci:{}:v1", src.dir.display());
    let dest = format!("docker://{}/alice/app:v1", pier.registry.addr);

    // Anonymous push is refused.
    let anon = run(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &src_ref,
            &dest,
        ],
    );
    assert!(!anon.status.success(), "anonymous push succeeded");

    run_ok(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            "alice:alice-pw",
            &src_ref,
            &dest,
        ],
    );
    assert_eq!(
        manifest_digest(&dest, Some("alice:alice-pw")).as_deref(),
        image["digest"].as_str()
    );

    // Private by default: anonymous pull fails …
    assert!(
        manifest_digest(&dest, None).is_none(),
        "anonymous pull of a private repository succeeded"
    );
    // … until the repository is made public.
    pier.index_cli(&["repo", "visibility", "alice/app", "public"], None);
    assert_eq!(
        manifest_digest(&dest, None).as_deref(),
        image["digest"].as_str(),
        "anonymous pull of a public repository failed"
    );
    let out = tmp.path().join("out");
    run_ok(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-no-creds",
            &dest,
            &format!("oci:{}:v1", out.display()),
        ],
    );
    assert_eq!(
        OciLayout::blob_digests(&out),
        OciLayout::blob_digests(&src.dir)
    );

    // A public repository is still not anonymously writable.
    let anon = run(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-no-creds",
            &src_ref,
            &format!("docker://{}/alice/app:v2", pier.registry.addr),
        ],
    );
    assert!(
        !anon.status.success(),
        "anonymous push to a public repository succeeded"
    );
}

/// A JSON API call on the index with Basic credentials; returns the status.
fn api(pier: &Pier, method: &str, path: &str, user: &str, pw: &str, body: Option<&str>) -> u16 {
    let req =
        ureq::request(method, &pier.index.url(path)).set("Authorization", &basic_auth(user, pw));
    let resp = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    match resp {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_team_in_alices_namespace_lets_bob_push() {
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), 1);
    pier.add_user("alice", "alice-pw");
    pier.add_user("bob", "bob-pw");
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(8, &[2_000], AMD64);
    src.tag("v1", &image);
    let src_ref = format!("oci:{}:v1", src.dir.display());
    let dest = format!("docker://{}/alice/team-app:v1", pier.registry.addr);
    let push = |creds: &str| {
        run(
            "skopeo",
            &[
                "copy",
                "--preserve-digests",
                "--dest-tls-verify=false",
                "--dest-creds",
                creds,
                &src_ref,
                &dest,
            ],
        )
    };
    assert!(
        !push("bob:bob-pw").status.success(),
        "bob pushed before being granted"
    );
    // Bob cannot grant himself rights in alice's namespace.
    let own = api(
        &pier,
        "POST",
        "/api/v1/namespaces/alice/teams",
        "bob",
        "bob-pw",
        Some(r#"{"name":"sneaky","role":"write"}"#),
    );
    assert!(
        own == 403 || own == 404,
        "bob created a team in alice's namespace: {own}"
    );
    assert_eq!(
        api(
            &pier,
            "POST",
            "/api/v1/namespaces/alice/teams",
            "alice",
            "alice-pw",
            Some(r#"{"name":"builders","role":"write"}"#)
        ),
        201
    );
    assert_eq!(
        api(
            &pier,
            "PUT",
            "/api/v1/namespaces/alice/teams/builders/members/bob",
            "alice",
            "alice-pw",
            None
        ),
        200
    );
    let out = push("bob:bob-pw");
    assert!(
        out.status.success(),
        "bob cannot push after the grant: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        manifest_digest(&dest, Some("alice:alice-pw")).as_deref(),
        image["digest"].as_str()
    );
    // Removing bob from the team takes his push right away (after the confirmation TTL).
    assert_eq!(
        api(
            &pier,
            "DELETE",
            "/api/v1/namespaces/alice/teams/builders/members/bob",
            "alice",
            "alice-pw",
            None
        ),
        200
    );
    std::thread::sleep(std::time::Duration::from_millis(1_300));
    let dest2 = format!("docker://{}/alice/team-app:v2", pier.registry.addr);
    let out = run(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            "bob:bob-pw",
            &src_ref,
            &dest2,
        ],
    );
    assert!(
        !out.status.success(),
        "bob still pushes after removal from the team"
    );
}

#[test]
fn user_cannot_push_into_another_users_namespace() {
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), 5);
    pier.add_user("alice", "alice-pw");
    pier.add_user("bob", "bob-pw");
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(6, &[2_000], AMD64);
    src.tag("v1", &image);
    let src_ref = format!("oci:{}:v1", src.dir.display());
    let into_alice = format!("docker://{}/alice/shared:v1", pier.registry.addr);
    let out = run(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            "bob:bob-pw",
            &src_ref,
            &into_alice,
        ],
    );
    assert!(!out.status.success(), "bob pushed into alice's namespace");
    run_ok(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            "bob:bob-pw",
            &src_ref,
            &format!("docker://{}/bob/own:v1", pier.registry.addr),
        ],
    );
}

#[test]
fn crane_with_credentials() {
    require_tool("crane");
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), 5);
    pier.add_user("frank", "frank-pw");
    let config = tmp.path().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    let crane = |args: &[&str]| {
        Command::new("crane")
            .args(args)
            .env("DOCKER_CONFIG", &config)
            .output()
            .unwrap()
    };
    let root = tmp.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("f.txt"), "crane with a token\n").unwrap();
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
    let image = format!("{}/frank/tool:v1", pier.registry.addr);

    let anon = crane(&["append", "-f", tar.to_str().unwrap(), "-t", &image]);
    assert!(!anon.status.success(), "crane pushed without credentials");
    let login = crane(&[
        "auth",
        "login",
        &pier.registry.addr,
        "-u",
        "frank",
        "-p",
        "frank-pw",
    ]);
    assert!(
        login.status.success(),
        "crane auth login: {}",
        String::from_utf8_lossy(&login.stderr)
    );
    let push = crane(&["append", "-f", tar.to_str().unwrap(), "-t", &image]);
    assert!(
        push.status.success(),
        "crane append: {}",
        String::from_utf8_lossy(&push.stderr)
    );
    let digest = crane(&["digest", &image]);
    assert!(digest.status.success());
    let manifest = crane(&["manifest", &image]);
    assert_eq!(
        sha256(&manifest.stdout),
        String::from_utf8_lossy(&digest.stdout).trim(),
        "manifest not byte-exact through token auth"
    );
}
