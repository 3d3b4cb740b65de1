//! The reference registry (Debian's docker-registry, distribution 2.8) configured with
//! `auth.token` pointing at pier-index accepts Pier's tokens.

use pier_integration_tests::{manifest_digest, require_tool, run, OciLayout, Pier, Platform};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Peer(std::process::Child);
impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn distribution_accepts_pier_tokens() {
    require_tool("docker-registry");
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), 5);
    pier.add_user("alice", "alice-pw");
    let cert = tmp.path().join("pier-index.pem");
    std::fs::write(&cert, pier.certificate()).unwrap();

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = tmp.path().join("distribution.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  token:\n    realm: http://{index}/token\n    service: pier-registry\n    issuer: pier-index\n    rootcertbundle: {cert}\n",
            root = tmp.path().join("distribution-data").display(),
            index = pier.index.addr,
            cert = cert.display(),
        ),
    )
    .unwrap();
    let log = std::fs::File::create(tmp.path().join("distribution.log")).unwrap();
    let _peer = Peer(
        Command::new("docker-registry")
            .args(["serve", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "docker-registry did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(
        9,
        &[3_000, 30_000],
        Platform {
            os: "linux",
            architecture: "amd64",
        },
    );
    src.tag("v1", &image);
    let dest = format!("docker://127.0.0.1:{port}/alice/through-distribution:v1");
    let pushed = run(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            "alice:alice-pw",
            &format!("oci:{}:v1", src.dir.display()),
            &dest,
        ],
    );
    assert!(
        pushed.status.success(),
        "push through distribution failed: {}\ndistribution log:\n{}",
        String::from_utf8_lossy(&pushed.stderr),
        std::fs::read_to_string(tmp.path().join("distribution.log")).unwrap_or_default()
    );
    assert_eq!(
        manifest_digest(&dest, Some("alice:alice-pw")).as_deref(),
        image["digest"].as_str()
    );
    // Without credentials distribution refuses: the token must come from Pier.
    assert!(manifest_digest(&dest, None).is_none());
}
