//! The legacy Docker v1 index/registry protocol against the real pier-index and
//! pier-registry binaries, driven exactly as the Docker 1.x daemon did
//! (`shared/specs/legacy-v1-index-registry.md`, "actual client sequence"): the three
//! workflows, and every bad-input case.

use pier_integration_tests::v1::{
    alice, assert_error as assert_v1_error, call, chain, start_with_users as pier_with_alice,
};
use pier_integration_tests::{basic_auth, Pier};

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
    let stored = pier_integration_tests::stored::Stored::of(&pier.registry_data_path());
    assert_eq!(
        stored.blob_size(&digest),
        Some(images[0].layer.len() as u64)
    );

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
    // The index, asked directly, refuses it for a delete too (and does not use it up).
    let auth_url = format!("http://{}/v1/repositories/alice/one/auth", pier.index.addr);
    assert_v1_error(
        &call("PUT", &auth_url, &[("Authorization", &write)], None),
        401,
    );
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
    // A JSON body over `limits.json_max_bytes` (1 MiB): 413, for image json and tags.
    let huge = vec![b' '; 1024 * 1024 + 1];
    assert_v1_error(
        &bad.registry_call("PUT", &j(&extra[0].id), &[], Some(&huge)),
        413,
    );
    let tag = "/v1/repositories/alice/one/tags/big";
    assert_v1_error(&bad.registry_call("PUT", tag, &[], Some(&huge)), 413);
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
