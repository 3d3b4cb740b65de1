//! The resolver: serves the pair it loaded, swaps in a changed pair, keeps the old one
//! when the new files are bad.

use super::*;

struct Pair {
    cert: String,
    key: String,
}

fn pair(name: &str) -> Pair {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    Pair {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn write(dir: &Path, p: &Pair) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, &p.cert).unwrap();
    std::fs::write(&k, &p.key).unwrap();
    (c, k)
}

fn der(p: &Pair) -> Vec<u8> {
    let c = rustls_pemfile::certs(&mut p.cert.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    c.as_ref().to_vec()
}

fn served(r: &ReloadingCert) -> Vec<u8> {
    r.current().cert[0].as_ref().to_vec()
}

#[test]
fn a_changed_pair_is_served_after_a_check() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (pair("a.test"), pair("b.test"));
    let (c, k) = write(dir.path(), &a);
    let r = ReloadingCert::load(&c, &k).unwrap();
    assert_eq!(served(&r), der(&a));
    assert_eq!(r.check(), Reload::Unchanged);
    write(dir.path(), &b);
    assert_eq!(r.check(), Reload::Reloaded);
    assert_eq!(served(&r), der(&b));
    assert_eq!(r.check(), Reload::Unchanged);
}

#[test]
fn a_bad_pair_is_refused_once_and_the_old_one_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (pair("a.test"), pair("b.test"));
    let (c, k) = write(dir.path(), &a);
    let r = ReloadingCert::load(&c, &k).unwrap();

    // B's certificate with A's key: the key does not match.
    std::fs::write(&c, &b.cert).unwrap();
    match r.check() {
        Reload::Refused(e) => assert!(e.contains("cert.pem"), "{e}"),
        other => panic!("a mismatched pair was not refused: {other:?}"),
    }
    assert_eq!(served(&r), der(&a));
    // The same bad files are not reported again.
    assert_eq!(r.check(), Reload::Unchanged);

    // Garbage, then a missing key file: still A.
    std::fs::write(&c, "not a certificate").unwrap();
    assert!(matches!(r.check(), Reload::Refused(_)));
    std::fs::remove_file(&k).unwrap();
    assert!(matches!(r.check(), Reload::Refused(_)));
    assert_eq!(served(&r), der(&a));

    // The key arrives: B as a whole is served.
    write(dir.path(), &b);
    assert_eq!(r.check(), Reload::Reloaded);
    assert_eq!(served(&r), der(&b));
}

#[test]
fn errors_name_the_file_never_its_contents() {
    let dir = tempfile::tempdir().unwrap();
    let a = pair("a.test");
    let (c, k) = write(dir.path(), &a);
    std::fs::write(
        &k,
        "-----BEGIN PRIVATE KEY-----\nAAAA-secret\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let e = ReloadingCert::load(&c, &k).unwrap_err();
    assert!(e.contains("key.pem"), "{e}");
    assert!(!e.contains("AAAA"), "{e}");
    write(
        dir.path(),
        &Pair {
            cert: String::new(),
            key: a.key.clone(),
        },
    );
    let e = ReloadingCert::load(&c, &k).unwrap_err();
    assert!(e.contains("no certificate"), "{e}");
}

#[test]
fn the_background_check_swaps_the_served_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (pair("a.test"), pair("b.test"));
    let (c, k) = write(dir.path(), &a);
    let r = ReloadingCert::load(&c, &k).unwrap();
    spawn_reload(Arc::clone(&r), Duration::from_millis(20)).unwrap();
    write(dir.path(), &b);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while served(&r) != der(&b) {
        assert!(std::time::Instant::now() < deadline, "never reloaded");
        std::thread::sleep(Duration::from_millis(10));
    }
}
