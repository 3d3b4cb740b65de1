//! The contract's `[mirror]` keys, as a user writes them, are accepted by `pier-registry
//! check-config` (secrets redacted), and a `[mirror]` that cannot work is refused there.

use pier_integration_tests::mirror::{MirrorToml, UpstreamToml};
use pier_integration_tests::server::binary;
use std::path::Path;
use std::process::{Command, Output};

fn check_config(config: &Path) -> Output {
    Command::new(binary("pier-registry"))
        .arg("--config")
        .arg(config)
        .arg("check-config")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

#[test]
fn check_config_accepts_every_key_of_the_contract_and_redacts_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let password_file = tmp.path().join("upstream-password");
    std::fs::write(&password_file, "from-a-file-secret\n").unwrap();
    let ca = tmp.path().join("ca.pem");
    std::fs::write(&ca, "").unwrap();
    let mut text = MirrorToml {
        default: "hub".into(),
        max_bytes: 10 << 30,
        upstreams: vec![
            UpstreamToml::new("hub", "https://registry-1.docker.io")
                .ns(&["docker.io"])
                .credentials("someone", "inline-password-secret"),
            UpstreamToml::new("quay", "https://quay.io").ns(&["quay.io"]),
        ],
    }
    .to_toml();
    text.push_str(&format!(
        "\n[[mirror.upstreams]]\nprefix = \"ghcr\"\nurl = \"https://ghcr.io\"\nusername = \"bot\"\npassword_file = {:?}\nca_certificate = {:?}\ntag_ttl_seconds = 60\nns = [\"ghcr.io\"]\npublic = false\ntimeout_seconds = 5\n",
        password_file.display().to_string(),
        ca.display().to_string(),
    ));
    let config = tmp.path().join("registry.toml");
    std::fs::write(&config, &text).unwrap();
    let out = check_config(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check-config refused the contract's [mirror]:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "[mirror]",
        "default = \"hub\"",
        "max_bytes = 10737418240",
        "[[mirror.upstreams]]",
        "prefix = \"hub\"",
        "url = \"https://registry-1.docker.io\"",
        "ns = [\"docker.io\"]",
        "prefix = \"ghcr\"",
        "public = false",
        "tag_ttl_seconds = 60",
        "timeout_seconds = 5",
    ] {
        assert!(
            stdout.contains(want),
            "{want} not in check-config's output:\n{stdout}"
        );
    }
    for secret in ["inline-password-secret", "from-a-file-secret"] {
        assert!(
            !stdout.contains(secret),
            "{secret} printed by check-config:\n{stdout}"
        );
    }
    assert!(stdout.contains("<redacted>"), "{stdout}");
}

#[test]
fn check_config_refuses_a_mirror_that_cannot_work() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = || UpstreamToml::new("hub", "http://127.0.0.1:5000");
    // The same shape, valid, passes: each refusal below is for what the case breaks.
    let valid = MirrorToml::one(hub(), true).write(&tmp.path().join("valid"));
    let out = check_config(&valid);
    assert!(
        out.status.success(),
        "check-config refused a valid [mirror]: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = [
        (
            "default naming no upstream",
            MirrorToml {
                default: "nope".into(),
                max_bytes: 0,
                upstreams: vec![hub()],
            },
        ),
        (
            "two upstreams with one prefix",
            MirrorToml {
                default: String::new(),
                max_bytes: 0,
                upstreams: vec![hub(), hub()],
            },
        ),
        (
            "a url that is not http(s)",
            MirrorToml::one(UpstreamToml::new("hub", "ftp://127.0.0.1/"), false),
        ),
        (
            "an empty prefix",
            MirrorToml::one(UpstreamToml::new("", "http://127.0.0.1:5000"), false),
        ),
    ];
    for (what, mirror) in cases {
        let config = mirror.write(&tmp.path().join(what.replace(' ', "-")));
        let out = check_config(&config);
        assert!(
            !out.status.success(),
            "check-config accepted {what}:\n{}",
            mirror.to_toml()
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("mirror"),
            "{what}: the error names no mirror setting: {err}"
        );
    }
}
