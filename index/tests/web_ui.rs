//! The web UI in-process: session cookie flags, CSRF on every form, 403 on forged posts,
//! personal access tokens at /token and /introspect, paging (the token-flow page:
//! `web_flows.rs`).

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::web::{csrf_of, get, post, set_cookie};
use common::{basic, introspect, token_request, TestIndex, ADMIN_PASSWORD};
use pier_index::services::repositories;

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
async fn ten_thousand_repositories_are_paged_and_searchable() {
    let t = TestIndex::new();
    t.index
        .db
        .transaction(|c| -> Result<(), pier_index::db::DbError> {
            use pier_index::db::{namespaces, repositories};
            let ns = namespaces::find(c, "admin")?.unwrap();
            for i in 0..10_000 {
                repositories::allocate(c, ns.id, &format!("admin/repo-{i:05}"))?;
            }
            Ok(())
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
