//! Failed-login throttling at every entry point: after `max_failures` failures of one
//! account from one address the pair gets 429 + `Retry-After` in the entry point's own
//! format, the right password from another address still works, a spraying address is
//! blocked as a whole, and replicas on one database share the counts.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::web::{csrf_of, post, set_cookie, FORM};
use common::{basic, token_request, TestIndex};
use std::net::SocketAddr;

const ATTACKER: &str = "203.0.113.9:40000";
const VICTIM: &str = "198.51.100.7:40000";
const MAX: u64 = 3;

fn throttled() -> TestIndex {
    TestIndex::with(|c| {
        c.login_throttle.max_failures = MAX;
        c.login_throttle.max_address_failures = 8;
        c.login_throttle.window_seconds = 600;
        c.login_throttle.block_seconds = 120;
    })
}

fn from(req: TestRequest, addr: &str) -> TestRequest {
    req.peer_addr(addr.parse::<SocketAddr>().unwrap())
}

fn retry_after(r: &common::Reply) -> u64 {
    let v: u64 = r
        .header("retry-after")
        .parse()
        .expect("a Retry-After in seconds");
    assert!((1..=120).contains(&v), "Retry-After {v}");
    v
}

fn token_get(user: &str, pw: &str, addr: &str) -> TestRequest {
    from(
        token_request("service=pier-registry", Some((user, pw))),
        addr,
    )
}

fn oci_code(r: &common::Reply) -> String {
    r.json()["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[actix_web::test]
async fn token_get_blocks_the_pair_but_not_the_victim_elsewhere() {
    let t = throttled();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    for _ in 0..MAX {
        let r = call!(app, token_get("alice", "guess", ATTACKER));
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = call!(app, token_get("alice", "guess", ATTACKER));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(oci_code(&r), "TOOMANYREQUESTS");
    retry_after(&r);
    // The right password from the blocked address is refused too (nothing is checked).
    let checks = t.index.credentials.bcrypt_verifications();
    let r = call!(app, token_get("alice", "alice-pw", ATTACKER));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(t.index.credentials.bcrypt_verifications(), checks);
    // The victim, from an address with no failures: logs in.
    let r = call!(app, token_get("alice", "alice-pw", VICTIM));
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Another account from the attacker's address is not blocked by alice's pair.
    t.add_user("bob", "bob-pw").await;
    let r = call!(app, token_get("bob", "bob-pw", ATTACKER));
    assert_eq!(r.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_success_clears_the_pairs_failures() {
    let t = throttled();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    for _ in 0..3 {
        for _ in 0..MAX - 1 {
            let r = call!(app, token_get("alice", "typo", VICTIM));
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        let r = call!(app, token_get("alice", "alice-pw", VICTIM));
        assert_eq!(r.status, StatusCode::OK);
    }
}

#[actix_web::test]
async fn a_spraying_address_is_blocked_for_every_account() {
    let t = throttled();
    t.add_user("carol", "carol-pw").await;
    let app = app!(t);
    // 8 failures over 8 different (mostly unknown) accounts: no pair reaches 3.
    for i in 0..8 {
        let r = call!(app, token_get(&format!("user{i}"), "guess", ATTACKER));
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = call!(app, token_get("carol", "carol-pw", ATTACKER));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = call!(app, token_get("carol", "carol-pw", VICTIM));
    assert_eq!(r.status, StatusCode::OK);
}

#[actix_web::test]
async fn token_post_password_grant_and_access_tokens_are_throttled() {
    let t = throttled();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let grant = |pw: &str, addr: &str| {
        let form = [
            ("grant_type", "password"),
            ("service", "pier-registry"),
            ("client_id", "test"),
            ("username", "alice"),
            ("password", pw),
        ];
        from(
            TestRequest::post()
                .uri("/token")
                .insert_header(FORM)
                .set_payload(serde_urlencoded::to_string(form).unwrap()),
            addr,
        )
    };
    // Wrong personal access tokens count like wrong passwords.
    for _ in 0..MAX {
        let r = call!(
            app,
            grant("pier_pat_0000000000000000000000000000", ATTACKER)
        );
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    }
    let r = call!(app, grant("alice-pw", ATTACKER));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(oci_code(&r), "TOOMANYREQUESTS");
    retry_after(&r);
    let r = call!(app, grant("alice-pw", VICTIM));
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[actix_web::test]
async fn v2_basic_is_a_throttled_login() {
    let t = throttled();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let v2 = |pw: &str, addr: &str| {
        from(
            TestRequest::get()
                .uri("/v2/")
                .insert_header(basic("alice", pw)),
            addr,
        )
    };
    assert_eq!(call!(app, v2("alice-pw", VICTIM)).status, StatusCode::OK);
    for _ in 0..MAX {
        let r = call!(app, v2("guess", ATTACKER));
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.header("www-authenticate").starts_with("Bearer realm="));
    }
    let r = call!(app, v2("alice-pw", ATTACKER));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(oci_code(&r), "TOOMANYREQUESTS");
    assert_eq!(r.header("docker-distribution-api-version"), "registry/2.0");
    retry_after(&r);
    assert_eq!(call!(app, v2("alice-pw", VICTIM)).status, StatusCode::OK);
}

#[actix_web::test]
async fn json_api_basic_answers_a_problem() {
    let t = throttled();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let me = |pw: &str, addr: &str| {
        from(
            TestRequest::get()
                .uri("/api/v1/user")
                .insert_header(basic("alice", pw)),
            addr,
        )
    };
    for _ in 0..MAX {
        assert_eq!(
            call!(app, me("guess", ATTACKER)).status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = call!(app, me("alice-pw", ATTACKER));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.json()["type"], "urn:pier:problem:too-many-requests");
    retry_after(&r);
    assert_eq!(call!(app, me("alice-pw", VICTIM)).status, StatusCode::OK);
}

#[actix_web::test]
async fn changing_your_password_checks_the_current_one_through_the_throttle() {
    let t = throttled();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    // Logged in with a token (so only current_password is a password check).
    let r = call!(app, token_get("alice", "alice-pw", VICTIM));
    let token = r.json()["token"].as_str().unwrap().to_string();
    let change = |current: &str| {
        from(
            TestRequest::put()
                .uri("/api/v1/users/alice/password")
                .insert_header(common::bearer(&token))
                .set_json(serde_json::json!({"current_password": current, "password": "new-pw"})),
            ATTACKER,
        )
    };
    for _ in 0..MAX {
        assert_eq!(call!(app, change("guess")).status, StatusCode::FORBIDDEN);
    }
    let r = call!(app, change("alice-pw"));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
}

#[actix_web::test]
async fn web_ui_login_answers_the_page_with_429() {
    let t = throttled();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let r = call!(app, TestRequest::get().uri("/ui/login"));
    let (cookie, _) = set_cookie(&r, "pier_login");
    let csrf = csrf_of(&r.text());
    let form = |pw: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("username", "alice".into()),
            ("password", pw.into()),
        ]
    };
    let send = |pw: &'static str, addr: &str| {
        let f = form(pw);
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        from(post("/ui/login", &cookie, &pairs), addr)
    };
    for _ in 0..MAX {
        assert_eq!(
            call!(app, send("guess", ATTACKER)).status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = call!(app, send("alice-pw", ATTACKER));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("content-type").starts_with("text/html"));
    assert!(r.text().contains("Too many failed logins"), "{}", r.text());
    retry_after(&r);
    assert_eq!(
        call!(app, send("alice-pw", VICTIM)).status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn v1_login_answers_v1_json() {
    let t = throttled();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let login = |pw: &str, addr: &str| {
        from(
            TestRequest::get()
                .uri("/v1/users/")
                .insert_header(basic("alice", pw)),
            addr,
        )
    };
    for _ in 0..MAX {
        assert_eq!(
            call!(app, login("guess", ATTACKER)).status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = call!(app, login("alice-pw", ATTACKER));
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("too many failed logins"));
    retry_after(&r);
    assert_eq!(call!(app, login("alice-pw", VICTIM)).status, StatusCode::OK);
    // The other v1 entry point with Basic credentials (repository images) is throttled too.
    let images = from(
        TestRequest::get()
            .uri("/v1/repositories/alice/app/images")
            .insert_header(basic("alice", "alice-pw")),
        ATTACKER,
    );
    assert_eq!(call!(app, images).status, StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn replicas_on_one_database_share_the_counts() {
    let t = throttled();
    t.add_user("alice", "alice-pw").await;
    let other = pier_index::Index::open((*t.index.config).clone()).unwrap();
    let a = app!(t);
    let b = actix_web::test::init_service(pier_index::server::app(other)).await;
    // Failures alternate between the replicas; the block holds on both.
    for i in 0..MAX {
        let r = if i % 2 == 0 {
            call!(a, token_get("alice", "guess", ATTACKER))
        } else {
            call!(b, token_get("alice", "guess", ATTACKER))
        };
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        call!(a, token_get("alice", "alice-pw", ATTACKER)).status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call!(b, token_get("alice", "alice-pw", ATTACKER)).status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let lb = "10.0.0.2:5000";
    let behind = |trusted: bool| {
        TestIndex::with(move |c| {
            c.login_throttle.max_failures = MAX;
            if trusted {
                c.http.trusted_proxies = vec!["10.0.0.0/8".into()];
            }
        })
    };
    let via = |pw: &str, client: &str| {
        token_get("alice", pw, lb).insert_header(("X-Forwarded-For", client.to_string()))
    };
    // Not trusted: everyone behind the balancer is one address (and a forged header
    // changes nothing).
    let t = behind(false);
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    for i in 0..MAX {
        let r = call!(app, via("guess", &format!("192.0.2.{i}")));
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        call!(app, via("alice-pw", "192.0.2.200")).status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Trusted: the client named by the balancer is counted.
    let t = behind(true);
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    for _ in 0..MAX {
        assert_eq!(
            call!(app, via("guess", "192.0.2.1")).status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        call!(app, via("alice-pw", "192.0.2.1")).status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call!(app, via("alice-pw", "192.0.2.2")).status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn pruning_drops_only_rows_that_no_longer_count() {
    let t = throttled();
    let app = app!(t);
    let r = call!(app, token_get("nobody", "guess", ATTACKER));
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let pruned = pier_index::services::login_throttle::prune(&t.index)
        .await
        .unwrap();
    assert_eq!(pruned, 0, "a fresh failure is kept");
}
