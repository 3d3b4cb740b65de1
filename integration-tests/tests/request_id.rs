//! `X-Request-Id` through the pair (pier_shared::request_id): a client's id comes back on
//! the registry's answer, and both services' log lines of that request (the registry's
//! access line, the index's introspection call it caused) carry it.

use pier_integration_tests::basic_auth;
use pier_integration_tests::pier::{Pier, ADMIN_PASSWORD};

#[test]
fn a_client_s_request_id_is_answered_and_logged_by_both_services() {
    let dir = tempfile::tempdir().unwrap();
    let pier = Pier::start(dir.path(), 0);
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
    let id = "push-7f3a9c";
    let res = ureq::post(&pier.registry.url("/v2/admin/traced/blobs/uploads/"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("X-Request-Id", id)
        .call()
        .expect("start upload");
    assert_eq!(res.status(), 202);
    assert_eq!(res.header("X-Request-Id"), Some(id));

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
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
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
            std::time::Instant::now() < deadline,
            "request id {id} not in both logs (registry {reg_ok}, index {idx_ok}):\n\
             registry:\n{reg}\nindex:\n{idx}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
