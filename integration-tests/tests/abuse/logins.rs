//! Failed logins against a real pier-index at its default `[login_throttle]`, behind a
//! "load balancer" (127.0.0.1 is a trusted proxy, so `X-Forwarded-For` names the client).

use crate::figure;
use crate::raw::request;
use pier_integration_tests::pier::{index_env, ADMIN_PASSWORD};
use pier_integration_tests::{basic_auth, Service};

#[test]
fn failed_logins_at_the_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("index");
    let db = pier_shared::testing::database_url(&data, "index.db");
    let mut env = index_env(&data, &db);
    env.push(("PIER_INDEX_HTTP_TRUSTED_PROXIES".into(), "127.0.0.1".into()));
    let idx = Service::start("pier-index", &data, &env);
    let token = |password: &str, client: &str| {
        let auth = basic_auth("admin", password);
        request(
            &idx.addr,
            "GET",
            "/token?service=pier-registry",
            &[("Authorization", &auth), ("X-Forwarded-For", client)],
            b"",
        )
    };
    let attacker = "203.0.113.9";
    let mut failures = 0;
    let refused = loop {
        let r = token("guess", attacker);
        if r.status != 401 {
            break r;
        }
        failures += 1;
        assert!(failures < 100, "no 429 after 100 failures");
    };
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.body.contains("TOOMANYREQUESTS"), "{}", refused.body);
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    figure("login_failures_until_429", failures);
    figure("login_retry_after_seconds", retry);
    assert_eq!(failures, 5, "the documented default");
    assert!(retry > 290 && retry <= 300, "Retry-After {retry}");
    let r = token(ADMIN_PASSWORD, attacker);
    figure("right_password_from_blocked_address_status", r.status);
    assert_eq!(r.status, 429);
    let r = token(ADMIN_PASSWORD, "198.51.100.7");
    figure("right_password_from_other_address_status", r.status);
    assert_eq!(r.status, 200, "{}", r.body);
    // docker login against the index's /v2/ (Basic) from the blocked address: 429 too.
    let auth = basic_auth("admin", ADMIN_PASSWORD);
    let r = request(
        &idx.addr,
        "GET",
        "/v2/",
        &[("Authorization", &auth), ("X-Forwarded-For", attacker)],
        b"",
    );
    assert_eq!(r.status, 429);
}
