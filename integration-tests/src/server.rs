//! Running `pier-registry` as a child process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Path of a workspace binary, built next to the test executable (`target/<profile>/`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is missing: build the workspace binaries first (cargo build --workspace --bins)",
        bin.display()
    );
    bin
}

/// A running pier-registry with its own data directory. Killed when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:<port>`
    pub addr: String,
    pub data: PathBuf,
    log: PathBuf,
}

impl Registry {
    /// Start on a free port with storage and database under `data`.
    pub fn start(data: &Path) -> Registry {
        Self::start_with(data, &[])
    }

    /// As [`Registry::start`], with extra `PIER_REGISTRY_*` environment.
    pub fn start_with(data: &Path, env: &[(&str, &str)]) -> Registry {
        std::fs::create_dir_all(data).unwrap();
        let log = data.join(format!("registry-{}.log", std::process::id()));
        let mut cmd = Command::new(binary("pier-registry"));
        cmd.env("PIER_REGISTRY_HTTP_LISTEN", "127.0.0.1:0")
            .env("PIER_REGISTRY_HTTP_WORKERS", "2")
            .env("PIER_REGISTRY_STORAGE_ROOT", data.join("storage"))
            .env(
                "PIER_REGISTRY_DATABASE_URL",
                format!("sqlite://{}", data.join("metadata.db").display()),
            )
            .env("PIER_REGISTRY_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn pier-registry");
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
                if let Some(addr) = line.split("listening on ").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                }
                let _ = writeln!(out, "{line}");
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "pier-registry did not start; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Registry {
            child,
            addr,
            data: data.to_path_buf(),
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kill the process at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
