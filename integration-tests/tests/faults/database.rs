//! The database goes away (PostgreSQL: the connection is cut by a proxy, then restored)
//! or is locked by another process (SQLite): 503, and recovery without a restart.

use super::*;
use pier_integration_tests::pier::{cli, index_env, ADMIN_PASSWORD};
use pier_integration_tests::proxy::CutProxy;
use pier_integration_tests::{basic_auth, Registry, Service};
use std::time::{Duration, Instant};

/// A fresh PostgreSQL database (required: run-tests.sh starts a server), and the same URL
/// with its `host:port` replaced by a cut proxy's.
fn proxied_database() -> (CutProxy, String) {
    assert!(
        std::env::var("PIER_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()),
        "the database fault tests need PostgreSQL: set PIER_TEST_POSTGRES_URL \
         (integration-tests/tools/postgres.sh start DIR prints it; run-tests.sh does this)"
    );
    let url = pier_shared::testing::fresh_postgres_database();
    let (scheme_user, rest) = url.rsplit_once('@').expect("user@host in the URL");
    let (host_port, db) = rest.split_once('/').expect("/database in the URL");
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(host_port)
        .expect("PostgreSQL address")
        .next()
        .expect("an address");
    let proxy = CutProxy::start(upstream);
    let via = format!("{scheme_user}@{}/{db}", proxy.addr);
    (proxy, via)
}

/// How long a request took and what it answered.
fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let out = f();
    (t.elapsed(), out)
}

/// The registry's pool waits `connection_timeout` (10 s) for a connection before it gives
/// up: a refusal must come within that and some slack, never hang.
const WITHIN: Duration = Duration::from_secs(20);

#[test]
fn registry_postgres_cut_is_503_then_recovers() {
    let (proxy, url) = proxied_database();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("registry");
    let registry = Registry::start_with(&data, &[("PIER_REGISTRY_DATABASE_URL", &url)]);
    let mut c = Client::new(&registry.url(""), None);
    let layer = b"stored before the database went away".to_vec();
    push_image(&mut c, "app", "v1", &layer).unwrap_or_else(|r| panic!("push: {}", r.status));

    proxy.cut();
    let (took, r) = timed(|| get(&mut c, "app", "/v2/app/manifests/v1").unwrap());
    assert_eq!(
        (r.status, oci_code(&r)),
        (503, "UNAVAILABLE".into()),
        "read"
    );
    assert!(took < WITHIN, "the read was refused after {took:?}");
    println!("figure: registry, PostgreSQL cut: read refused (503) after {took:?}");
    let (took, r) = timed(|| put_manifest(&mut c, "app", "v2", &image_manifest(&layer)).unwrap());
    assert_eq!(
        (r.status, oci_code(&r)),
        (503, "UNAVAILABLE".into()),
        "write"
    );
    assert!(took < WITHIN, "the write was refused after {took:?}");
    println!("figure: registry, PostgreSQL cut: write refused (503) after {took:?}");
    let ready = ureq::get(&registry.url("/readyz")).call();
    assert!(
        matches!(ready, Err(ureq::Error::Status(503, _))),
        "/readyz tells the load balancer"
    );

    proxy.restore();
    let (took, back) = timed(|| {
        eventually(20, || {
            get(&mut c, "app", "/v2/app/manifests/v1").is_ok_and(|r| r.status == 200)
        })
    });
    assert!(back, "reads work again; log:\n{}", registry.log());
    println!("figure: registry, PostgreSQL restored: serving again after {took:?}");
    let layer2 = b"stored after the database came back".to_vec();
    push_image(&mut c, "app", "v2", &layer2).unwrap_or_else(|r| panic!("push: {}", r.status));
    assert_image_intact(&mut c, "app", "v1", &layer);
    assert_image_intact(&mut c, "app", "v2", &layer2);
}

#[test]
fn index_postgres_cut_is_503_then_recovers() {
    let (proxy, url) = proxied_database();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("index");
    let env = index_env(&data, &url);
    let index = Service::start("pier-index", &data, &env);
    // The status of a token request (0: no answer).
    let token = |index: &Service| -> u16 {
        match ureq::get(&index.url("/token?service=pier-registry&scope=repository:admin/x:pull"))
            .set("Authorization", &basic_auth("admin", ADMIN_PASSWORD))
            .call()
        {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(s, _)) => s,
            Err(_) => 0,
        }
    };
    assert_eq!(token(&index), 200, "a token while the database answers");

    proxy.cut();
    let (took, status) = timed(|| token(&index));
    assert_eq!(status, 503, "a token with the database cut");
    assert!(took < WITHIN, "refused after {took:?}");
    println!("figure: index, PostgreSQL cut: token refused (503) after {took:?}");

    proxy.restore();
    let (took, back) = timed(|| eventually(20, || token(&index) == 200));
    assert!(back, "tokens again; log:\n{}", index.log());
    println!("figure: index, PostgreSQL restored: tokens again after {took:?}");
    // The CLI works on the same database again too.
    cli(
        "pier-index",
        &env,
        &["user", "add", "bob", "--password-stdin"],
        Some("bob-password"),
    );
}

#[test]
fn sqlite_locked_by_another_process_is_503_for_writes_then_recovers() {
    use diesel::{Connection, SqliteConnection};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("registry");
    let file = data.join("locked.db");
    let url = format!("sqlite://{}", file.display());
    let registry = Registry::start_with(&data, &[("PIER_REGISTRY_DATABASE_URL", &url)]);
    let mut c = Client::new(&registry.url(""), None);
    let layer = b"stored before the lock".to_vec();
    push_image(&mut c, "app", "v1", &layer).unwrap_or_else(|r| panic!("push: {}", r.status));

    // Another process (here: this test) takes SQLite's write lock and keeps it.
    let mut other = SqliteConnection::establish(file.to_str().unwrap()).unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut other, "BEGIN EXCLUSIVE").unwrap();

    // WAL mode: readers are not blocked by a writer.
    assert_image_intact(&mut c, "app", "v1", &layer);
    // Writers wait the busy timeout (10 s), then give up with a 503.
    let (took, r) = timed(|| put_manifest(&mut c, "app", "v2", &image_manifest(&layer)).unwrap());
    assert_eq!(
        (r.status, oci_code(&r)),
        (503, "UNAVAILABLE".into()),
        "write"
    );
    assert!(took < WITHIN, "the write was refused after {took:?}");
    println!("figure: registry, SQLite locked: write refused (503) after {took:?}");

    diesel::connection::SimpleConnection::batch_execute(&mut other, "ROLLBACK").unwrap();
    drop(other);
    let r = put_manifest(&mut c, "app", "v2", &image_manifest(&layer)).unwrap();
    assert_eq!(r.status, 201, "writes work once the lock is gone");
    assert_image_intact(&mut c, "app", "v2", &layer);
}
