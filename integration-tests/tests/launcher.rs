//! `pier up` (README's start command) on a fresh data directory: both services start, the
//! admin password is printed once, and a real client logs in, pushes and lists tags.

use pier_integration_tests::server::binary;
use pier_integration_tests::{require_tool, run_ok, OciLayout, Platform};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Up(Child);
impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(data: &std::path::Path, stdout: &std::path::Path) -> (Up, String) {
    let child = Command::new(binary("pier"))
        .args([
            "up",
            "--registry-listen",
            "127.0.0.1:0",
            "--index-listen",
            "127.0.0.1:0",
        ])
        .env("PIER_DATA_DIR", data)
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up = Up(child);
    let t = Instant::now();
    loop {
        let out = std::fs::read_to_string(stdout).unwrap_or_default();
        if out.contains("Pier is up.") {
            return (up, out);
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "pier up did not start: {out}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn field<'a>(out: &'a str, prefix: &str, after: &str) -> &'a str {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {out}"));
    line.split(after)
        .nth(1)
        .unwrap()
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap()
}

#[test]
fn pier_up_prints_admin_credentials_and_serves_clients() {
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("pier-data");
    let (up, out) = start(&data, &tmp.path().join("stdout-1"));
    let password = field(&out, "pier-index: created user admin", "password ").to_string();
    let registry = field(&out, "registry", "http://").to_string();
    assert!(registry.starts_with("127.0.0.1:"), "{out}");
    // Metrics: on at 127.0.0.1:5002 / :5003, or off when another process holds the port.
    for service in ["registry", "index"] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("metrics   {service}"))),
            "no metrics line for the {service}: {out}"
        );
    }

    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(
        11,
        &[1_000],
        Platform {
            os: "linux",
            architecture: "amd64",
        },
    );
    src.tag("v1", &image);
    let dest = format!("docker://{registry}/admin/first:v1");
    let creds = format!("admin:{password}");
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
    let tags = run_ok(
        "skopeo",
        &[
            "list-tags",
            "--tls-verify=false",
            "--creds",
            &creds,
            &format!("docker://{registry}/admin/first"),
        ],
    );
    assert!(tags.contains("\"v1\""), "{tags}");
    drop(up);

    // A second start reuses the data: no new admin password, the image is still there.
    let (_up, out) = start(&data, &tmp.path().join("stdout-2"));
    assert!(
        !out.contains("created user admin"),
        "admin created twice: {out}"
    );
    let registry = field(&out, "registry", "http://").to_string();
    let tags = run_ok(
        "skopeo",
        &[
            "list-tags",
            "--tls-verify=false",
            "--creds",
            &creds,
            &format!("docker://{registry}/admin/first"),
        ],
    );
    assert!(tags.contains("\"v1\""), "{tags}");
}
