//! A docker engine of the test's own (Debian's `dockerd`, docker.io 20.10), beside the
//! machine's: the machine's engine cannot be given a registry mirror without a restart, so
//! a test starts a second one with its own socket, data root, exec root and pid file, and a
//! `daemon.json` of its own holding `registry-mirrors` exactly as docs/mirror.md ("Client settings")
//! tells users to write it.
//!
//! No networking (`bridge: none`, no iptables, no IP forwarding): it only pulls. The vfs
//! storage driver needs nothing from the kernel (overlayfs is not available everywhere the
//! suite runs, and vfs leaves no mounts behind). It starts its own containerd under its
//! exec root and stops it when it gets SIGTERM.
//!
//! An engine sends requests to its mirrors only for Docker Hub images (`docker.io/...`,
//! `library/...`); when every mirror fails it falls back to `registry-1.docker.io`. So that
//! such a fallback stays on this machine (not even a DNS query leaves it), the engine runs
//! in a mount namespace of its own whose `/etc/hosts` names Docker Hub's hosts 127.0.0.1,
//! where nothing listens on 443: a fallback fails with `dial tcp 127.0.0.1:443`. Tests
//! also look in Pier's log for the requests the engine made.

use super::daemon::Daemon;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub struct Dockerd {
    daemon: Daemon,
    pub dir: PathBuf,
    pub socket: PathBuf,
    client_config: PathBuf,
}

/// Whether tests that start an engine run: always, unless `PIER_TEST_NO_DOCKER=1` asks to
/// skip docker engine tests (as [`crate::docker_engine_available`] does for the machine's),
/// which is said on stderr. A `dockerd` that is missing or fails to start fails the test.
pub fn wanted() -> bool {
    if std::env::var("PIER_TEST_NO_DOCKER").as_deref() == Ok("1") {
        eprintln!("PIER_TEST_NO_DOCKER=1: docker engine test skipped on request");
        return false;
    }
    true
}

impl Dockerd {
    /// Start an engine under `dir` whose `daemon.json` names `mirrors`
    /// (`http://127.0.0.1:<port>`), and wait until it answers.
    pub fn start(dir: &Path, mirrors: &[&str]) -> Dockerd {
        crate::require_tool("docker");
        std::fs::create_dir_all(dir).unwrap();
        let socket = dir.join("docker.sock");
        // The socket's path must fit a sockaddr_un (108 bytes), as must containerd's
        // under the exec root.
        assert!(
            dir.join("exec/containerd/containerd.sock.ttrpc")
                .as_os_str()
                .len()
                < 100,
            "dockerd directory too deep for unix sockets: {}",
            dir.display()
        );
        let config = dir.join("daemon.json");
        std::fs::write(&config, daemon_json(mirrors).to_string()).unwrap();
        let hosts = dir.join("hosts");
        std::fs::write(&hosts, ETC_HOSTS).unwrap();
        crate::require_tool("unshare");
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(r#"mount --bind "$0" /etc/hosts && exec "$@""#)
            .arg(&hosts)
            .arg("dockerd")
            .arg("--host")
            .arg(format!("unix://{}", socket.display()))
            .arg("--config-file")
            .arg(&config)
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("docker.pid"))
            .args([
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
                "--ip-forward=false",
                "--ip-masq=false",
                "--storage-driver=vfs",
            ]);
        let mut daemon = Daemon::spawn("dockerd", cmd, &dir.join("dockerd.log"));
        daemon.wait_for(Duration::from_secs(60), |log| {
            log.contains("API listen on").then_some(())
        });
        let client_config = dir.join("client");
        std::fs::create_dir_all(&client_config).unwrap();
        let engine = Dockerd {
            daemon,
            dir: dir.to_path_buf(),
            socket,
            client_config,
        };
        let info = engine.ok(&["info", "--format", "{{json .RegistryConfig.Mirrors}}"]);
        for m in mirrors {
            assert!(
                info.contains(m.trim_end_matches('/')),
                "the engine does not list mirror {m}: {info}"
            );
        }
        engine
    }

    /// The docker CLI against this engine, with a client configuration of its own (no
    /// credentials from the machine).
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("--host")
            .arg(format!("unix://{}", self.socket.display()))
            .args(args)
            .env("DOCKER_CONFIG", &self.client_config)
            .output()
            .expect("run docker")
    }

    /// As [`Dockerd::docker`], panicking with the engine's log unless it succeeds; stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}\n{}\nengine log (end):\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail(40)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `docker pull reference`: the CLI's output (status and both streams) as it came.
    pub fn pull(&self, reference: &str) -> Output {
        self.docker(&["pull", reference])
    }

    /// The id (`sha256:` of the image config) of a local image, if the engine has it.
    pub fn image_id(&self, reference: &str) -> Option<String> {
        let out = self.docker(&["image", "inspect", "--format", "{{.Id}}", reference]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The repository digests (`name@sha256:…`) the engine recorded for a local image.
    pub fn repo_digests(&self, reference: &str) -> Vec<String> {
        let out = self.ok(&[
            "image",
            "inspect",
            "--format",
            "{{json .RepoDigests}}",
            reference,
        ]);
        serde_json::from_str(out.trim()).unwrap_or_default()
    }

    /// The last `n` lines of the engine's log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.daemon.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// The engine's `/etc/hosts`: Docker Hub's registry, index and token hosts on 127.0.0.1.
const ETC_HOSTS: &str = "127.0.0.1 localhost
::1 localhost
127.0.0.1 registry-1.docker.io index.docker.io docker.io auth.docker.io production.cloudflare.docker.com
";

/// The engine's `daemon.json`: the mirrors, and nothing else of the machine's.
pub fn daemon_json(mirrors: &[&str]) -> serde_json::Value {
    json!({ "registry-mirrors": mirrors })
}
