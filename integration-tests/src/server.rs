//! Running Pier's binaries as child processes on free 127.0.0.1 ports.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Path of a workspace binary, built next to the running executable: a test
/// (`target/<profile>/deps/<test>`) or a program such as pier-bench (`target/<profile>/`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let parent = exe.parent().expect("target/<profile>/…");
    let dir = match parent.file_name() {
        Some(n) if n == "deps" => parent.parent().expect("target/<profile>/deps/<test>"),
        _ => parent,
    };
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is missing: build the workspace binaries first (cargo build --workspace --bins)",
        bin.display()
    );
    bin
}

/// A running service: killed when dropped. It logs `… listening on <addr>` once bound.
pub struct Service {
    child: Child,
    /// `127.0.0.1:<port>`
    pub addr: String,
    pub data: PathBuf,
    log: PathBuf,
    /// Captured standard output (first-run messages such as the admin password).
    stdout: PathBuf,
}

impl Service {
    /// Start `binary` with `env`, logs under `data`, and wait until it listens.
    pub fn start(binary_name: &str, data: &Path, env: &[(String, String)]) -> Service {
        std::fs::create_dir_all(data).unwrap();
        let log = data.join(format!("{binary_name}.log"));
        let stdout = data.join(format!("{binary_name}.stdout"));
        let mut cmd = Command::new(binary(binary_name));
        cmd.stdout(Stdio::from(std::fs::File::create(&stdout).unwrap()))
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let log_path = log.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .unwrap();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Text or JSON lines (`…listening on 127.0.0.1:5000","target":…`).
                if let Some(addr) = line.split("listening on ").nth(1) {
                    let addr = addr
                        .split(|c: char| !(c.is_ascii_alphanumeric() || ".:[]".contains(c)))
                        .next()
                        .unwrap_or_default();
                    let _ = tx.send(addr.to_string());
                }
                let _ = writeln!(out, "{line}");
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "{binary_name} did not start; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Service {
            child,
            addr,
            data: data.to_path_buf(),
            log,
            stdout,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The service's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What the service printed on standard output so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// The process id (for `/proc/<pid>/…` in tests that must pick a busy replica).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kill the process at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        self.stop();
    }

    /// As [`Service::kill`], keeping the value (its log stays readable).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// pier-registry with its storage and database under `data`.
pub struct Registry;

impl Registry {
    /// Anonymous mode on a free port.
    #[allow(clippy::new_ret_no_self)]
    pub fn start(data: &Path) -> Service {
        Self::start_with(data, &[])
    }

    /// As [`Registry::start`], with extra `PIER_REGISTRY_*` environment.
    pub fn start_with(data: &Path, extra: &[(&str, &str)]) -> Service {
        Service::start("pier-registry", data, &Self::env(data, extra))
    }

    /// The environment [`Registry::start_with`] gives the registry (also right for its CLI).
    pub fn env(data: &Path, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let storage = data.join("storage");
        let db = pier_shared::testing::database_url(data, "metadata.db");
        let mut env = kv(&[
            ("PIER_REGISTRY_HTTP_LISTEN", "127.0.0.1:0"),
            ("PIER_REGISTRY_HTTP_WORKERS", "2"),
            ("PIER_REGISTRY_STORAGE_ROOT", storage.to_str().unwrap()),
            ("PIER_REGISTRY_DATABASE_URL", &db),
            ("PIER_REGISTRY_LOG", "info"),
        ]);
        env.extend(s3_env(data));
        env.extend(kv(extra));
        env
    }
}

/// With `PIER_TEST_STORAGE=s3`: the S3 driver on the test engine (`PIER_TEST_S3_*`, from
/// `tools/garage.sh start`), under a key prefix derived from `data`, so that each registry
/// has its own and a restarted one finds its bytes. Panics (never skips) when a variable
/// is missing.
fn s3_env(data: &Path) -> Vec<(String, String)> {
    if std::env::var("PIER_TEST_STORAGE").as_deref() != Ok("s3") {
        return Vec::new();
    }
    use sha2::Digest as _;
    let id = hex::encode(sha2::Sha256::digest(data.display().to_string().as_bytes()));
    let mut env = kv(&[
        ("PIER_REGISTRY_STORAGE_DRIVER", "s3"),
        ("PIER_REGISTRY_STORAGE_S3_FORCE_PATH_STYLE", "true"),
        (
            "PIER_REGISTRY_STORAGE_S3_PREFIX",
            &format!("it-{}", &id[..16]),
        ),
    ]);
    for key in [
        "ENDPOINT",
        "BUCKET",
        "REGION",
        "ACCESS_KEY_ID",
        "SECRET_ACCESS_KEY",
    ] {
        let v = std::env::var(format!("PIER_TEST_S3_{key}")).unwrap_or_else(|_| {
            panic!("PIER_TEST_STORAGE=s3 but PIER_TEST_S3_{key} is not set (tools/garage.sh start)")
        });
        env.push((format!("PIER_REGISTRY_STORAGE_S3_{key}"), v));
    }
    env
}
