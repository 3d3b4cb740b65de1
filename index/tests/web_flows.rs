//! The web UI's token-flow page in-process: v2 and v1 flows drawn as numbered steps from
//! what the index recorded.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::web::get;
use common::{basic, introspect, token_request, TestIndex, ADMIN_PASSWORD};

#[actix_web::test]
async fn the_flow_page_draws_issue_and_confirm_as_numbered_steps() {
    let t = TestIndex::new();
    let app = app!(t);
    let q = "service=pier-registry&scope=repository:admin/app:push";
    let r = call!(app, token_request(q, Some(("admin", ADMIN_PASSWORD))));
    let token = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(call!(app, introspect(&token)).json()["active"], true);
    let (_, claims) = common::jwt_parts(&token);
    let (cookie, _) = login!(app, "admin", ADMIN_PASSWORD);
    let html = call!(app, get("/ui/flows", &cookie)).text();
    let jti = claims["jti"].as_str().unwrap();
    let at = html.find(jti).expect("the flow of the token");
    let flow = &html[at..];
    let issue = flow.find(r#"data-action="token.issue""#).unwrap();
    let confirm = flow.find(r#"data-action="token.confirm""#).unwrap();
    assert!(issue < confirm);
    assert!(flow[confirm..].contains(r#"<span class="party registry">registry</span>"#));
    let audit = call!(app, get("/ui/audit?action=web.", &cookie)).text();
    assert!(audit.contains("web.login"));
    assert!(!audit.contains("token.issue"));
}

#[actix_web::test]
async fn the_flow_page_draws_a_v1_push_with_the_registry_check() {
    let t = TestIndex::new();
    let app = app!(t);
    let image = "a".repeat(64);
    let body = format!(r#"[{{"id":"{image}"}}]"#);
    let r = call!(
        app,
        TestRequest::put()
            .uri("/v1/repositories/admin/app/")
            .insert_header(basic("admin", ADMIN_PASSWORD))
            .insert_header(("X-Docker-Token", "true"))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body)
    );
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let token = r.header("X-Docker-Token").to_string();
    let id = token
        .strip_prefix("signature=")
        .and_then(|s| s.split('.').next())
        .expect("signature=<id>.<secret>,…")
        .to_string();
    // What the registry does with the client's token before it stores anything.
    let r = call!(
        app,
        TestRequest::get()
            .uri("/v1/repositories/admin/app/images")
            .insert_header(("Authorization", format!("Token {token}")))
    );
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (cookie, _) = login!(app, "admin", ADMIN_PASSWORD);
    let html = call!(app, get("/ui/flows", &cookie)).text();
    let at = html.find(&id).expect("the v1 flow, by its token id");
    let flow = &html[at..];
    let issue = flow.find(r#"data-action="v1.token.issue""#).unwrap();
    let confirm = flow.find(r#"data-action="v1.token.confirm""#).unwrap();
    assert!(issue < confirm, "issue then the registry's check");
}
