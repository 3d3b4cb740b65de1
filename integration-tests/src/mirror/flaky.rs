//! An HTTP proxy on 127.0.0.1 in front of an upstream registry, switchable at run time
//! between passing requests through (at full speed, or with answers throttled to a rate),
//! answering every request `429 Too Many Requests` (with
//! `Retry-After`, as Docker Hub's pull limit does) or `503 Service Unavailable` itself, and
//! refusing connections (its listening socket closed). It counts requests per method and
//! path, whatever it answered.
//!
//! Each connection carries one request: the proxy reads the request head, decides, and in
//! pass-through rewrites `Connection` to `close` before copying bytes both ways until the
//! upstream closes. The client sees `Connection: close` in the answer and opens a new
//! connection for its next request, so that every request is seen and counted without
//! the proxy parsing message bodies.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does with the next request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Pass,
    /// Pass through, each answer's bytes sent at most this fast (an upstream slower than
    /// the mirror's clients: what a client receives before the upstream has finished).
    Slow {
        bytes_per_second: u64,
    },
    /// 429 with `Retry-After: <seconds>` and an OCI `TOOMANYREQUESTS` error body.
    TooManyRequests {
        retry_after: u32,
    },
    /// 503 with an OCI `UNAVAILABLE` error body.
    Unavailable,
    /// The port is closed: connections are refused, live ones are cut.
    Down,
}

pub struct FlakyProxy {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Mutex<Option<Acceptor>>,
}

#[derive(Default)]
struct Shared {
    mode: Mutex<Option<Mode>>,
    counts: Mutex<BTreeMap<(String, String), usize>>,
    /// Both ends of each pass-through connection in progress, by a serial number.
    live: Mutex<BTreeMap<u64, [TcpStream; 2]>>,
    serial: std::sync::atomic::AtomicU64,
}

impl Shared {
    fn mode(&self) -> Mode {
        lock(&self.mode).unwrap_or(Mode::Pass)
    }
}

/// The accepting thread and its stop flag; dropping the listener (thread end) closes the port.
struct Acceptor {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FlakyProxy {
    /// Pass requests through to `upstream` from a free 127.0.0.1 port.
    pub fn start(upstream: SocketAddr) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind flaky proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared::default());
        let acceptor = accept(listener, upstream, Arc::clone(&shared));
        FlakyProxy {
            addr,
            upstream,
            shared,
            acceptor: Mutex::new(Some(acceptor)),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switch to `mode`; when this returns, new connections get it (`Down`: the port is
    /// closed; leaving `Down` binds the same port again).
    pub fn set(&self, mode: Mode) {
        *lock(&self.shared.mode) = Some(mode);
        let mut acceptor = lock(&self.acceptor);
        match (mode, acceptor.is_some()) {
            (Mode::Down, true) => {
                if let Some(a) = acceptor.take() {
                    a.stop.store(true, Ordering::Relaxed);
                    let _ = a.thread.join();
                }
                for s in std::mem::take(&mut *lock(&self.shared.live))
                    .values()
                    .flatten()
                {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
            (Mode::Down, false) | (_, true) => {}
            (_, false) => {
                let listener = TcpListener::bind(self.addr)
                    .unwrap_or_else(|e| panic!("bind {} again: {e}", self.addr));
                *acceptor = Some(accept(listener, self.upstream, Arc::clone(&self.shared)));
            }
        }
    }

    pub fn mode(&self) -> Mode {
        self.shared.mode()
    }

    /// How many `method path` requests arrived (path without query string).
    pub fn count(&self, method: &str, path: &str) -> usize {
        lock(&self.shared.counts)
            .get(&(method.to_string(), path.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Every (method, path) seen, with its count.
    pub fn requests(&self) -> BTreeMap<(String, String), usize> {
        lock(&self.shared.counts).clone()
    }

    /// Requests seen in all.
    pub fn total(&self) -> usize {
        lock(&self.shared.counts).values().sum()
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.set(Mode::Down);
    }
}

fn accept(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) -> Acceptor {
    listener.set_nonblocking(true).expect("nonblocking");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((client, _)) => {
                    let shared = Arc::clone(&shared);
                    std::thread::spawn(move || serve(client, upstream, &shared));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    Acceptor { stop, thread }
}

/// A request head: its lines and whatever of the body came with it.
struct Head {
    method: String,
    target: String,
    lines: Vec<String>,
    rest: Vec<u8>,
}

/// Read up to the blank line ending the head (at most 64 KiB).
fn read_head(stream: &mut TcpStream) -> Option<Head> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    let mut first = lines.first()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    Some(Head {
        method,
        target,
        lines,
        rest: buf[end + 4..].to_vec(),
    })
}

fn serve(mut client: TcpStream, upstream: SocketAddr, shared: &Shared) {
    let _ = client.set_nonblocking(false);
    let Some(head) = read_head(&mut client) else {
        return;
    };
    let path = head
        .target
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    *lock(&shared.counts)
        .entry((head.method.clone(), path))
        .or_default() += 1;
    match shared.mode() {
        Mode::Pass => pass(client, upstream, head, shared, None),
        Mode::Slow { bytes_per_second } => {
            pass(client, upstream, head, shared, Some(bytes_per_second))
        }
        Mode::TooManyRequests { retry_after } => answer(
            client,
            &head,
            "429 Too Many Requests",
            &format!("Retry-After: {retry_after}\r\n"),
            r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"pull rate limit exceeded (test proxy)"}]}"#,
        ),
        Mode::Unavailable => answer(
            client,
            &head,
            "503 Service Unavailable",
            "",
            r#"{"errors":[{"code":"UNAVAILABLE","message":"service unavailable (test proxy)"}]}"#,
        ),
        // Switched while this connection was being accepted: as if the port had closed.
        Mode::Down => {
            let _ = client.shutdown(Shutdown::Both);
        }
    }
}

/// Answer the request itself and close the connection.
fn answer(mut client: TcpStream, head: &Head, status: &str, extra: &str, body: &str) {
    let body = if head.method == "HEAD" { "" } else { body };
    let reply = format!(
        "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\nDocker-Distribution-Api-Version: registry/2.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        if head.method == "HEAD" { 0 } else { body.len() }
    );
    let _ = client.write_all(reply.as_bytes());
    let _ = client.flush();
    // Let a request body the client is still sending be read off, so that closing does
    // not turn the answer into a reset.
    let _ = client.shutdown(Shutdown::Write);
    let _ = client.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 4096];
    while matches!(client.read(&mut sink), Ok(n) if n > 0) {}
}

/// Forward the request with `Connection: close` and copy both ways until the upstream
/// has answered and closed.
fn pass(
    mut client: TcpStream,
    upstream: SocketAddr,
    head: Head,
    shared: &Shared,
    rate: Option<u64>,
) {
    let Ok(mut server) = TcpStream::connect(upstream) else {
        let _ = client.write_all(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    };
    let id = shared.serial.fetch_add(1, Ordering::Relaxed);
    if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
        lock(&shared.live).insert(id, [c, s]);
    }
    let mut out = String::new();
    for (i, line) in head.lines.iter().enumerate() {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if i > 0
            && matches!(
                name.as_str(),
                "connection" | "keep-alive" | "proxy-connection"
            )
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let sent = server.write_all(out.as_bytes()).is_ok() && server.write_all(&head.rest).is_ok();
    if sent {
        // The rest of the request body, on its own thread.
        if let (Ok(mut from), Ok(mut to)) = (client.try_clone(), server.try_clone()) {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from, &mut to);
            });
        }
        match rate {
            None => {
                let _ = std::io::copy(&mut server, &mut client);
            }
            Some(r) => copy_throttled(&mut server, &mut client, r),
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
    lock(&shared.live).remove(&id);
}

/// Copy `from` to `to` at most `bytes_per_second` (16 KiB at a time, each sent when the
/// rate allows it).
fn copy_throttled(from: &mut TcpStream, to: &mut TcpStream, bytes_per_second: u64) {
    let start = std::time::Instant::now();
    let mut sent = 0u64;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let due =
            Duration::from_secs_f64((sent + n as u64) as f64 / bytes_per_second.max(1) as f64);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        if to.write_all(&buf[..n]).is_err() {
            return;
        }
        sent += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-request-per-connection HTTP server answering `200 <method> <path> <body length>`,
    /// or `<n>` bytes for `/big/<n>`.
    fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut s in listener.incoming().map_while(Result::ok) {
                std::thread::spawn(move || {
                    let Some(head) = read_head(&mut s) else {
                        return;
                    };
                    let len: usize = head
                        .lines
                        .iter()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    let mut body = head.rest.clone();
                    while body.len() < len {
                        let mut chunk = [0u8; 4096];
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => body.extend_from_slice(&chunk[..n]),
                        }
                    }
                    if let Some(n) = head.target.strip_prefix("/big/") {
                        let n: usize = n.parse().unwrap();
                        let _ = write!(
                            s,
                            "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n"
                        );
                        let _ = s.write_all(&vec![b'x'; n]);
                        return;
                    }
                    let closes = head
                        .lines
                        .iter()
                        .any(|l| l.eq_ignore_ascii_case("connection: close"));
                    let text = format!(
                        "{} {} {} close={closes}",
                        head.method,
                        head.target,
                        body.len()
                    );
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                });
            }
        });
        addr
    }

    fn agent() -> ureq::Agent {
        ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            .build()
    }

    fn status(r: Result<ureq::Response, ureq::Error>) -> (u16, Option<String>, String) {
        match r {
            Ok(r) | Err(ureq::Error::Status(_, r)) => {
                let retry = r.header("retry-after").map(str::to_string);
                (r.status(), retry, r.into_string().unwrap())
            }
            Err(e) => panic!("transport error: {e}"),
        }
    }

    #[test]
    fn passes_through_and_counts() {
        let proxy = FlakyProxy::start(echo_server());
        let a = agent();
        let (code, _, body) = status(
            a.get(&format!("{}/v2/x/manifests/1?ns=docker.io", proxy.url()))
                .call(),
        );
        assert_eq!(code, 200);
        assert_eq!(body, "GET /v2/x/manifests/1?ns=docker.io 0 close=true");
        let data = vec![7u8; 300_000];
        let (code, _, body) = status(
            a.post(&format!("{}/v2/x/blobs/uploads/", proxy.url()))
                .send_bytes(&data),
        );
        assert_eq!(code, 200);
        assert_eq!(body, "POST /v2/x/blobs/uploads/ 300000 close=true");
        status(a.get(&format!("{}/v2/x/manifests/1", proxy.url())).call());
        assert_eq!(proxy.count("GET", "/v2/x/manifests/1"), 2);
        assert_eq!(proxy.count("POST", "/v2/x/blobs/uploads/"), 1);
        assert_eq!(proxy.total(), 3);
    }

    #[test]
    fn answers_429_and_503_itself() {
        let proxy = FlakyProxy::start(echo_server());
        let a = agent();
        let url = format!("{}/v2/x/manifests/latest", proxy.url());
        proxy.set(Mode::TooManyRequests { retry_after: 7 });
        let (code, retry, body) = status(a.get(&url).call());
        assert_eq!((code, retry.as_deref()), (429, Some("7")));
        assert!(body.contains("TOOMANYREQUESTS"), "{body}");
        let (code, retry, _) = status(a.head(&url).call());
        assert_eq!((code, retry.as_deref()), (429, Some("7")));
        proxy.set(Mode::Unavailable);
        let (code, _, body) = status(a.get(&url).call());
        assert_eq!(code, 503);
        assert!(body.contains("UNAVAILABLE"), "{body}");
        proxy.set(Mode::Pass);
        assert_eq!(status(a.get(&url).call()).0, 200);
        assert_eq!(proxy.count("GET", "/v2/x/manifests/latest"), 3);
        assert_eq!(proxy.count("HEAD", "/v2/x/manifests/latest"), 1);
    }

    #[test]
    fn slow_throttles_answers() {
        let proxy = FlakyProxy::start(echo_server());
        proxy.set(Mode::Slow {
            bytes_per_second: 400_000,
        });
        let t = std::time::Instant::now();
        let (code, _, body) = status(agent().get(&format!("{}/big/200000", proxy.url())).call());
        let took = t.elapsed();
        assert_eq!((code, body.len()), (200, 200_000));
        assert!(
            took >= Duration::from_millis(450),
            "200 kB at 400 kB/s in {took:?}"
        );
        proxy.set(Mode::Pass);
        let t = std::time::Instant::now();
        status(agent().get(&format!("{}/big/200000", proxy.url())).call());
        assert!(
            t.elapsed() < Duration::from_millis(450),
            "Pass still throttled"
        );
    }

    #[test]
    fn down_refuses_connections_until_switched_back() {
        let proxy = FlakyProxy::start(echo_server());
        proxy.set(Mode::Down);
        let refused = TcpStream::connect(proxy.addr).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        proxy.set(Mode::Down);
        proxy.set(Mode::Unavailable);
        let a = agent();
        let url = format!("{}/v2/", proxy.url());
        assert_eq!(status(a.get(&url).call()).0, 503);
        proxy.set(Mode::Pass);
        assert_eq!(status(a.get(&url).call()).0, 200);
        assert_eq!(proxy.count("GET", "/v2/"), 2);
    }
}
