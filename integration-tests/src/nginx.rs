//! nginx (Debian's package) as the load balancer in front of replicas: its own process,
//! in the foreground, with a generated configuration whose pid file, logs and temporary
//! files are all under one directory, listening on 127.0.0.1 only. Killed when dropped.
//!
//! The configuration is the one docs/operations.md recommends, minus TLS: round-robin
//! `upstream` groups, request and response bodies streamed (`proxy_request_buffering off`,
//! `proxy_buffering off`, no size limit), HTTP/1.1 with keep-alive to the upstreams, and
//! `Host` / `X-Forwarded-*` passed on.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One upstream group and the 127.0.0.1 port nginx serves it on.
pub struct Group {
    /// The `upstream` name (letters and `_`).
    pub name: &'static str,
    pub port: u16,
    /// `127.0.0.1:<port>` of each replica.
    pub servers: Vec<String>,
}

pub struct Nginx {
    child: Child,
    pub dir: PathBuf,
}

/// A port free now on 127.0.0.1 (bound, then released), and never one this process
/// handed out before: two clusters started at once by parallel tests pick their ports
/// before their servers bind them, and the kernel may offer a just-released port again.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

impl Nginx {
    /// Write `dir/nginx.conf` for `groups`, start nginx on it and wait until every port
    /// accepts connections.
    pub fn start(dir: &Path, groups: &[Group]) -> Nginx {
        crate::require_tool("nginx");
        for sub in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            std::fs::create_dir_all(dir.join("temp").join(sub)).expect("nginx temp dir");
        }
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(dir, groups)).expect("write nginx.conf");
        let error_log = dir.join("error.log");
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(&error_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("stderr.log")).expect("nginx stderr"),
            ))
            .spawn()
            .expect("spawn nginx");
        let mut nginx = Nginx {
            child,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        for g in groups {
            while TcpStream::connect(("127.0.0.1", g.port)).is_err() {
                if let Ok(Some(status)) = nginx.child.try_wait() {
                    panic!("nginx exited ({status}):\n{}", nginx.log());
                }
                assert!(
                    Instant::now() < deadline,
                    "nginx does not listen on {}:\n{}",
                    g.port,
                    nginx.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        nginx
    }

    /// The error log and what nginx printed.
    pub fn log(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
        format!("{}{}", read("stderr.log"), read("error.log"))
    }

    /// The access log: one line per request, with the upstream that served it.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    /// SIGTERM, so that the master stops its workers (a SIGKILLed master leaves them
    /// running, orphaned, on their ports); SIGKILL if it has not exited within 5 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The configuration (`daemon off`: the test owns the process).
pub fn config(dir: &Path, groups: &[Group]) -> String {
    let d = dir.display();
    // As root, nginx's workers would switch to `nobody`, who cannot enter the test's
    // private temporary directory.
    let user = if is_root() { "user root;\n" } else { "" };
    let mut http = String::new();
    for g in groups {
        let servers: String = g
            .servers
            .iter()
            .map(|s| format!("        server {s} max_fails=1 fail_timeout=5s;\n"))
            .collect();
        http.push_str(&format!(
            r#"    upstream {name} {{
{servers}        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{name};
        }}
    }}
"#,
            name = g.name,
            port = g.port,
        ));
    }
    format!(
        r#"daemon off;
{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{
    worker_connections 512;
}}
http {{
    log_format upstream '$remote_addr "$request" $status $body_bytes_sent '
                        'upstream=$upstream_addr upstream_status=$upstream_status '
                        '${{request_time}}s';
    access_log {d}/access.log upstream;
    client_body_temp_path {d}/temp/client_body;
    proxy_temp_path {d}/temp/proxy;
    fastcgi_temp_path {d}/temp/fastcgi;
    uwsgi_temp_path {d}/temp/uwsgi;
    scgi_temp_path {d}/temp/scgi;

    # Blobs of any size, streamed both ways: nothing is spooled to disk or held whole.
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    # Unbuffered bodies are copied through these; nginx's defaults (4k/8k, 16k) cost
    # about three quarters of a 1 MiB pull's throughput (docs/operations.md).
    proxy_buffer_size 256k;
    proxy_buffers 4 256k;
    proxy_busy_buffers_size 256k;
    client_body_buffer_size 256k;
    proxy_set_header Connection "";
    proxy_read_timeout 900s;
    proxy_send_timeout 900s;
    proxy_set_header Host $http_host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Host $http_host;

{http}}}
"#
    )
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}
