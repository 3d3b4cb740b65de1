//! No credential in any log line at any level: both services at `trace`, every client flow
//! that carries a secret (skopeo, docker, the token endpoint with Basic and with the OAuth2
//! password and refresh_token grants, v1 login and tokens, the web UI's login, token
//! introspection between the services, a personal access token), over TLS; then every log
//! line of both services is searched for each secret the test used or obtained.

use pier_integration_tests::docker::{import_image, CertsD, Docker};
use pier_integration_tests::logscan::{Scan, Secrets};
use pier_integration_tests::pier::{ADMIN_PASSWORD, INTROSPECTION_SECRET};
use pier_integration_tests::tls::{agent, Ca};
use pier_integration_tests::{basic_auth, require_tool, run_ok, ui, OciLayout, Pier, Platform};
use serde_json::Value;
use std::path::Path;

const PASSWORD: &str = "alice-Pa55word-for-the-log-test";

/// The password put into the PostgreSQL URLs (the test server trusts local connections,
/// so any password connects; the point is that the URL carries one).
const DB_PASSWORD: &str = "pier-db-Pa55word-in-the-url";

/// Give the PostgreSQL database of `dir` a URL with [`DB_PASSWORD`] in it (the URL
/// `pier_shared::testing` hands out, and remembers in its marker file, has none).
fn with_db_password(dir: &Path, file: &str) {
    let url = pier_shared::testing::database_url(dir, file);
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, host) = rest.rsplit_once('@').expect("postgres URL with a user");
    let user = auth.split(':').next().unwrap();
    let marker = dir.join(format!("{file}.postgres-url"));
    std::fs::write(marker, format!("{scheme}://{user}:{DB_PASSWORD}@{host}")).unwrap();
}

fn json(r: Result<ureq::Response, ureq::Error>, what: &str) -> Value {
    match r {
        Ok(r) => r.into_json().unwrap(),
        Err(e) => panic!("{what}: {e}"),
    }
}

fn run_suite(log_spec: &str) {
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::new(&tmp.path().join("ca"), "Pier test CA");
    let server = ca.issue("server");
    // A signing key the index imports on first start, so that its PEM is known here.
    let key_dir = tmp.path().join("pier/index/keys");
    std::fs::create_dir_all(&key_dir).unwrap();
    let signing = key_dir.join("token-signing-key.pem");
    run_ok(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            signing.to_str().unwrap(),
        ],
    );
    let mut secrets = Secrets::default();
    secrets.add_pem("the TLS private key", &server.key);
    secrets.add_pem("the token signing key", &signing);
    secrets.add("the admin password", ADMIN_PASSWORD);
    secrets.add("alice's password", PASSWORD);
    secrets.add(
        "alice's Basic credentials",
        basic_auth("alice", PASSWORD).trim_start_matches("Basic "),
    );
    secrets.add("the introspection secret", INTROSPECTION_SECRET);
    if pier_shared::testing::postgres_wanted() {
        secrets.add("the database password", DB_PASSWORD);
        for (dir, file) in [("pier/index", "index.db"), ("pier/registry", "metadata.db")] {
            with_db_password(&tmp.path().join(dir), file);
        }
    }

    let pier = Pier::start_tls(
        &tmp.path().join("pier"),
        0,
        &server,
        &[("PIER_INDEX_LOG", log_spec)],
        &[("PIER_REGISTRY_LOG", log_spec)],
    );
    secrets.add(
        "the key-encryption key",
        std::fs::read_to_string(key_dir.join("key-encryption-key"))
            .unwrap()
            .trim(),
    );
    pier.add_user("alice", PASSWORD);
    let http = agent(&server.ca);
    let index = format!("https://{}", pier.index.addr);
    let registry = format!("https://{}", pier.registry.addr);
    let scope = "repository:alice/app:pull,push";

    // Token endpoint: GET with Basic (docker's way, with a refresh token), POST password
    // grant, POST refresh_token grant.
    let got = json(
        http.get(&format!("{index}/token?service=pier-registry&scope={scope}&offline_token=true&client_id=docker&account=alice"))
            .set("Authorization", &basic_auth("alice", PASSWORD))
            .call(),
        "GET /token",
    );
    secrets.add("GET /token's token", got["token"].as_str().unwrap());
    let refresh = got["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_string();
    secrets.add("GET /token's refresh token", &refresh);
    let grant = json(
        http.post(&format!("{index}/token")).send_form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
            ("service", "pier-registry"),
            ("scope", scope),
            ("client_id", "pier-test"),
            ("access_type", "offline"),
        ]),
        "password grant",
    );
    secrets.add(
        "the password grant's token",
        grant["access_token"].as_str().unwrap(),
    );
    secrets.add(
        "the password grant's refresh token",
        grant["refresh_token"].as_str().unwrap(),
    );
    let refreshed = json(
        http.post(&format!("{index}/token")).send_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("service", "pier-registry"),
            ("scope", scope),
            ("client_id", "pier-test"),
        ]),
        "refresh_token grant",
    );
    let bearer = refreshed["access_token"].as_str().unwrap().to_string();
    secrets.add("the refresh grant's token", &bearer);
    if let Some(r) = refreshed["refresh_token"].as_str() {
        secrets.add("the refresh grant's refresh token", r);
    }

    // The registry confirms the token with the index (introspection, no cache: ttl 0).
    let r = http
        .get(&format!("{registry}/v2/alice/app/tags/list"))
        .set("Authorization", &format!("Bearer {bearer}"))
        .call();
    assert!(
        matches!(r, Ok(_) | Err(ureq::Error::Status(404, _))),
        "{r:?}"
    );
    let introspected = json(
        http.post(&format!("{index}/introspect"))
            .set(
                "Authorization",
                &basic_auth("registry", INTROSPECTION_SECRET),
            )
            .send_form(&[("token", &bearer)]),
        "introspect",
    );
    assert_eq!(introspected["active"], true);

    // A personal access token, and a token bought with it.
    let pat = json(
        http.post(&format!("{index}/api/v1/access-tokens"))
            .set("Authorization", &basic_auth("alice", PASSWORD))
            .send_json(serde_json::json!({"name": "ci", "actions": ["pull", "push"]})),
        "create PAT",
    );
    let pat = pat["secret"].as_str().expect("PAT secret").to_string();
    secrets.add("the personal access token", &pat);
    let with_pat = json(
        http.get(&format!(
            "{index}/token?service=pier-registry&scope={scope}"
        ))
        .set("Authorization", &basic_auth("alice", &pat))
        .call(),
        "GET /token with a PAT",
    );
    secrets.add("the PAT's token", with_pat["token"].as_str().unwrap());

    // v1: login, and a push token.
    let v1 = |method: &str, path: &str, body: Option<&str>| {
        let req = http
            .request(method, &format!("{index}{path}"))
            .set("Authorization", &basic_auth("alice", PASSWORD))
            .set("X-Docker-Token", "true");
        let r = match body {
            Some(b) => req.set("Content-Type", "application/json").send_string(b),
            None => req.call(),
        };
        r.unwrap_or_else(|e| panic!("v1 {method} {path}: {e}"))
    };
    assert_eq!(v1("GET", "/v1/users/", None).status(), 200);
    let put = v1("PUT", "/v1/repositories/alice/v1app/", Some("[]"));
    let v1_token = put
        .header("x-docker-token")
        .expect("X-Docker-Token")
        .to_string();
    secrets.add(
        "the v1 token",
        v1_token
            .split("signature=")
            .nth(1)
            .unwrap_or(&v1_token)
            .split(',')
            .next()
            .unwrap(),
    );

    // The web UI.
    let login = ui::login(&http, &index, "alice", PASSWORD);
    assert_eq!(login.post_status, 303);
    secrets.add("the UI session", &login.session.expect("session"));
    secrets.add("the UI login CSRF token", &login.csrf);

    // skopeo push and pull.
    let cert_dir = tmp.path().join("cert-dir");
    std::fs::create_dir_all(&cert_dir).unwrap();
    std::fs::copy(&server.ca, cert_dir.join("ca.crt")).unwrap();
    let cert_dir = cert_dir.to_str().unwrap();
    let mut src = OciLayout::create(&tmp.path().join("src"));
    let image = src.image(
        5,
        &[4_000],
        Platform {
            os: "linux",
            architecture: "amd64",
        },
    );
    src.tag("v1", &image);
    let dest = format!("docker://{}/alice/app:v1", pier.registry.addr);
    let creds = format!("alice:{PASSWORD}");
    run_ok(
        "skopeo",
        &[
            "copy",
            "--dest-cert-dir",
            cert_dir,
            "--dest-creds",
            &creds,
            &format!("oci:{}:v1", src.dir.display()),
            &dest,
        ],
    );
    run_ok(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--cert-dir",
            cert_dir,
            "--creds",
            &creds,
            &dest,
        ],
    );

    // docker login (an identity token in config.json), push, pull.
    if pier_integration_tests::docker_engine_available() {
        let _certs = CertsD::install(&server.ca, &[&pier.registry.addr]);
        let docker = Docker::new(&tmp.path().join("docker-config"));
        let tag = format!("{}/alice/docker:{}", pier.registry.addr, std::process::id());
        import_image(tmp.path(), &tag);
        docker.ok(
            &[
                "login",
                &pier.registry.addr,
                "-u",
                "alice",
                "--password-stdin",
            ],
            Some(PASSWORD),
        );
        let pushed = docker.run(&["push", &tag], None);
        let _ = docker.run(&["rmi", "-f", &tag], None);
        let pulled = docker.run(&["pull", &tag], None);
        let _ = docker.run(&["rmi", "-f", &tag], None);
        let stored: Value = serde_json::from_str(&docker.stored_config()).unwrap();
        let auth = &stored["auths"][&pier.registry.addr];
        if let Some(t) = auth["identitytoken"].as_str() {
            secrets.add("docker's identity token", t);
        }
        docker.ok(&["logout", &pier.registry.addr], None);
        eprintln!("docker login, push and pull done");
        assert!(
            pushed.status.success(),
            "docker push: {}",
            String::from_utf8_lossy(&pushed.stderr)
        );
        assert!(
            pulled.status.success(),
            "docker pull: {}",
            String::from_utf8_lossy(&pulled.stderr)
        );
    }

    drop(http);
    let (index_log, registry_log) = (pier.index.log(), pier.registry.log());
    drop(pier);
    let scan = Scan::of(
        &[("pier-index", &index_log), ("pier-registry", &registry_log)],
        &secrets,
    );
    let Scan {
        lines,
        redacted,
        levels,
        targets,
        leaks,
    } = scan;
    eprintln!(
        "FIGURE log spec {log_spec:?}: {lines} log lines ({}), {} secrets searched, {} leaks, {redacted} lines redacted",
        levels,
        secrets.len(),
        leaks.len()
    );
    eprintln!("FIGURE lines by crate: {targets:?}");
    assert!(
        leaks.is_empty(),
        "{} secret(s) in the logs:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    assert!(
        index_log.contains("/token") && registry_log.contains("/v2/alice/app"),
        "request lines missing: the logs were not captured"
    );
}

#[test]
fn no_secret_in_any_log_line_at_trace() {
    run_suite("trace");
}

/// The same with every capped dependency named at `trace` (the operator's explicit
/// choice): the redacting format alone must keep the secrets out.
#[test]
fn no_secret_in_any_log_line_with_dependencies_named_at_trace() {
    let spec: Vec<String> = std::iter::once("trace".to_string())
        .chain(
            pier_shared::logging::CAPPED
                .iter()
                .map(|c| format!("{c}=trace")),
        )
        .collect();
    run_suite(&spec.join(","));
}
