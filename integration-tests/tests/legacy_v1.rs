//! The legacy Docker v1 index/registry protocol against the real pier-index and
//! pier-registry binaries, driven exactly as the Docker 1.x daemon did
//! (`shared/specs/legacy-v1-index-registry.md`, "actual client sequence").

use pier_integration_tests::v1::{call, chain, Client, Reply};
use pier_integration_tests::{basic_auth, Pier};

fn pier_with_alice(dir: &std::path::Path) -> Pier {
    let pier = Pier::start_linked(dir, 0);
    pier.add_user("alice", "alice-password");
    pier.add_user("bob", "bob-password");
    pier
}

fn alice(pier: &Pier) -> Client {
    Client::new(
        &format!("http://{}", pier.index.addr),
        Some(basic_auth("alice", "alice-password")),
    )
}

fn admin_flow(pier: &Pier, jti: &str) -> Vec<(String, String)> {
    let url = format!("http://{}/v1/_pier/flow/{jti}", pier.index.addr);
    let admin = basic_auth("admin", pier_integration_tests::pier::ADMIN_PASSWORD);
    let r = call("GET", &url, &[("Authorization", &admin)], None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn token_id(token: &str) -> String {
    let sig = token
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("signature=");
    sig.split('.').next().unwrap().to_string()
}

#[test]
fn push_pull_delete_workflows() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = pier_with_alice(tmp.path());
    let images = chain(1, &[70_000, 1_234, 300_000]);

    // Push: index allocates and hands out a write token; the registry confirms it.
    let mut pusher = alice(&pier);
    pusher.push("alice/app", &images, "latest");
    assert_eq!(pusher.endpoints, std::slice::from_ref(&pier.registry.addr));
    let write = pusher.token.clone().unwrap();
    assert!(
        write.contains(r#"repository="alice/app",access=write"#),
        "{write}"
    );
    let flow = admin_flow(&pier, &token_id(&write));
    let actions: Vec<&str> = flow.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["v1.token.issue", "v1.token.confirm", "v1.images.done"],
        "{flow:?}"
    );
    assert!(
        flow[1]
            .1
            .contains("via=GET /v1/repositories/alice/app/images"),
        "{flow:?}"
    );

    // Pull: identical bytes back, base first.
    let mut puller = alice(&pier);
    let pulled = puller.pull("alice/app", "latest").expect("pull");
    assert_eq!(pulled.len(), 3);
    for ((id, json, layer), want) in pulled.iter().zip(&images) {
        assert_eq!(id, &want.id);
        assert_eq!(json, &want.json);
        assert_eq!(layer, &want.layer, "layer {id} differs");
    }
    let read = puller.token.clone().unwrap();
    assert!(read.ends_with("access=read"), "{read}");
    let tags = puller.registry_call("GET", "/v1/repositories/alice/app/tags", &[], None);
    assert_eq!(tags.json(), serde_json::json!({"latest": images[2].id}));

    // The layers are v2 blobs too: same content-addressed storage.
    let digest = pier_integration_tests::sha256(&images[0].layer);
    let blob = pier.registry_data_path().join("storage/blobs/sha256");
    let hex = digest.trim_start_matches("sha256:");
    assert!(blob.join(&hex[..2]).join(hex).exists());

    // Delete: mark + delete token, the registry deletes after PUT …/auth, then the records.
    let mut deleter = alice(&pier);
    let r = deleter.index_call("DELETE", "/v1/repositories/alice/app/", None);
    assert_eq!(r.status, 202, "{}", r.text());
    let delete = deleter.token.clone().unwrap();
    assert!(delete.ends_with("access=delete"), "{delete}");
    let r = deleter.registry_call("DELETE", "/v1/repositories/alice/app/", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    deleter.token = None;
    let r = deleter.index_call("DELETE", "/v1/repositories/alice/app/", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let flow = admin_flow(&pier, &token_id(&delete));
    let actions: Vec<&str> = flow.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "v1.token.issue",
            "v1.delete",
            "v1.token.confirm",
            "v1.delete"
        ],
        "{flow:?}"
    );
    assert!(
        flow[2]
            .1
            .contains("via=PUT /v1/repositories/alice/app/auth"),
        "{flow:?}"
    );

    // Delete then pull fails: at the index, and at the registry with the old session.
    let mut again = alice(&pier);
    let err = again.pull("alice/app", "latest").unwrap_err();
    assert_eq!(err.status, 404, "{}", err.text());
    let r = puller.registry_call("GET", "/v1/repositories/alice/app/tags/latest", &[], None);
    assert_eq!(r.status, 404, "{}", r.text());
}

fn assert_v1_error(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.text());
    assert!(r.json()["error"].is_string(), "{}", r.text());
}

#[test]
fn bad_input_is_refused_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = pier_with_alice(tmp.path());
    let images = chain(2, &[5_000, 6_000]);
    let mut c = alice(&pier);
    c.push("alice/one", &images, "v1");
    let reg = format!("http://{}", pier.registry.addr);
    let get = |path: &str, auth: Option<&str>| {
        let h: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        call("GET", &format!("{reg}{path}"), &h, None)
    };

    // No token; a forged one; a malformed one.
    let r = get("/v1/repositories/alice/one/tags", None);
    assert_v1_error(&r, 401);
    assert_eq!(r.header("www-authenticate"), Some("Token"));
    let mut pull = alice(&pier);
    pull.index_call("GET", "/v1/repositories/alice/one/images", None);
    let read = pull.token.clone().unwrap();
    let forged = read.replace("signature=", "signature=x");
    let r = get(
        "/v1/repositories/alice/one/tags",
        Some(&format!("Token {forged}")),
    );
    assert_v1_error(&r, 401);
    assert_v1_error(
        &get("/v1/repositories/alice/one/tags", Some("Token nonsense")),
        401,
    );

    // A token for alice/one used on alice/two; then the same token used, and replayed
    // without the session cookie.
    let token = format!("Token {read}");
    assert_v1_error(&get("/v1/repositories/alice/two/tags", Some(&token)), 401);
    let r = get("/v1/repositories/alice/one/tags", Some(&token));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("set-cookie").is_some());
    assert_v1_error(&get("/v1/repositories/alice/one/tags", Some(&token)), 401);

    // A write token used for a delete; a read token used for a write.
    let mut w = alice(&pier);
    let body = serde_json::to_vec(&serde_json::json!([{"id": images[0].id}])).unwrap();
    w.index_call("PUT", "/v1/repositories/alice/one/", Some(&body));
    let write = format!("Token {}", w.token.clone().unwrap());
    let r = call(
        "DELETE",
        &format!("{reg}/v1/repositories/alice/one/"),
        &[("Authorization", &write)],
        None,
    );
    assert_v1_error(&r, 401);
    let mut p2 = alice(&pier);
    p2.index_call("GET", "/v1/repositories/alice/one/images", None);
    let r = p2.registry_call(
        "PUT",
        "/v1/repositories/alice/one/tags/x",
        &[],
        Some(b"\"x\""),
    );
    assert_v1_error(&r, 401);

    // Push-side input checks, with a fresh write session.
    let extra = chain(3, &[100, 100]);
    let mut bad = alice(&pier);
    let list: Vec<_> = extra
        .iter()
        .map(|i| serde_json::json!({"id": i.id}))
        .collect();
    let r = bad.index_call(
        "PUT",
        "/v1/repositories/alice/one/",
        Some(&serde_json::to_vec(&list).unwrap()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let j = |id: &str| format!("/v1/images/{id}/json");
    // Not 64 hex characters.
    assert_v1_error(&bad.registry_call("PUT", &j("abc"), &[], Some(b"{}")), 400);
    assert_v1_error(
        &bad.registry_call("GET", &j(&"Z".repeat(64)), &[], None),
        400,
    );
    // Json whose id is not the path's; not an object.
    assert_v1_error(
        &bad.registry_call("PUT", &j(&extra[0].id), &[], Some(&images[0].json)),
        400,
    );
    assert_v1_error(
        &bad.registry_call("PUT", &j(&extra[0].id), &[], Some(b"[1]")),
        400,
    );
    // An image not in the index's list for the repository.
    let stranger = chain(4, &[10]);
    assert_v1_error(
        &bad.registry_call("PUT", &j(&stranger[0].id), &[], Some(&stranger[0].json)),
        403,
    );
    // An image that is already complete (the list only ever grows: it is still in it).
    assert_v1_error(
        &bad.registry_call("PUT", &j(&images[0].id), &[], Some(&images[0].json)),
        409,
    );
    // Layer before json; checksum mismatch leaves the image invisible.
    let i = &extra[0];
    let r = bad.registry_call(
        "PUT",
        &format!("/v1/images/{}/layer", i.id),
        &[],
        Some(&i.layer),
    );
    assert_v1_error(&r, 404);
    assert_eq!(
        bad.registry_call("PUT", &j(&i.id), &[], Some(&i.json))
            .status,
        200
    );
    assert_eq!(
        bad.registry_call(
            "PUT",
            &format!("/v1/images/{}/layer", i.id),
            &[],
            Some(&i.layer)
        )
        .status,
        200
    );
    let r = bad.registry_call(
        "PUT",
        &format!("/v1/images/{}/checksum", i.id),
        &[],
        Some(b""),
    );
    assert_v1_error(&r, 412);
    let wrong = [("X-Docker-Checksum-Payload", "sha256:0000")];
    let r = bad.registry_call(
        "PUT",
        &format!("/v1/images/{}/checksum", i.id),
        &wrong,
        Some(b""),
    );
    assert_v1_error(&r, 400);
    assert_v1_error(&bad.registry_call("GET", &j(&i.id), &[], None), 404);
    assert_v1_error(
        &bad.registry_call("GET", &format!("/v1/images/{}/layer", i.id), &[], None),
        404,
    );
    // A tag on an image that is not complete, and tag bodies that are not a JSON string.
    let t = "/v1/repositories/alice/one/tags/broken";
    assert_v1_error(
        &bad.registry_call("PUT", t, &[], Some(format!("\"{}\"", i.id).as_bytes())),
        404,
    );
    assert_v1_error(
        &bad.registry_call("PUT", t, &[], Some(i.id.as_bytes())),
        400,
    );
    assert_v1_error(&bad.registry_call("PUT", t, &[], Some(b"{\"id\":1}")), 400);
    assert_v1_error(
        &bad.registry_call(
            "PUT",
            "/v1/repositories/alice/one/tags/-x",
            &[],
            Some(b"\"a\""),
        ),
        400,
    );
    // The right checksum then makes it servable; a second push of it is a 409.
    let right = i.payload_checksum();
    let ok = [("X-Docker-Checksum-Payload", right.as_str())];
    let r = bad.registry_call(
        "PUT",
        &format!("/v1/images/{}/checksum", i.id),
        &ok,
        Some(b""),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_v1_error(
        &bad.registry_call("PUT", &j(&i.id), &[], Some(&i.json)),
        409,
    );
    // Nothing half-written is visible: the tags are what the good push made.
    let mut reader = alice(&pier);
    let pulled = reader.pull("alice/one", "v1").expect("pull");
    assert_eq!(pulled.last().unwrap().2, images[1].layer);
    let tags = reader.registry_call("GET", "/v1/repositories/alice/one/tags", &[], None);
    assert_eq!(tags.json(), serde_json::json!({"v1": images[1].id}));

    // Range on a layer.
    let r = reader.registry_call(
        "GET",
        &format!("/v1/images/{}/layer", images[0].id),
        &[("Range", "bytes=10-19")],
        None,
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body, images[0].layer[10..20]);
    assert_eq!(r.header("content-range"), Some("bytes 10-19/5000"));
    let r = reader.registry_call(
        "GET",
        &format!("/v1/images/{}/layer", images[0].id),
        &[("Range", "bytes=9000-")],
        None,
    );
    assert_v1_error(&r, 416);
}

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

fn engine_available() -> bool {
    if std::env::var("PIER_TEST_NO_DOCKER").as_deref() == Ok("1") {
        eprintln!("PIER_TEST_NO_DOCKER=1: docker engine test skipped on request");
        return false;
    }
    pier_integration_tests::require_tool("docker");
    let info = pier_integration_tests::run("docker", &["info", "--format", "{{.ServerVersion}}"]);
    assert!(
        info.status.success(),
        "no docker engine is reachable ({}); start one or set PIER_TEST_NO_DOCKER=1",
        String::from_utf8_lossy(&info.stderr).trim()
    );
    true
}

/// `docker search <index-host>/<term>`: the engine pings the index's `/v1/_ping` and asks
/// `/v1/search?q=<term>&n=25`; it decodes and prints what the index answers.
#[test]
fn docker_search_through_the_engine() {
    if !engine_available() {
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

/// The step lines of a walkthrough, with what changes from run to run replaced by
/// placeholders: `<index>`, `<registry>`, `<repo>`, `<id>` (64 hex), `<uuid>`.
fn normalized_steps(out: &str, pier: &Pier, repo: &str) -> Vec<String> {
    let hex64 = regex_lite_hex64();
    out.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|l| {
            let l = l
                .replace(&pier.index.addr, "<index>")
                .replace(&pier.registry.addr, "<registry>")
                .replace(repo, "<repo>");
            hex64(&l)
        })
        .collect()
}

/// Replace runs of 64 hex characters by `<id>`, and UUIDs by `<uuid>`.
fn regex_lite_hex64() -> impl Fn(&str) -> String {
    |s: &str| {
        let mut out = String::new();
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let hex_run = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit() || **c == '-')
                .count();
            let run: String = chars[i..i + hex_run].iter().collect();
            let is_uuid = run.len() == 36 && run.matches('-').count() == 4;
            let is_id = run.len() >= 64 && !run.contains('-');
            if is_uuid {
                out.push_str("<uuid>");
                i += hex_run;
            } else if is_id {
                out.push_str("<id>");
                i += hex_run;
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        out
    }
}

/// The step lists docs/token-flow.md shows, by workflow (`v1 push`, `v2 pull`, …).
fn documented_steps(workflow: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/token-flow.md"
    ))
    .expect("docs/token-flow.md");
    let marker = format!("<!-- walkthrough: {workflow} -->");
    // Missing: an empty list, so that the failure shows the block to write.
    let block = doc
        .split(&marker)
        .nth(1)
        .and_then(|after| after.split("```text\n").nth(1))
        .and_then(|b| b.split("```").next())
        .unwrap_or("");
    block.lines().map(str::to_string).collect()
}

fn walkthrough(pier: &Pier, args: &[&str]) -> String {
    let bin = pier_integration_tests::server::binary("pier");
    let out = std::process::Command::new(bin)
        .arg("walkthrough")
        .args(args)
        .args(["--index", &format!("http://{}", pier.index.addr)])
        .args(["--registry", &format!("http://{}", pier.registry.addr)])
        .args(["--user", "alice", "--password", "alice-password"])
        .args([
            "--admin-password",
            pier_integration_tests::pier::ADMIN_PASSWORD,
        ])
        .env("PIER_LOG", "warn")
        .output()
        .expect("run pier walkthrough");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pier walkthrough {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `pier walkthrough` performs each workflow and prints every step, including the
/// registry → index confirmations; docs/token-flow.md shows exactly those steps.
#[test]
fn walkthrough_matches_the_documented_flows() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = pier_with_alice(tmp.path());
    let mut mismatches = Vec::new();
    for (repo, mode) in [("alice/walk", None), ("alice/walk2", Some("--v2"))] {
        for workflow in ["push", "pull", "delete"] {
            let mut args = vec![workflow, "--repository", repo];
            args.extend(mode);
            let out = walkthrough(&pier, &args);
            let got = normalized_steps(&out, &pier, repo);
            let name = format!("{} {workflow}", if mode.is_some() { "v2" } else { "v1" });
            // The hidden registry → index step is shown, read back from the index.
            assert!(
                got.iter()
                    .any(|l| l.contains("registry → index") || l.contains("index → registry")),
                "{name}: no confirmation step\n{out}"
            );
            if got != documented_steps(&name) {
                mismatches.push(format!(
                    "<!-- walkthrough: {name} -->\n```text\n{}\n```\nfull output:\n{out}",
                    got.join("\n")
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "docs/token-flow.md differs from a real run:\n{}",
        mismatches.join("\n")
    );
}
