//! Debian's `docker-registry` (distribution 2.8) as the mirror's upstream, a stand-in for
//! Docker Hub: `docker-registry serve <config.yml>` on 127.0.0.1, filesystem storage under
//! the test's directory, its access log on (in its log file, with its application log).
//!
//! The access log is gorilla/handlers' combined format, one line per request:
//!
//! ```text
//! 127.0.0.1 - - [04/Dec/2026:01:33:53 +0000] "GET /v2/library/hello/blobs/sha256:3bd8…a3 HTTP/1.1" 200 163 "" "docker/20.10.24+dfsg1 …"
//! ```
//!
//! with the request target as sent (query string included: containerd adds `?ns=docker.io`).
//! [`Upstream::blob_gets`] counts those lines for one blob; that is how a test proves that
//! the mirror fetched a blob once however many clients asked.

use super::daemon::Daemon;
use super::images::Image;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct Upstream {
    daemon: Daemon,
    /// `127.0.0.1:<port>`, kept across [`Upstream::stop`] and [`Upstream::start_again`].
    pub addr: String,
    pub dir: PathBuf,
    config: PathBuf,
}

/// One request of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine {
    pub method: String,
    /// The request target's path (no query string).
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
}

impl Upstream {
    /// Start an empty registry under `dir` on a free port (it binds `127.0.0.1:0` and logs
    /// the port it got).
    pub fn start(dir: &Path) -> Upstream {
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("config.yml");
        let daemon = Self::spawn(dir, &config, "127.0.0.1:0");
        let mut up = Upstream {
            daemon,
            addr: String::new(),
            dir: dir.to_path_buf(),
            config,
        };
        up.addr = up.wait_listening(0);
        up
    }

    fn spawn(dir: &Path, config: &Path, listen: &str) -> Daemon {
        std::fs::write(config, config_yml(&dir.join("storage"), listen)).unwrap();
        let mut cmd = Command::new("docker-registry");
        cmd.arg("serve").arg(config);
        Daemon::spawn("docker-registry", cmd, &dir.join("docker-registry.log"))
    }

    /// Wait for the `listening on` line after the `skip`-th one (each start logs one).
    fn wait_listening(&mut self, skip: usize) -> String {
        self.daemon.wait_for(Duration::from_secs(30), |log| {
            let line = log
                .lines()
                .filter(|l| l.contains("msg=\"listening on "))
                .nth(skip)?;
            let addr = line.split("listening on ").nth(1)?.split('"').next()?;
            Some(addr.to_string())
        })
    }

    /// `http://127.0.0.1:<port>`: the `url` of an `[[mirror.upstreams]]` entry.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop the registry (SIGTERM): connections to its address are refused from now on.
    pub fn stop(&mut self) {
        self.daemon.stop();
    }

    /// Start it again on the same address with the same storage.
    pub fn start_again(&mut self) {
        self.daemon.stop();
        let starts = self
            .daemon
            .log()
            .lines()
            .filter(|l| l.contains("msg=\"listening on "))
            .count();
        self.daemon = Self::spawn(&self.dir, &self.config, &self.addr);
        let addr = self.wait_listening(starts);
        assert_eq!(addr, self.addr);
    }

    /// Its log so far (application log and access log interleaved).
    pub fn log(&self) -> String {
        self.daemon.log()
    }

    /// Every request in the access log so far.
    pub fn access_log(&self) -> Vec<AccessLine> {
        self.log().lines().filter_map(parse_access_line).collect()
    }

    /// How many `GET /v2/<name>/blobs/<digest>` requests it has answered so far.
    pub fn blob_gets(&self, name: &str, digest: &str) -> usize {
        let path = format!("/v2/{name}/blobs/{digest}");
        self.requests("GET", &path)
    }

    /// How many `method path` requests it has answered so far (any query string).
    pub fn requests(&self, method: &str, path: &str) -> usize {
        self.access_log()
            .iter()
            .filter(|l| l.method == method && l.path == path)
            .count()
    }

    /// Push `image` as `name:tag` (skopeo, digests preserved).
    pub fn push(&self, image: &Image, name: &str, tag: &str) {
        let dest = format!("docker://{}/{name}:{tag}", self.addr);
        let work = self.dir.join(format!("push-{}", &image.digest()[7..19]));
        image.push(&work, &dest, None);
    }
}

/// distribution's configuration: filesystem storage under `root`, deletes allowed (tests
/// re-tag and remove upstream content), the access log on, a fixed HTTP secret (no
/// warning about a generated one).
fn config_yml(root: &Path, listen: &str) -> String {
    format!(
        "version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {}
  delete:
    enabled: true
http:
  addr: {listen}
  secret: pier-integration-test-upstream
",
        root.display()
    )
}

/// One access-log line (`… "GET /v2/… HTTP/1.1" 200 163 …`); `None` for application log
/// lines (`time="…" level=…`).
pub fn parse_access_line(line: &str) -> Option<AccessLine> {
    let (_, rest) = line.split_once("] \"")?;
    let (request, rest) = rest.split_once("\" ")?;
    let mut parts = request.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?;
    parts.next().filter(|p| p.starts_with("HTTP/"))?;
    let status = rest.split(' ').next()?.parse().ok()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    Some(AccessLine {
        method,
        path,
        query,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as distribution 2.8.2 (Debian's docker-registry) writes them.
    #[test]
    fn access_lines_of_distribution_parse() {
        let get = r#"127.0.0.1 - - [04/Dec/2026:01:34:07 +0000] "GET /v2/library/hello/blobs/sha256:3bd8825a0bd9c734ff2d1aaf8a342f6ce9d9510310966dae1a0ea75064dc2ca3?ns=docker.io HTTP/1.1" 200 163 "" "containerd/1.6.20~ds1""#;
        assert_eq!(
            parse_access_line(get),
            Some(AccessLine {
                method: "GET".into(),
                path: "/v2/library/hello/blobs/sha256:3bd8825a0bd9c734ff2d1aaf8a342f6ce9d9510310966dae1a0ea75064dc2ca3".into(),
                query: Some("ns=docker.io".into()),
                status: 200,
            })
        );
        let head = r#"127.0.0.1 - - [04/Dec/2026:01:33:53 +0000] "HEAD /v2/library/hello/manifests/latest HTTP/1.1" 404 96 "" "docker/20.10.24+dfsg1 go/go1.19.8 UpstreamClient(Docker-Client/28.2.2 \\(linux\\))""#;
        let h = parse_access_line(head).unwrap();
        assert_eq!((h.method.as_str(), h.status, h.query), ("HEAD", 404, None));
        let app = r#"time="2026-12-04T01:32:05.299Z" level=info msg="response completed" http.request.method=GET http.request.uri=/v2/ http.response.status=200"#;
        assert_eq!(parse_access_line(app), None);
    }
}
