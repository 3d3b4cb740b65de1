//! `X-Request-Id` through the pair (pier_shared::request_id): a client's id comes back on
//! the registry's answer, and both services' log lines of that request (the registry's
//! access line, the index's introspection call it caused) carry it, as `req=<id>` in text
//! logs and as `"request_id"` in JSON logs (`PIER_*_LOG_FORMAT=json`), where every line
//! is one JSON object.

use pier_integration_tests::basic_auth;
use pier_integration_tests::pier::{Pier, ADMIN_PASSWORD};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Start a push of `admin/traced` as request `id`; returns the token it used.
fn traced_push(pier: &Pier, id: &str) -> String {
    let body: serde_json::Value = ureq::get(
        &pier
            .index
            .url("/token?service=pier-registry&scope=repository:admin/traced:pull,push"),
    )
    .set("Authorization", &basic_auth("admin", ADMIN_PASSWORD))
    .call()
    .expect("token")
    .into_json()
    .unwrap();
    let token = body["token"].as_str().expect("token").to_string();
    // A push's first step: the registry confirms the token with the index.
    let res = ureq::post(&pier.registry.url("/v2/admin/traced/blobs/uploads/"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("X-Request-Id", id)
        .call()
        .expect("start upload");
    assert_eq!(res.status(), 202);
    assert_eq!(res.header("X-Request-Id"), Some(id));
    token
}

#[test]
fn a_client_s_request_id_is_answered_and_logged_by_both_services() {
    let dir = tempfile::tempdir().unwrap();
    let pier = Pier::start(dir.path(), 0);
    let id = "push-7f3a9c";
    traced_push(&pier, id);

    // Without one, a fresh id is answered.
    let res = ureq::get(&pier.registry.url("/v2/")).call();
    let answered = match res {
        Ok(r) => r.header("X-Request-Id").map(str::to_string),
        Err(ureq::Error::Status(_, r)) => r.header("X-Request-Id").map(str::to_string),
        Err(e) => panic!("{e}"),
    };
    let fresh = answered.expect("an X-Request-Id on every answer");
    assert!(
        fresh.len() == 36 && fresh.matches('-').count() == 4,
        "a UUID: {fresh}"
    );

    let wanted = format!("req={id}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (reg, idx) = (pier.registry.log(), pier.index.log());
        let reg_ok = reg
            .lines()
            .any(|l| l.contains("POST /v2/admin/traced/blobs/uploads/") && l.contains(&wanted));
        let idx_ok = idx
            .lines()
            .any(|l| l.contains("POST /introspect") && l.contains(&wanted));
        if reg_ok && idx_ok {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "request id {id} not in both logs (registry {reg_ok}, index {idx_ok}):\n\
             registry:\n{reg}\nindex:\n{idx}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every line of `log` as a JSON object with the four members every record has.
fn records(service: &str, log: &str) -> Vec<Value> {
    log.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{service}: not a JSON line ({e}): {line}"));
            for key in ["timestamp", "level", "target", "message"] {
                assert!(v[key].is_string(), "{service}: no {key}: {line}");
            }
            v
        })
        .collect()
}

#[test]
fn json_logs_are_one_object_per_line_with_the_request_id_and_no_credential() {
    let dir = tempfile::tempdir().unwrap();
    let json = [("PIER_INDEX_LOG_FORMAT", "json")];
    let pier = Pier::start_linked_env(
        dir.path(),
        0,
        &json,
        &[("PIER_REGISTRY_LOG_FORMAT", "json")],
    );
    let id = "json-51c0de";
    let token = traced_push(&pier, id);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reg = records("registry", &pier.registry.log());
        let idx = records("index", &pier.index.log());
        let traced = |rs: &[Value], what: &str| {
            rs.iter()
                .any(|r| r["request_id"] == id && r["message"].as_str().unwrap().contains(what))
        };
        let (reg_ok, idx_ok) = (
            traced(&reg, "POST /v2/admin/traced/blobs/uploads/"),
            traced(&idx, "POST /introspect"),
        );
        if reg_ok && idx_ok {
            assert!(reg
                .iter()
                .any(|r| r["message"].as_str().unwrap().contains("listening on")));
            for (service, log) in [
                ("registry", pier.registry.log()),
                ("index", pier.index.log()),
            ] {
                assert!(!log.contains(&token), "{service} logged the token");
                assert!(
                    !log.contains(ADMIN_PASSWORD),
                    "{service} logged the password"
                );
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "request id {id} not in both JSON logs (registry {reg_ok}, index {idx_ok}):\n\
             registry:\n{}\nindex:\n{}",
            pier.registry.log(),
            pier.index.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
