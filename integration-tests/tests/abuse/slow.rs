//! Slow clients: a slowloris connection and a stalled request body are cut off within
//! their timeouts, and while more stalled uploads hang than the registry has workers ×
//! database connections, a whole push of a blob still goes through at once.

use crate::figure;
use crate::raw::{self, connect, read_to_close, request, stalled_patch, start_upload};
use pier_integration_tests::pier::index_env;
use pier_integration_tests::{sha256, Registry, Service};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const HEADER_TIMEOUT: u64 = 2;
const IDLE_TIMEOUT: u64 = 2;

fn registry(dir: &std::path::Path, idle: u64) -> Service {
    Registry::start_with(
        dir,
        &[
            ("PIER_REGISTRY_HTTP_WORKERS", "1"),
            ("PIER_REGISTRY_DATABASE_POOL_SIZE", "2"),
            (
                "PIER_REGISTRY_HTTP_HEADER_TIMEOUT_SECONDS",
                &HEADER_TIMEOUT.to_string(),
            ),
            (
                "PIER_REGISTRY_HTTP_BODY_IDLE_TIMEOUT_SECONDS",
                &idle.to_string(),
            ),
        ],
    )
}

fn index(dir: &std::path::Path) -> Service {
    let data = dir.join("index");
    let db = pier_shared::testing::database_url(&data, "index.db");
    let mut env = index_env(&data, &db);
    for (k, v) in [
        ("PIER_INDEX_HTTP_WORKERS", "1"),
        ("PIER_INDEX_HTTP_HEADER_TIMEOUT_SECONDS", "2"),
        ("PIER_INDEX_HTTP_BODY_IDLE_TIMEOUT_SECONDS", "2"),
    ] {
        env.push((k.into(), v.into()));
    }
    Service::start("pier-index", &data, &env)
}

/// Open a request and send one more header line every 300 ms, never the blank line; how
/// long until the server closes the connection.
fn slowloris(addr: &str) -> Duration {
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let start = Instant::now();
    let _ = s.write_all(format!("GET /v2/ HTTP/1.1\r\nHost: {addr}\r\n").as_bytes());
    let mut buf = [0u8; 1024];
    while start.elapsed() < Duration::from_secs(60) {
        match s.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {} // a 408 before the close
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return start.elapsed(),
        }
        if s.write_all(b"X-Dribble: 1\r\n").is_err() {
            return start.elapsed();
        }
    }
    panic!("a slowloris connection to {addr} was still open after 60 s");
}

#[test]
fn slowloris_is_cut_off_by_both_services() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path(), IDLE_TIMEOUT);
    let idx = index(tmp.path());
    for (name, addr) in [("registry", &reg.addr), ("index", &idx.addr)] {
        let took = slowloris(addr);
        figure(
            &format!("slowloris_cut_off_seconds.{name}"),
            format!("{:.1}", took.as_secs_f64()),
        );
        assert!(
            took < Duration::from_secs(HEADER_TIMEOUT + 3),
            "{name}: slowloris lasted {took:?} with a {HEADER_TIMEOUT}s header timeout"
        );
        // And the service still answers.
        assert_eq!(request(addr, "GET", "/healthz", &[], b"").status, 200);
    }
}

fn status_of_first_response(s: &mut TcpStream) -> (u16, Duration) {
    let (text, took) = read_to_close(s, Instant::now());
    (raw::parse(&text).status, took)
}

#[test]
fn a_stalled_upload_is_abandoned_and_stays_resumable() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path(), IDLE_TIMEOUT);
    let at = start_upload(&reg.addr, "stall/app");
    let mut s = stalled_patch(&reg.addr, &at, 1000, 10);
    let (status, took) = status_of_first_response(&mut s);
    figure(
        "stalled_upload_cut_off_seconds",
        format!("{:.1}", took.as_secs_f64()),
    );
    assert_eq!(
        status, 400,
        "the stalled PATCH ends with BLOB_UPLOAD_INVALID"
    );
    assert!(
        took < Duration::from_secs(IDLE_TIMEOUT + 3),
        "took {took:?}"
    );
    assert!(reg.log().contains("request body idle"), "{}", reg.log());
    // The session is still there, nothing of the abandoned chunk in it; it can go on.
    let r = request(&reg.addr, "GET", &at, &[], b"");
    assert_eq!(r.status, 204, "{}", r.body);
    let data = b"the whole blob";
    let put = format!(
        "{at}{}digest={}",
        if at.contains('?') { '&' } else { '?' },
        sha256(data)
    );
    let r = request(
        &reg.addr,
        "PUT",
        &put,
        &[("Content-Type", "application/octet-stream")],
        data,
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn a_stalled_token_form_is_abandoned_by_the_index() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = index(tmp.path());
    let mut s = connect(&idx.addr);
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 200\r\n\r\ngrant_type=pass",
        idx.addr
    );
    s.write_all(head.as_bytes()).unwrap();
    let (status, took) = status_of_first_response(&mut s);
    figure(
        "stalled_token_form_cut_off_seconds",
        format!("{:.1}", took.as_secs_f64()),
    );
    assert_eq!(status, 400);
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn stalled_uploads_hold_no_worker_and_no_database_connection() {
    let tmp = tempfile::tempdir().unwrap();
    // One worker, two database connections, ten stalled uploads; a long idle timeout so
    // that the normal push below cannot be waiting for them to be cut off.
    let idle = 20;
    let reg = registry(tmp.path(), idle);
    let stalls_began = Instant::now();
    let stalled: Vec<TcpStream> = (0..10)
        .map(|i| {
            let at = start_upload(&reg.addr, &format!("stall/app{i}"));
            stalled_patch(&reg.addr, &at, 1 << 20, 1024)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    let at = start_upload(&reg.addr, "normal/app");
    let data = b"a blob pushed while ten uploads stall";
    let put = format!(
        "{at}{}digest={}",
        if at.contains('?') { '&' } else { '?' },
        sha256(data)
    );
    let r = request(&reg.addr, "PUT", &put, &[], data);
    assert_eq!(r.status, 201, "{}", r.body);
    let r = request(
        &reg.addr,
        "HEAD",
        &format!("/v2/normal/app/blobs/{}", sha256(data)),
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    let took = start.elapsed();
    figure(
        "push_while_10_uploads_stall_seconds",
        format!("{:.2}", took.as_secs_f64()),
    );
    assert!(
        took < Duration::from_secs(idle / 2),
        "a normal push took {took:?}"
    );
    // Then every stalled upload is cut off.
    for mut s in stalled {
        let (text, _) = read_to_close(&mut s, stalls_began);
        assert_eq!(raw::parse(&text).status, 400, "{text}");
    }
    let all = stalls_began.elapsed();
    figure(
        "ten_stalled_uploads_all_cut_off_seconds",
        format!("{:.1}", all.as_secs_f64()),
    );
    assert!(all < Duration::from_secs(idle + 5));
}
