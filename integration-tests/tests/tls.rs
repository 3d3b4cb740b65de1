//! HTTPS with rustls: both services serve TLS from a PEM certificate and key (as registry:2
//! does with REGISTRY_HTTP_TLS_CERTIFICATE / REGISTRY_HTTP_TLS_KEY), reload them when the
//! files change, and clients trust them through a CA given as `--cert-dir` (skopeo) or
//! `/etc/docker/certs.d/<host:port>/ca.crt` (docker). The web UI over HTTPS sends HSTS and
//! `Secure` cookies.

use pier_integration_tests::docker::{import_image, CertsD, Docker};
use pier_integration_tests::pier::{index_env, ADMIN_PASSWORD};
use pier_integration_tests::tls::{agent, handshake_verifies, Ca, ServerCert};
use pier_integration_tests::{
    require_tool, run, run_ok, ui, OciLayout, Pier, Platform, Registry, Service,
};
use std::path::Path;
use std::time::{Duration, Instant};

/// `binary` serving TLS from `cert`/`key`, checking them every second.
fn start_tls(
    binary: &str,
    data: &Path,
    cert: &Path,
    key: &Path,
    extra: &[(&str, &str)],
) -> Service {
    let (prefix, mut env) = if binary == "pier-index" {
        let db = pier_shared::testing::database_url(data, "index.db");
        ("PIER_INDEX", index_env(data, &db))
    } else {
        ("PIER_REGISTRY", Registry::env(data, &[]))
    };
    for (k, v) in [
        ("HTTP_TLS_CERTIFICATE", cert.to_str().unwrap()),
        ("HTTP_TLS_KEY", key.to_str().unwrap()),
        ("HTTP_TLS_RELOAD_SECONDS", "1"),
    ] {
        env.push((format!("{prefix}_{k}"), v.to_string()));
    }
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Service::start(binary, data, &env)
}

fn install(pair: &ServerCert, cert: &Path, key: &Path) {
    // Key first, then certificate: between the two the files do not match, as in a
    // deploy that copies them one by one; that moment must not break anything.
    std::fs::copy(&pair.key, key).unwrap();
    std::fs::copy(&pair.cert, cert).unwrap();
}

fn reload_without_restart(binary: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let a = Ca::new(&tmp.path().join("ca-a"), "Pier test CA A").issue("server");
    let b = Ca::new(&tmp.path().join("ca-b"), "Pier test CA B").issue("server");
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    install(&a, &cert, &key);
    let svc = start_tls(binary, &tmp.path().join("data"), &cert, &key, &[]);
    assert!(
        handshake_verifies(&svc.addr, &a.ca),
        "{binary} does not serve A"
    );
    assert!(
        !handshake_verifies(&svc.addr, &b.ca),
        "CA B trusted for A's certificate"
    );

    let t0 = Instant::now();
    install(&b, &cert, &key);
    while !handshake_verifies(&svc.addr, &b.ca) {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{binary} never served B:\n{}",
            svc.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "FIGURE {binary}: certificate B served {:?} after the files changed (reload every 1 s)",
        t0.elapsed()
    );
    assert!(
        !handshake_verifies(&svc.addr, &a.ca),
        "{binary} still serves A"
    );
    assert!(
        svc.log().contains("TLS: reloaded certificate"),
        "{}",
        svc.log()
    );

    // A broken certificate file: logged, B kept.
    std::fs::write(
        &cert,
        "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let t0 = Instant::now();
    while !svc.log().contains("still serving the previous certificate") {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "bad file not reported:\n{}",
            svc.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        handshake_verifies(&svc.addr, &b.ca),
        "{binary} dropped B for a bad file"
    );
    let started = format!("{binary} listening on");
    assert_eq!(svc.log().matches(&started).count(), 1, "restarted?");
}

#[test]
fn registry_reloads_its_certificate_without_a_restart() {
    reload_without_restart("pier-registry");
}

#[test]
fn index_reloads_its_certificate_without_a_restart() {
    reload_without_restart("pier-index");
}

#[test]
fn skopeo_and_docker_trust_the_registry_through_its_ca() {
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::new(&tmp.path().join("ca"), "Pier test CA");
    let server = ca.issue("server");
    let pier = Pier::start_tls(&tmp.path().join("pier"), 0, &server, &[], &[]);
    pier.add_user("tess", "tess-password");
    // --cert-dir takes a directory of *.crt files (the CA), like certs.d.
    let cert_dir = tmp.path().join("cert-dir");
    std::fs::create_dir_all(&cert_dir).unwrap();
    std::fs::copy(&ca.cert, cert_dir.join("ca.crt")).unwrap();
    let cert_dir = cert_dir.to_str().unwrap();

    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(
        3,
        &[20_000],
        Platform {
            os: "linux",
            architecture: "amd64",
        },
    );
    src.tag("v1", &image);
    let from = format!("oci:{}:v1", src.dir.display());
    let dest = format!("docker://{}/tess/app:v1", pier.registry.addr);
    let creds = "tess:tess-password";

    // Verification on and no CA: refused.
    let untrusted = run(
        "skopeo",
        &[
            "copy",
            "--dest-tls-verify=true",
            "--dest-creds",
            creds,
            &from,
            &dest,
        ],
    );
    assert!(!untrusted.status.success(), "skopeo trusted an unknown CA");
    let err = String::from_utf8_lossy(&untrusted.stderr);
    assert!(err.contains("certificate") || err.contains("x509"), "{err}");
    let inspect = run(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--tls-verify=true",
            "--creds",
            creds,
            &dest,
        ],
    );
    assert!(!inspect.status.success());

    // With the CA: push and pull (the token comes from the index, over TLS too).
    run_ok(
        "skopeo",
        &[
            "copy",
            "--preserve-digests",
            "--dest-cert-dir",
            cert_dir,
            "--dest-creds",
            creds,
            &from,
            &dest,
        ],
    );
    let raw = run_ok(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--cert-dir",
            cert_dir,
            "--creds",
            creds,
            &dest,
        ],
    );
    assert_eq!(
        pier_integration_tests::sha256(raw.as_bytes()),
        image["digest"].as_str().unwrap()
    );
    let out = tmp.path().join("pulled");
    run_ok(
        "skopeo",
        &[
            "copy",
            "--src-cert-dir",
            cert_dir,
            "--src-creds",
            creds,
            &dest,
            &format!("dir:{}", out.display()),
        ],
    );
    assert!(out.join("manifest.json").exists());

    if !pier_integration_tests::docker_engine_available() {
        return;
    }
    let _certs = CertsD::install(&ca.cert, &[&pier.registry.addr, &pier.index.addr]);
    let docker = Docker::new(&tmp.path().join("docker-config"));
    let tag = format!("{}/tess/docker:{}", pier.registry.addr, std::process::id());
    import_image(tmp.path(), &tag);
    let id = docker.ok(&["image", "inspect", "--format", "{{.Id}}", &tag], None);
    let login = docker.run(
        &[
            "login",
            &pier.registry.addr,
            "-u",
            "tess",
            "--password-stdin",
        ],
        Some("tess-password"),
    );
    let push = docker.run(&["push", &tag], None);
    let rmi = docker.run(&["rmi", "-f", &tag], None);
    let pull = docker.run(&["pull", &tag], None);
    let pulled = docker.run(&["image", "inspect", "--format", "{{.Id}}", &tag], None);
    let _ = docker.run(&["logout", &pier.registry.addr], None);
    let _ = docker.run(&["rmi", "-f", &tag], None);
    for (what, o) in [
        ("login", &login),
        ("push", &push),
        ("rmi", &rmi),
        ("pull", &pull),
    ] {
        assert!(
            o.status.success(),
            "docker {what}: {}\n{}",
            String::from_utf8_lossy(&o.stderr),
            pier.registry.log()
        );
    }
    assert_eq!(id.trim(), String::from_utf8_lossy(&pulled.stdout).trim());
}

fn hsts(r: &ureq::Response) -> Option<String> {
    r.header("strict-transport-security").map(str::to_string)
}

#[test]
fn the_ui_sends_hsts_and_secure_cookies_only_over_https() {
    let tmp = tempfile::tempdir().unwrap();
    let plain_agent = ureq::AgentBuilder::new().redirects(0).build();

    // Plain HTTP: neither.
    let data = tmp.path().join("plain");
    let db = pier_shared::testing::database_url(&data, "index.db");
    let plain = Service::start("pier-index", &data, &index_env(&data, &db));
    let l = ui::login(
        &plain_agent,
        &format!("http://{}", plain.addr),
        "admin",
        ADMIN_PASSWORD,
    );
    assert_eq!(l.post_status, 303);
    assert_eq!(hsts(&l.form), None);
    for c in l.form_cookies.iter().chain(&l.post_cookies) {
        assert!(!c.contains("Secure"), "{c}");
    }
    drop(plain);

    // The index's own TLS, and plain HTTP behind a TLS proxy (public URL https://): both.
    let server = Ca::new(&tmp.path().join("ca"), "Pier test CA").issue("server");
    let tls = start_tls(
        "pier-index",
        &tmp.path().join("tls"),
        &server.cert,
        &server.key,
        &[],
    );
    let data = tmp.path().join("proxied");
    let db = pier_shared::testing::database_url(&data, "index.db");
    let mut env = index_env(&data, &db);
    env.push((
        "PIER_INDEX_HTTP_PUBLIC_URL".into(),
        "https://pier.example.test".into(),
    ));
    let proxied = Service::start("pier-index", &data, &env);
    let tls_agent = agent(&server.ca);
    for (agent, base) in [
        (&tls_agent, format!("https://{}", tls.addr)),
        (&plain_agent, format!("http://{}", proxied.addr)),
    ] {
        let l = ui::login(agent, &base, "admin", ADMIN_PASSWORD);
        assert_eq!(l.post_status, 303, "{base}");
        assert_eq!(hsts(&l.form).as_deref(), Some("max-age=31536000"), "{base}");
        assert!(l.session.is_some(), "{base}");
        assert_eq!(l.form_cookies.len() + l.post_cookies.len(), 3, "{base}");
        for c in l.form_cookies.iter().chain(&l.post_cookies) {
            assert!(c.ends_with("; Secure"), "{base}: {c}");
        }
        let api = agent.get(&format!("{base}/healthz")).call().unwrap();
        assert!(hsts(&api).is_some(), "{base}: HSTS on every response");
    }
}
