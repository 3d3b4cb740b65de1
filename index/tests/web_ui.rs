//! The web UI in-process: session cookie flags, CSRF on every form, 403 on forged posts,
//! personal access tokens at /token and /introspect, the token-flow page, paging.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{basic, token_request, TestIndex, ADMIN_PASSWORD, REGISTRY_SECRET};
use pier_index::services::repositories;

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// `name=value` of the first `Set-Cookie` for `name`, and the whole header line.
fn set_cookie(r: &common::Reply, name: &str) -> (String, String) {
    let line = r
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", r.headers));
    let pair = line.split(';').next().unwrap().to_string();
    (pair, line)
}

/// The first `name="csrf" value="…"` of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

fn post(uri: &str, cookie: &str, form: &[(&str, &str)]) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header(FORM)
        .insert_header(("Cookie", cookie.to_string()))
        .set_payload(serde_urlencoded::to_string(form).unwrap())
}

fn get(uri: &str, cookie: &str) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .insert_header(("Cookie", cookie.to_string()))
}

/// Log in through the form; returns the session cookie pair and the header line.
macro_rules! login {
    ($app:expr, $user:expr, $password:expr) => {{
        let r = call!($app, TestRequest::get().uri("/ui/login"));
        assert_eq!(r.status, StatusCode::OK);
        let (login_cookie, _) = set_cookie(&r, "pier_login");
        let csrf = csrf_of(&r.text());
        let form = [
            ("csrf", csrf.as_str()),
            ("username", $user),
            ("password", $password),
        ];
        let r = call!($app, post("/ui/login", &login_cookie, &form));
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        set_cookie(&r, "pier_session")
    }};
}

/// A page's CSRF token.
macro_rules! csrf {
    ($app:expr, $cookie:expr) => {{
        let r = call!($app, get("/ui/tokens", &$cookie));
        assert_eq!(r.status, StatusCode::OK);
        csrf_of(&r.text())
    }};
}

#[actix_web::test]
async fn session_cookie_is_httponly_samesite_strict_and_pages_need_it() {
    let t = TestIndex::new();
    let app = app!(t);
    let r = call!(app, TestRequest::get().uri("/ui/r/alice/app"));
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location"),
        "/ui/login?next=%2Fui%2Fr%2Falice%2Fapp"
    );
    let (cookie, line) = login!(app, "admin", ADMIN_PASSWORD);
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age=43200"] {
        assert!(line.contains(flag), "{flag} missing from {line}");
    }
    let r = call!(app, get("/ui/", &cookie));
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .header("content-security-policy")
        .contains("frame-ancestors 'none'"));
    assert_eq!(r.header("cache-control"), "no-store");
    // Log out: the cookie is dead afterwards.
    let csrf = csrf!(app, cookie);
    let r = call!(app, post("/ui/logout", &cookie, &[("csrf", &csrf)]));
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        call!(app, get("/ui/", &cookie)).status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn wrong_password_and_forged_login_form_are_refused() {
    let t = TestIndex::new();
    let app = app!(t);
    let r = call!(app, TestRequest::get().uri("/ui/login"));
    let (login_cookie, _) = set_cookie(&r, "pier_login");
    let csrf = csrf_of(&r.text());
    let wrong = [
        ("csrf", csrf.as_str()),
        ("username", "admin"),
        ("password", "nope"),
    ];
    let r = call!(app, post("/ui/login", &login_cookie, &wrong));
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("Wrong user name or password"));
    // No login cookie (a cross-site form): 403 even with the right password.
    let forged = [
        ("csrf", csrf.as_str()),
        ("username", "admin"),
        ("password", ADMIN_PASSWORD),
    ];
    let r = call!(app, post("/ui/login", "other=1", &forged));
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn every_form_needs_the_session_csrf_token() {
    let t = TestIndex::new();
    let app = app!(t);
    let (cookie, _) = login!(app, "admin", ADMIN_PASSWORD);
    let posts: [(&str, Vec<(&str, &str)>); 6] = [
        (
            "/ui/tokens",
            vec![("name", "x"), ("pull", "on"), ("days", "7")],
        ),
        ("/ui/tokens/revoke", vec![("id", "x")]),
        (
            "/ui/actions/delete-repository",
            vec![("repository", "admin/app")],
        ),
        (
            "/ui/actions/visibility",
            vec![("repository", "admin/app"), ("visibility", "public")],
        ),
        ("/ui/actions/org", vec![("name", "acme")]),
        ("/ui/logout", vec![]),
    ];
    for (uri, fields) in posts {
        for bad in ["", "not-the-token"] {
            let mut form = fields.clone();
            form.push(("csrf", bad));
            let r = call!(app, post(uri, &cookie, &form));
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri} with csrf {bad:?}");
        }
    }
    let r = call!(app, get("/ui/tokens", &cookie));
    assert!(
        r.text().contains("No access tokens yet"),
        "a token was created"
    );
    assert_eq!(
        call!(app, get("/ui/namespaces/acme", &cookie)).status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_user_without_rights_sees_no_manage_buttons_and_gets_403_posting_anyway() {
    let t = TestIndex::new();
    let alice = t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    let q = "service=pier-registry&scope=repository:alice/app:push";
    assert_eq!(
        call!(app, token_request(q, Some(("alice", "alice-pw")))).status,
        StatusCode::OK
    );
    repositories::set_visibility(&t.index, Some(&alice), "alice/app", "public")
        .await
        .unwrap();

    let (alice_cookie, _) = login!(app, "alice", "alice-pw");
    let page = call!(app, get("/ui/r/alice/app", &alice_cookie)).text();
    assert!(page.contains("Delete repository") && page.contains("Make private"));

    let (bob_cookie, _) = login!(app, "bob", "bob-pw");
    let r = call!(app, get("/ui/r/alice/app", &bob_cookie));
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(page.contains("alice/app") && page.contains("docker pull"));
    assert!(!page.contains("Delete repository") && !page.contains("Make private"));
    let csrf = csrf_of(&page);
    for (uri, form) in [
        (
            "/ui/actions/delete-repository",
            vec![("repository", "alice/app")],
        ),
        (
            "/ui/actions/visibility",
            vec![("repository", "alice/app"), ("visibility", "private")],
        ),
        (
            "/ui/actions/delete-tag",
            vec![("repository", "alice/app"), ("tag", "v1")],
        ),
    ] {
        let mut form = form;
        form.push(("csrf", &csrf));
        let r = call!(app, post(uri, &bob_cookie, &form));
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}: {}", r.text());
        assert!(r.header("content-type").starts_with("text/html"));
    }
    let still = repositories::get(&t.index, None, "alice/app")
        .await
        .unwrap();
    assert_eq!(still.visibility, "public");
}

fn introspect(token: &str) -> TestRequest {
    TestRequest::post()
        .uri("/introspect")
        .insert_header(basic("registry", REGISTRY_SECRET))
        .insert_header(FORM)
        .set_payload(serde_urlencoded::to_string([("token", token)]).unwrap())
}

#[actix_web::test]
async fn access_tokens_log_in_within_their_scope_and_revoking_ends_their_tokens() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let (cookie, _) = login!(app, "alice", "alice-pw");
    let csrf = csrf!(app, cookie);
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "ci"),
        ("repositories", "alice/app"),
        ("pull", "on"),
        ("days", "30"),
    ];
    let r = call!(app, post("/ui/tokens", &cookie, &form));
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    let at = html.find("pier_pat_").expect("the secret is shown");
    let secret = html[at..].split('<').next().unwrap().to_string();
    // Shown once: the list page does not have it.
    assert!(!call!(app, get("/ui/tokens", &cookie))
        .text()
        .contains(&secret));

    let q = "service=pier-registry&offline_token=true&client_id=docker\
             &scope=repository:alice/app:pull,push&scope=repository:alice/other:pull";
    let r = call!(app, token_request(q, Some(("alice", &secret))));
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["scope"], "repository:alice/app:pull");
    assert!(
        body.get("refresh_token").is_none(),
        "a PAT never yields a refresh token"
    );
    let token = body["token"].as_str().unwrap().to_string();
    let (_, claims) = common::jwt_parts(&token);
    assert!(claims["rti"].as_str().unwrap().starts_with("pat:"));
    assert_eq!(call!(app, introspect(&token)).json()["active"], true);
    // Another user's name with this secret, and the JSON API: no.
    assert_eq!(
        call!(app, token_request(q, Some(("admin", &secret)))).status,
        StatusCode::UNAUTHORIZED
    );
    let api = TestRequest::get()
        .uri("/api/v1/user")
        .insert_header(basic("alice", &secret));
    assert_eq!(call!(app, api).status, StatusCode::UNAUTHORIZED);
    let api = TestRequest::get()
        .uri("/api/v1/user")
        .insert_header(common::bearer(&token));
    assert_eq!(call!(app, api).status, StatusCode::UNAUTHORIZED);
    let bcrypt = t.index.credentials.bcrypt_verifications();
    for _ in 0..3 {
        assert_eq!(
            call!(app, token_request(q, Some(("alice", &secret)))).status,
            StatusCode::OK
        );
    }
    assert_eq!(
        t.index.credentials.bcrypt_verifications(),
        bcrypt,
        "PATs never cost bcrypt"
    );

    // Revoke from the UI: the issued token goes inactive, the secret stops working.
    let html = call!(app, get("/ui/tokens", &cookie)).text();
    let at = html.find(r#"name="id" value=""#).unwrap() + 17;
    let id = html[at..].split('"').next().unwrap().to_string();
    let r = call!(
        app,
        post(
            "/ui/tokens/revoke",
            &cookie,
            &[("csrf", &csrf), ("id", &id)]
        )
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(call!(app, introspect(&token)).json()["active"], false);
    assert_eq!(
        call!(app, token_request(q, Some(("alice", &secret)))).status,
        StatusCode::UNAUTHORIZED
    );
    assert!(call!(app, get("/ui/tokens", &cookie))
        .text()
        .contains("revoked"));
}

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

#[actix_web::test]
async fn ten_thousand_repositories_are_paged_and_searchable() {
    let t = TestIndex::new();
    t.index
        .db
        .run(|c| -> Result<(), pier_index::db::DbError> {
            use pier_index::db::{namespaces, repositories};
            let ns = namespaces::find(c, "admin")?.unwrap();
            c.immediate_transaction(|c| {
                for i in 0..10_000 {
                    repositories::allocate(c, ns.id, &format!("admin/repo-{i:05}"))?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
    let app = app!(t);
    let (cookie, _) = login!(app, "admin", ADMIN_PASSWORD);
    let first = call!(app, get("/ui/", &cookie)).text();
    assert!(first.contains("admin/repo-00000") && first.contains("admin/repo-00049"));
    assert!(!first.contains("admin/repo-00050") && first.contains(r#"rel="next""#));
    let last = call!(app, get("/ui/?page=200", &cookie)).text();
    assert!(last.contains("admin/repo-09999") && !last.contains(r#"rel="next""#));
    let found = call!(app, get("/ui/?q=repo-0423", &cookie)).text();
    assert_eq!(found.matches(r#"class="repo""#).count(), 10);
}

#[actix_web::test]
async fn cookies_are_secure_over_https_and_a_disabled_user_loses_the_session() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    let app = app!(t);
    let https = TestRequest::get()
        .uri("/ui/login")
        .insert_header(("X-Forwarded-Proto", "https"));
    let (_, line) = set_cookie(&call!(app, https), "pier_login");
    assert!(line.ends_with("; Secure"), "{line}");
    let (_, line) = set_cookie(
        &call!(app, TestRequest::get().uri("/ui/login")),
        "pier_login",
    );
    assert!(!line.contains("Secure"), "{line}");

    let (cookie, _) = login!(app, "alice", "alice-pw");
    assert_eq!(call!(app, get("/ui/", &cookie)).status, StatusCode::OK);
    pier_index::services::users::set_disabled(&t.index, "admin", "alice", true)
        .await
        .unwrap();
    let r = call!(app, get("/ui/", &cookie));
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.header("location").starts_with("/ui/login"));
}

#[actix_web::test]
async fn organizations_teams_and_members_by_role() {
    let t = TestIndex::new();
    t.add_user("alice", "alice-pw").await;
    t.add_user("bob", "bob-pw").await;
    let app = app!(t);
    let (alice, _) = login!(app, "alice", "alice-pw");
    let csrf = csrf!(app, alice);
    let r = call!(
        app,
        post(
            "/ui/actions/org",
            &alice,
            &[("csrf", &csrf), ("name", "acme")]
        )
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let team = [
        ("csrf", csrf.as_str()),
        ("namespace", "acme"),
        ("name", "devs"),
        ("role", "write"),
    ];
    assert_eq!(
        call!(app, post("/ui/actions/team", &alice, &team)).status,
        StatusCode::SEE_OTHER
    );
    let add = [
        ("csrf", csrf.as_str()),
        ("namespace", "acme"),
        ("team", "devs"),
        ("user", "bob"),
        ("op", "add"),
    ];
    assert_eq!(
        call!(app, post("/ui/actions/member", &alice, &add)).status,
        StatusCode::SEE_OTHER
    );
    let page = call!(app, get("/ui/namespaces/acme", &alice)).text();
    assert!(page.contains(r#"data-team="devs""#) && page.contains("Add member"));

    // Bob is in the team: he sees it, but no forms, and posting them is 403.
    let (bob, _) = login!(app, "bob", "bob-pw");
    let page = call!(app, get("/ui/namespaces/acme", &bob)).text();
    assert!(page.contains(r#"data-team="devs""#) && page.contains("<li>bob"));
    assert!(!page.contains("Add member") && !page.contains("Create team"));
    let bob_csrf = csrf_of(&page);
    let remove = [
        ("csrf", bob_csrf.as_str()),
        ("namespace", "acme"),
        ("team", "devs"),
        ("user", "bob"),
        ("op", "remove"),
    ];
    assert_eq!(
        call!(app, post("/ui/actions/member", &bob, &remove)).status,
        StatusCode::FORBIDDEN
    );
    let team = [
        ("csrf", bob_csrf.as_str()),
        ("namespace", "acme"),
        ("name", "x"),
        ("role", "admin"),
    ];
    assert_eq!(
        call!(app, post("/ui/actions/team", &bob, &team)).status,
        StatusCode::FORBIDDEN
    );
}
