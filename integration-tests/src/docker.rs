//! Driving the docker engine from tests: images made with `docker import` (the engine here
//! can pull nothing), a private `DOCKER_CONFIG`, and a CA installed in
//! `/etc/docker/certs.d/<host:port>/ca.crt` for as long as a guard lives.

use crate::run_ok;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A one-file image tagged `tag`, made with `docker import` from a tree under `dir`.
pub fn import_image(dir: &Path, tag: &str) {
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

/// The docker CLI with its own configuration directory (credentials stay in the test).
pub struct Docker {
    pub config: PathBuf,
}

impl Docker {
    pub fn new(config: &Path) -> Docker {
        std::fs::create_dir_all(config).unwrap();
        Docker {
            config: config.to_path_buf(),
        }
    }

    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new("docker")
            .args(args)
            .env("DOCKER_CONFIG", &self.config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    /// Run and panic with docker's error unless it succeeds.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// What `docker login` stored (`config.json`), for tests that look for tokens in it.
    pub fn stored_config(&self) -> String {
        std::fs::read_to_string(self.config.join("config.json")).unwrap_or_default()
    }
}

/// `/etc/docker/certs.d/<host:port>/ca.crt` for each `hosts` entry, removed on drop.
pub struct CertsD {
    dirs: Vec<PathBuf>,
}

impl CertsD {
    pub fn install(ca: &Path, hosts: &[&str]) -> CertsD {
        let dirs: Vec<PathBuf> = hosts
            .iter()
            .map(|h| Path::new("/etc/docker/certs.d").join(h))
            .collect();
        for d in &dirs {
            std::fs::create_dir_all(d).unwrap();
            std::fs::copy(ca, d.join("ca.crt")).unwrap();
        }
        CertsD { dirs }
    }
}

impl Drop for CertsD {
    fn drop(&mut self) {
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
