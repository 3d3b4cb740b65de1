//! Running third-party command-line clients.

use std::process::{Command, Output};

/// Panic (fail the test) if `tool` is not on PATH: tests never skip silently.
pub fn require_tool(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is required by this test but is not installed; run integration-tests/tools/install-clients.sh"
    );
}

/// Run a command and return its output, whatever its status.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Run a command that must succeed; returns stdout.
pub fn run_ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `skopeo inspect --raw` of `image` over plain HTTP, with `user:password` credentials or
/// none: the sha256 digest of the manifest bytes it got, or `None` if it got none.
pub fn manifest_digest(image: &str, creds: Option<&str>) -> Option<String> {
    require_tool("skopeo");
    let mut args = vec!["inspect", "--raw", "--tls-verify=false"];
    match creds {
        Some(c) => args.extend(["--creds", c]),
        None => args.push("--no-creds"),
    }
    args.push(image);
    let out = run("skopeo", &args);
    out.status.success().then(|| crate::sha256(&out.stdout))
}

/// Is there a docker engine to test with? Fails (never skips) when there is none, unless
/// `PIER_TEST_NO_DOCKER=1` asks to skip the engine tests.
pub fn docker_engine_available() -> bool {
    if std::env::var("PIER_TEST_NO_DOCKER").as_deref() == Ok("1") {
        eprintln!("PIER_TEST_NO_DOCKER=1: docker engine test skipped on request");
        return false;
    }
    require_tool("docker");
    let info = run("docker", &["info", "--format", "{{.ServerVersion}}"]);
    assert!(
        info.status.success(),
        "no docker engine is reachable ({}); start one or set PIER_TEST_NO_DOCKER=1",
        String::from_utf8_lossy(&info.stderr).trim()
    );
    true
}
