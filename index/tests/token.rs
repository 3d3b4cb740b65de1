//! `GET /token` and `POST /token`: scopes, intersection, anonymous access, credentials,
//! refresh tokens.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{access, jwt_parts, token_request, TestIndex, ADMIN_PASSWORD};

#[actix_web::test]
async fn repeated_and_space_separated_scopes_are_both_read() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let q = "service=pier-registry&scope=repository:alice/a:pull\
             &scope=repository:alice/b:pull%20repository:alice/c:push,pull";
    let r = call!(app, token_request(q, Some(("alice", "alice-pw"))));
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (_, claims) = jwt_parts(r.json()["token"].as_str().unwrap());
    assert_eq!(
        access(&claims),
        [
            "repository:alice/a:pull",
            "repository:alice/b:pull",
            "repository:alice/c:pull,push"
        ]
    );
    assert_eq!(
        r.json()["scope"],
        "repository:alice/a:pull repository:alice/b:pull repository:alice/c:pull,push"
    );
}

#[actix_web::test]
async fn no_rights_is_an_empty_grant_not_an_error() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    let q = "service=pier-registry&scope=repository:alice/app:pull,push,delete";
    let r = call!(app, token_request(q, Some(("bob", "bob-pw"))));
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert!(body["expires_in"].as_u64().unwrap() >= 60);
    assert_eq!(body["token"], body["access_token"]);
    assert!(chrono::DateTime::parse_from_rfc3339(body["issued_at"].as_str().unwrap()).is_ok());
    let (_, claims) = jwt_parts(body["token"].as_str().unwrap());
    assert_eq!(claims["access"], serde_json::json!([]));
    assert_eq!(claims["sub"], "bob");
    // Own namespace, asking for more than exists (`*`) and for nonsense actions.
    let q = "service=pier-registry&scope=repository:bob/x:*&scope=repository:bob/y:pull,fly";
    let r = call!(app, token_request(q, Some(("bob", "bob-pw"))));
    let (_, claims) = jwt_parts(r.json()["token"].as_str().unwrap());
    assert_eq!(
        access(&claims),
        ["repository:bob/x:pull,push,delete", "repository:bob/y:pull"]
    );
}

#[actix_web::test]
async fn anonymous_pulls_public_not_private_and_never_pushes() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    // alice pushes two repositories into existence; one becomes public.
    let q =
        "service=pier-registry&scope=repository:alice/pub:push&scope=repository:alice/priv:push";
    assert_eq!(
        call!(app, token_request(q, Some(("alice", "alice-pw")))).status,
        StatusCode::OK
    );
    pier_index::services::repositories::set_visibility(&t.index, None, "alice/pub", "public")
        .await
        .unwrap();
    let q = "service=pier-registry&scope=repository:alice/pub:pull,push\
             &scope=repository:alice/priv:pull&scope=registry:catalog:*";
    let r = call!(app, token_request(q, None));
    assert_eq!(r.status, StatusCode::OK);
    let (_, claims) = jwt_parts(r.json()["token"].as_str().unwrap());
    assert_eq!(claims["sub"], "");
    assert_eq!(access(&claims), ["repository:alice/pub:pull"]);
    assert!(r.json().get("refresh_token").is_none());
}

#[actix_web::test]
async fn account_must_match_the_basic_user() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let r = call!(
        app,
        token_request(
            "service=pier-registry&account=bob",
            Some(("alice", "alice-pw"))
        )
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "invalid_request");
    let r = call!(
        app,
        token_request(
            "service=pier-registry&account=alice",
            Some(("alice", "alice-pw"))
        )
    );
    assert_eq!(r.status, StatusCode::OK);
}

#[actix_web::test]
async fn bad_credentials_get_a_basic_challenge_and_unknown_services_a_400() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    for creds in [("alice", "wrong"), ("nobody", "x"), ("alice", "")] {
        let r = call!(app, token_request("service=pier-registry", Some(creds)));
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{creds:?}");
        assert_eq!(r.header("www-authenticate"), r#"Basic realm="pier-index""#);
        assert!(!r.text().contains("wrong"));
    }
    let garbage = TestRequest::get()
        .uri("/token?service=pier-registry")
        .insert_header(("Authorization", "Basic !!!"));
    assert_eq!(call!(app, garbage).status, StatusCode::UNAUTHORIZED);
    let r = call!(
        app,
        token_request("service=elsewhere", Some(("alice", "alice-pw")))
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = call!(
        app,
        token_request("service=pier-registry&scope=nonsense", None)
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn extra_services_become_the_audience() {
    let t = TestIndex::with(|c| c.token.extra_services = vec!["mirror".into()]);
    let app = app!(t);
    let r = call!(app, token_request("service=mirror", None));
    assert_eq!(r.status, StatusCode::OK);
    let (_, claims) = jwt_parts(r.json()["token"].as_str().unwrap());
    assert_eq!(claims["aud"], "mirror");
}

fn post_form(form: &[(&str, &str)]) -> TestRequest {
    TestRequest::post()
        .uri("/token")
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(form).unwrap())
}

#[actix_web::test]
async fn offline_token_then_refresh_grant_skips_bcrypt() {
    // No credential cache: any password check would run bcrypt.
    let t = TestIndex::with(|c| c.passwords.cache_seconds = 0);
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let q = "service=pier-registry&offline_token=true&client_id=docker";
    let r = call!(app, token_request(q, Some(("alice", "alice-pw"))));
    assert_eq!(r.status, StatusCode::OK);
    let refresh = r.json()["refresh_token"].as_str().unwrap().to_string();
    let (_, first) = jwt_parts(r.json()["token"].as_str().unwrap());
    assert!(first["rti"].is_string(), "rti names the session: {first}");

    let before = t.index.credentials.bcrypt_verifications();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh),
        ("service", "pier-registry"),
        ("client_id", "docker"),
        (
            "scope",
            "repository:alice/app:pull repository:alice/app:push",
        ),
    ];
    let r = call!(app, post_form(&form));
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        t.index.credentials.bcrypt_verifications(),
        before,
        "refresh paid bcrypt"
    );
    let body = r.json();
    assert_eq!(body["scope"], "repository:alice/app:pull,push");
    assert!(body.get("refresh_token").is_none());
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["rti"], first["rti"]);

    // The password grant does pay it (the counter counts).
    let form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "alice-pw"),
        ("service", "pier-registry"),
        ("client_id", "docker"),
        ("access_type", "offline"),
    ];
    let r = call!(app, post_form(&form));
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["refresh_token"].is_string());
    assert_eq!(t.index.credentials.bcrypt_verifications(), before + 1);
}

#[actix_web::test]
async fn credential_cache_pays_bcrypt_once_per_login() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let before = t.index.credentials.bcrypt_verifications();
    for _ in 0..5 {
        let r = call!(
            app,
            token_request("service=pier-registry", Some(("alice", "alice-pw")))
        );
        assert_eq!(r.status, StatusCode::OK);
    }
    assert_eq!(t.index.credentials.bcrypt_verifications(), before + 1);
    // A wrong password is never served from the cache.
    let r = call!(
        app,
        token_request("service=pier-registry", Some(("alice", "alice-pX")))
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A password change (here by the admin) invalidates the cached one.
    pier_index::services::users::set_password(&t.index, "admin", "alice", Some("new-pw"))
        .await
        .unwrap();
    let r = call!(
        app,
        token_request("service=pier-registry", Some(("alice", "alice-pw")))
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = call!(
        app,
        token_request("service=pier-registry", Some(("admin", ADMIN_PASSWORD)))
    );
    assert_eq!(r.status, StatusCode::OK);
}

#[actix_web::test]
async fn revoked_or_unknown_refresh_tokens_are_refused() {
    let t = TestIndex::new();
    let alice = t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let q = "service=pier-registry&offline_token=true&client_id=docker";
    let r = call!(app, token_request(q, Some(("alice", "alice-pw"))));
    let refresh = r.json()["refresh_token"].as_str().unwrap().to_string();
    let sessions = pier_index::services::sessions::list(&t.index, &alice)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].client_id, "docker");
    pier_index::services::sessions::revoke(&t.index, &alice, &sessions[0].id)
        .await
        .unwrap();
    for token in [refresh.as_str(), "made-up"] {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("service", "pier-registry"),
        ];
        let r = call!(app, post_form(&form));
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"], "invalid_grant");
    }
    let r = call!(app, post_form(&[("grant_type", "authorization_code")]));
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    let form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "nope"),
    ];
    let r = call!(app, post_form(&form));
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn disabled_users_cannot_log_in() {
    let t = TestIndex::new();
    t.add_user("carol", "carol-pw").await;
    let app = app!(t);
    let r = call!(
        app,
        token_request("service=pier-registry", Some(("carol", "carol-pw")))
    );
    assert_eq!(r.status, StatusCode::OK);
    pier_index::services::users::set_disabled(&t.index, "admin", "carol", true)
        .await
        .unwrap();
    let r = call!(
        app,
        token_request("service=pier-registry", Some(("carol", "carol-pw")))
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
