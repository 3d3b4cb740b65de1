//! `[rate_limit]` on a real pier-registry: anonymous callers by address, users by their
//! verified token's subject (one user's flood does not slow another's).

use crate::figure;
use crate::raw::request;
use pier_integration_tests::pier::{index_env, registry_token_env, ADMIN_PASSWORD};
use pier_integration_tests::{basic_auth, Registry, Service};

const BURST: usize = 5;

fn limits() -> Vec<(&'static str, String)> {
    vec![
        ("PIER_REGISTRY_RATE_LIMIT_ENABLED", "true".into()),
        (
            "PIER_REGISTRY_RATE_LIMIT_ANONYMOUS_BURST",
            BURST.to_string(),
        ),
        (
            "PIER_REGISTRY_RATE_LIMIT_ANONYMOUS_PER_SECOND",
            "0.1".into(),
        ),
        ("PIER_REGISTRY_RATE_LIMIT_USER_BURST", BURST.to_string()),
        ("PIER_REGISTRY_RATE_LIMIT_USER_PER_SECOND", "0.1".into()),
    ]
}

/// Requests until the first non-200, and that reply.
fn until_refused(mut send: impl FnMut() -> crate::raw::Reply) -> (usize, crate::raw::Reply) {
    for served in 0..1000 {
        let r = send();
        if r.status != 200 {
            return (served, r);
        }
    }
    panic!("never refused");
}

#[test]
fn anonymous_callers_are_limited_per_address() {
    let tmp = tempfile::tempdir().unwrap();
    let env = limits();
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reg = Registry::start_with(tmp.path(), &extra);
    let (served, r) = until_refused(|| request(&reg.addr, "GET", "/v2/", &[], b""));
    figure("anonymous_requests_served_before_429", served);
    assert_eq!(served, BURST);
    assert_eq!(r.status, 429);
    assert!(r.body.contains("TOOMANYREQUESTS"), "{}", r.body);
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    figure("anonymous_retry_after_seconds", retry);
    assert!((1..=10).contains(&retry));
    // Health checks are not limited.
    assert_eq!(request(&reg.addr, "GET", "/healthz", &[], b"").status, 200);
}

#[test]
fn users_are_limited_by_their_token_subject() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("index");
    let db = pier_shared::testing::database_url(&data, "index.db");
    let idx = Service::start("pier-index", &data, &index_env(&data, &db));
    let mut env: Vec<(String, String)> = registry_token_env(&format!("http://{}", idx.addr), 30);
    env.extend(limits().into_iter().map(|(k, v)| (k.to_string(), v)));
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reg = Registry::start_with(&tmp.path().join("registry"), &extra);
    let token = |user: &str, password: &str| {
        let r = request(
            &idx.addr,
            "GET",
            "/token?service=pier-registry&scope=repository:admin/app:pull",
            &[("Authorization", &basic_auth(user, password))],
            b"",
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        format!("Bearer {}", v["token"].as_str().unwrap())
    };
    let admin = token("admin", ADMIN_PASSWORD);
    let (served, r) =
        until_refused(|| request(&reg.addr, "GET", "/v2/", &[("Authorization", &admin)], b""));
    figure("user_requests_served_before_429", served);
    assert_eq!(served, BURST);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    // A second token of the same user shares the bucket; anonymous callers have their own.
    let again = token("admin", ADMIN_PASSWORD);
    assert_eq!(
        request(&reg.addr, "GET", "/v2/", &[("Authorization", &again)], b"").status,
        429
    );
    assert_eq!(request(&reg.addr, "GET", "/v2/", &[], b"").status, 401);
}
