//! A containerd of the test's own (Debian's `containerd` 1.6) and its `ctr` client: root,
//! state and socket under the test's directory, the CRI plugin off (no kubelet here), and
//! pulls unpacked with the `native` snapshotter (plain copies; overlayfs is not available
//! everywhere the suite runs).
//!
//! Registry mirrors come from a hosts directory (`ctr images pull --hosts-dir`, the same
//! files as containerd's `config_path` for the CRI): `<dir>/<registry>/hosts.toml`, as
//! docs/mirror.md ("Client settings") describes. containerd adds `?ns=<registry>` to each request it
//! sends to a mirror, which is how Pier learns which upstream is meant.

use super::daemon::Daemon;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The containerd namespace the tests' images go to.
pub const NAMESPACE: &str = "pier-test";

pub struct Containerd {
    _daemon: Daemon,
    pub dir: PathBuf,
    pub socket: PathBuf,
}

impl Containerd {
    pub fn start(dir: &Path) -> Containerd {
        crate::require_tool("ctr");
        std::fs::create_dir_all(dir).unwrap();
        let socket = dir.join("containerd.sock");
        assert!(
            socket.as_os_str().len() < 100,
            "containerd directory too deep for a unix socket: {}",
            dir.display()
        );
        let config = dir.join("config.toml");
        std::fs::write(&config, config_toml(dir, &socket)).unwrap();
        let mut cmd = Command::new("containerd");
        cmd.arg("--config").arg(&config);
        let mut daemon = Daemon::spawn("containerd", cmd, &dir.join("containerd.log"));
        daemon.wait_for(Duration::from_secs(30), |log| {
            log.contains("containerd successfully booted").then_some(())
        });
        Containerd {
            _daemon: daemon,
            dir: dir.to_path_buf(),
            socket,
        }
    }

    /// `ctr --address <socket> --namespace pier-test <args>`.
    pub fn ctr(&self, args: &[&str]) -> Output {
        Command::new("ctr")
            .arg("--address")
            .arg(&self.socket)
            .args(["--namespace", NAMESPACE])
            .args(args)
            .output()
            .expect("run ctr")
    }

    /// `ctr images pull --hosts-dir <hosts> --snapshotter native <reference>` (linux/amd64).
    pub fn pull(&self, hosts: &Path, reference: &str) -> Output {
        let hosts = hosts.display().to_string();
        self.ctr(&[
            "images",
            "pull",
            "--hosts-dir",
            &hosts,
            "--snapshotter",
            "native",
            "--platform",
            "linux/amd64",
            reference,
        ])
    }

    /// The digest an image reference points at (`ctr images ls`), if containerd has it.
    pub fn image_digest(&self, reference: &str) -> Option<String> {
        let out = self.ctr(&["images", "ls"]);
        String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
            let mut cols = l.split_whitespace();
            (cols.next() == Some(reference))
                .then(|| cols.nth(1).map(str::to_string))
                .flatten()
        })
    }

    /// Every blob digest in containerd's content store.
    pub fn content(&self) -> Vec<String> {
        let out = self.ctr(&["content", "ls", "--quiet"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }
}

/// containerd's configuration: everything under `dir`, no CRI, no debug or metrics socket.
fn config_toml(dir: &Path, socket: &Path) -> String {
    format!(
        r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{sock}"

[ttrpc]
  address = "{sock}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""
"#,
        root = dir.join("root").display(),
        state = dir.join("state").display(),
        sock = socket.display(),
    )
}

/// Write `<hosts_dir>/<registry>/hosts.toml`: pull and resolve through `mirror`
/// (`http://127.0.0.1:<port>`), `server` for anything else (the registry's own address).
pub fn write_hosts_toml(hosts_dir: &Path, registry: &str, server: &str, mirror: &str) -> PathBuf {
    write_hosts_file(hosts_dir, registry, &hosts_toml(server, mirror, false))
}

/// As [`write_hosts_toml`], the mirror's API root given by its URL's path
/// (`http://127.0.0.1:<port>/v2/hub`, `override_path = true`): containerd then asks for
/// `/v2/hub/library/alpine/…`, the mirror's prefixed names, instead of relying on `?ns=`.
pub fn write_hosts_toml_with_path(
    hosts_dir: &Path,
    registry: &str,
    server: &str,
    mirror_root: &str,
) -> PathBuf {
    write_hosts_file(hosts_dir, registry, &hosts_toml(server, mirror_root, true))
}

fn write_hosts_file(hosts_dir: &Path, registry: &str, text: &str) -> PathBuf {
    let dir = hosts_dir.join(registry);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("hosts.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// A hosts.toml with one mirror host.
pub fn hosts_toml(server: &str, mirror: &str, override_path: bool) -> String {
    let mut t = format!(
        r#"server = "{server}"

[host."{mirror}"]
  capabilities = ["pull", "resolve"]
"#
    );
    if override_path {
        t.push_str("  override_path = true\n");
    }
    t
}
