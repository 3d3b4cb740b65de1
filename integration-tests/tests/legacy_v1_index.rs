//! The legacy v1 index on its own: login check, registration answer, namespaces and
//! the library namespace, image lists, search — and `docker search <index>/<term>`
//! through the real docker engine.

use pier_integration_tests::basic_auth;
use pier_integration_tests::v1::{
    alice, assert_error as assert_v1_error, call, chain, start_with_users as pier_with_alice,
    Client,
};

#[test]
fn index_accounts_namespaces_and_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = pier_with_alice(tmp.path());
    let index = format!("http://{}", pier.index.addr);
    let users = format!("{index}/v1/users/");

    // Login check: 200, 401, 403 for a disabled account; registration is off.
    let ok = call(
        "GET",
        &users,
        &[("Authorization", &basic_auth("alice", "alice-password"))],
        None,
    );
    assert_eq!((ok.status, ok.text().as_str()), (200, "\"OK\""));
    let bad = call(
        "GET",
        &users,
        &[("Authorization", &basic_auth("alice", "nope"))],
        None,
    );
    assert_v1_error(&bad, 401);
    pier.index_cli(&["user", "disable", "bob"], None);
    let off = call(
        "GET",
        &users,
        &[("Authorization", &basic_auth("bob", "bob-password"))],
        None,
    );
    assert_v1_error(&off, 403);
    let body = br#"{"username":"carol","password":"secret1","email":"c@example.com"}"#;
    let r = call(
        "POST",
        &users,
        &[("Content-Type", "application/json")],
        Some(body),
    );
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "\"Username or email already exists\"")
    );

    let imgs = chain(5, &[10]);
    let list = serde_json::to_vec(&serde_json::json!([{"id": imgs[0].id}])).unwrap();
    // Anonymous push: 401; someone else's namespace: 403; library/ is for admins.
    let mut anon = Client::new(&index, None);
    assert_v1_error(
        &anon.index_call("PUT", "/v1/repositories/alice/x/", Some(&list)),
        401,
    );
    pier.add_user("dave", "dave-password");
    let mut dave = Client::new(&index, Some(basic_auth("dave", "dave-password")));
    assert_v1_error(
        &dave.index_call("PUT", "/v1/repositories/alice/x/", Some(&list)),
        403,
    );
    assert_v1_error(
        &dave.index_call("PUT", "/v1/repositories/busybox/", Some(&list)),
        403,
    );
    // Image ids that are not 64 hex characters; a body that is not a list.
    let mut a = alice(&pier);
    let junk = br#"[{"id":"1234"}]"#;
    assert_v1_error(
        &a.index_call("PUT", "/v1/repositories/alice/x/", Some(junk)),
        400,
    );
    assert_v1_error(
        &a.index_call("PUT", "/v1/repositories/alice/x/", Some(b"{}")),
        400,
    );
    // Private by default: others do not see it.
    assert_eq!(
        a.index_call("PUT", "/v1/repositories/alice/x/", Some(&list))
            .status,
        200
    );
    assert_v1_error(
        &dave.index_call("GET", "/v1/repositories/alice/x/images", None),
        404,
    );
    assert_v1_error(
        &anon.index_call("GET", "/v1/repositories/alice/x/images", None),
        401,
    );
    let r = a.index_call("GET", "/v1/repositories/alice/x/images", None);
    assert_eq!(r.json(), serde_json::json!([{"id": imgs[0].id}]));
    // The admin may use library/ (one-component names).
    let mut admin = Client::new(
        &index,
        Some(basic_auth(
            "admin",
            pier_integration_tests::pier::ADMIN_PASSWORD,
        )),
    );
    let r = admin.index_call("PUT", "/v1/repositories/busybox/", Some(&list));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(admin
        .token
        .as_deref()
        .unwrap()
        .contains(r#"repository="library/busybox""#));

    // Search: only what the caller may see.
    let s = call(
        "GET",
        &format!("{index}/v1/search?q=x&n=10"),
        &[("Authorization", &basic_auth("alice", "alice-password"))],
        None,
    );
    assert_eq!(s.status, 200);
    assert_eq!(s.json()["results"][0]["name"], "alice/x");
    assert_eq!(s.json()["num_results"], 1);
    let s = call("GET", &format!("{index}/v1/search?q=x"), &[], None);
    assert_eq!(s.json()["num_results"], 0, "{}", s.text());
    assert_v1_error(
        &call("GET", &format!("{index}/v1/search?q=x&n=abc"), &[], None),
        400,
    );
}

/// `docker search <index-host>/<term>`: the engine pings the index's `/v1/_ping` and asks
/// `/v1/search?q=<term>&n=25`; it decodes and prints what the index answers.
#[test]
fn docker_search_through_the_engine() {
    if !pier_integration_tests::docker_engine_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pier = pier_with_alice(tmp.path());
    let imgs = chain(6, &[10]);
    let list = serde_json::to_vec(&serde_json::json!([{"id": imgs[0].id}])).unwrap();
    let mut a = alice(&pier);
    for name in [
        "alice/searchable-one",
        "alice/searchable-two",
        "alice/other",
    ] {
        let r = a.index_call("PUT", &format!("/v1/repositories/{name}/"), Some(&list));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    pier.index_cli(
        &["repo", "visibility", "alice/searchable-one", "public"],
        None,
    );
    let term = format!("{}/searchable", pier.index.addr);
    let out = pier_integration_tests::run(
        "docker",
        &[
            "search",
            "--no-trunc",
            "--format",
            "{{.Name}}|{{.StarCount}}|{{.IsOfficial}}",
            &term,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "docker search failed: {}\nindex log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        pier.index.log()
    );
    // Anonymous (no docker login for this index): only the public repository.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, ["alice/searchable-one|0|"], "{stdout}");
    assert!(
        pier.index.log().contains("/v1/search"),
        "the engine did not ask the index"
    );
}

/// With `v1.registration` on, `POST /v1/users/` creates accounts; with a 1-second token
/// lifetime, a token not used in time is refused, and the index records why.
#[test]
fn registration_and_token_expiry() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = pier_integration_tests::Pier::start_linked_with(
        tmp.path(),
        0,
        &[
            ("PIER_INDEX_V1_REGISTRATION", "true"),
            ("PIER_INDEX_V1_TOKEN_LIFETIME_SECONDS", "1"),
        ],
    );
    let index = format!("http://{}", pier.index.addr);
    let users = format!("{index}/v1/users/");
    let json = [("Content-Type", "application/json")];
    let body = br#"{"username":"carol","password":"secret1","email":"c@example.com"}"#;
    let r = call("POST", &users, &json, Some(body));
    assert_eq!((r.status, r.text().as_str()), (201, "\"User Created\""));
    let r = call("POST", &users, &json, Some(body));
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "\"Username or email already exists\"")
    );
    assert_v1_error(
        &call(
            "POST",
            &users,
            &json,
            Some(br#"{"username":"Bad Name","password":"secret1"}"#),
        ),
        400,
    );
    assert_v1_error(&call("POST", &users, &json, Some(b"not json")), 400);
    let carol = basic_auth("carol", "secret1");
    assert_eq!(
        call("GET", &users, &[("Authorization", &carol)], None).status,
        200
    );
    // Carol changes her password; the old one no longer works.
    let change = br#"{"password":"secret2"}"#;
    let r = call(
        "PUT",
        &format!("{index}/v1/users/carol/"),
        &[("Authorization", &carol)],
        Some(change),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_v1_error(
        &call("GET", &users, &[("Authorization", &carol)], None),
        401,
    );

    // Her namespace is hers: push allocates; a token left unused past its lifetime fails.
    let mut c = Client::new(&index, Some(basic_auth("carol", "secret2")));
    let imgs = chain(7, &[10]);
    let list = serde_json::to_vec(&serde_json::json!([{"id": imgs[0].id}])).unwrap();
    assert_eq!(
        c.index_call("PUT", "/v1/repositories/carol/app/", Some(&list))
            .status,
        200
    );
    let token = c.token.clone().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let r = c.registry_call("GET", &format!("/v1/images/{}/json", imgs[0].id), &[], None);
    assert_v1_error(&r, 401);
    let jti = token
        .trim_start_matches("signature=")
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let admin = basic_auth("admin", pier_integration_tests::pier::ADMIN_PASSWORD);
    let flow = call(
        "GET",
        &format!("{index}/v1/_pier/flow/{jti}"),
        &[("Authorization", &admin)],
        None,
    );
    let flow = flow.json();
    let refused = flow["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "v1.token.refuse");
    let detail = refused.expect("a v1.token.refuse event")["detail"]
        .as_str()
        .unwrap();
    assert!(detail.ends_with("reason=expired"), "{detail}");
    // The flow endpoint is for site administrators only.
    let r = call(
        "GET",
        &format!("{index}/v1/_pier/flow/{jti}"),
        &[("Authorization", &basic_auth("carol", "secret2"))],
        None,
    );
    assert_v1_error(&r, 403);
}
