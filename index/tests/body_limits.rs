//! Every body the index reads into memory has a limit (`[limits]`); a larger one is a 413
//! in the protocol's own format, announced (`Content-Length`) or not (chunked).

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::web::{csrf_of, post, set_cookie, FORM};
use common::{basic, TestIndex, ADMIN_PASSWORD, REGISTRY_SECRET};

const JSON_MAX: usize = 2048;
const FORM_MAX: usize = 1024;

fn small() -> TestIndex {
    TestIndex::with(|c| {
        c.limits.json_max_bytes = JSON_MAX;
        c.limits.form_max_bytes = FORM_MAX;
    })
}

fn padding(n: usize) -> String {
    "x".repeat(n)
}

#[actix_web::test]
async fn token_form_over_the_limit_is_an_oauth_413() {
    let t = small();
    let app = app!(t);
    let body = format!(
        "grant_type=password&username=admin&password={}",
        padding(FORM_MAX)
    );
    let r = call!(
        app,
        TestRequest::post()
            .uri("/token")
            .insert_header(FORM)
            .set_payload(body)
    );
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.json()["error"], "invalid_request");
    // Just under the limit is read (and answered on its merits).
    let ok = format!(
        "grant_type=password&username=admin&password={ADMIN_PASSWORD}&service=pier-registry"
    );
    let r = call!(
        app,
        TestRequest::post()
            .uri("/token")
            .insert_header(FORM)
            .set_payload(ok)
    );
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[actix_web::test]
async fn introspection_form_over_the_limit_is_a_problem_413() {
    let t = small();
    let app = app!(t);
    let body = format!("token={}", padding(FORM_MAX));
    let req = TestRequest::post()
        .uri("/introspect")
        .insert_header(basic("registry", REGISTRY_SECRET))
        .insert_header(FORM)
        .set_payload(body);
    let r = call!(app, req);
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["type"], "urn:pier:problem:payload-too-large");
}

#[actix_web::test]
async fn json_api_body_over_the_limit_is_a_problem_413() {
    let t = small();
    let app = app!(t);
    let body = serde_json::json!({"name": "org", "pad": padding(JSON_MAX)});
    let req = TestRequest::post()
        .uri("/api/v1/orgs")
        .insert_header(basic("admin", ADMIN_PASSWORD))
        .set_json(body);
    let r = call!(app, req);
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.json()["type"], "urn:pier:problem:payload-too-large");
    // Within the limit: created.
    let req = TestRequest::post()
        .uri("/api/v1/orgs")
        .insert_header(basic("admin", ADMIN_PASSWORD))
        .set_json(serde_json::json!({"name": "org"}));
    assert_eq!(call!(app, req).status, StatusCode::CREATED);
}

#[actix_web::test]
async fn web_form_over_the_limit_is_a_413_page() {
    let t = small();
    let app = app!(t);
    let r = call!(app, TestRequest::get().uri("/ui/login"));
    let (cookie, _) = set_cookie(&r, "pier_login");
    let csrf = csrf_of(&r.text());
    let pad = padding(FORM_MAX);
    let form = [
        ("csrf", csrf.as_str()),
        ("username", "admin"),
        ("password", pad.as_str()),
    ];
    let r = call!(app, post("/ui/login", &cookie, &form));
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(r.header("content-type").starts_with("text/html"));
    assert!(r.text().contains("larger than 1024 bytes"));
}

#[actix_web::test]
async fn v1_json_over_the_limit_is_a_v1_413() {
    let t = small();
    let app = app!(t);
    let body = serde_json::json!({"username": "u", "password": "p", "email": padding(JSON_MAX)});
    let r = call!(app, TestRequest::post().uri("/v1/users/").set_json(body));
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("larger than 2048 bytes"));
    let images = format!("[{}]", vec![r#"{"id":"x"}"#; JSON_MAX / 8].join(","));
    let req = TestRequest::put()
        .uri("/v1/repositories/admin/app/")
        .insert_header(basic("admin", ADMIN_PASSWORD))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(images);
    let r = call!(app, req);
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.json()["error"].is_string());
}
