//! Repository names: the grammar, the length limit, and that no name (encoded or not)
//! reaches outside the registry's directory.
//!
//! `TestRequest::with_uri` keeps the path as written (`..` and `%2e` included): if anything
//! normalised it, `/v2/a/../b/…` would reach repository `b` and these tests would see
//! NAME_UNKNOWN or success instead of NAME_INVALID.

use crate::common::*;
use actix_web::http::Method;

fn bad_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "UPPER",
        "a//b",
        "%2e%2e",
        "..",
        "a/../b",
        "../../etc",
        "a/./b",
        "%2e%2e/%2e%2e/etc",
        "a%2Fb",
        "a%2F..%2F..%2Fb",
        ".hidden",
        "a-",
        "a___b",
        "a%00b",
        "a:b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.push("a".repeat(256));
    names.push(format!("{}/{}", "a".repeat(200), "b".repeat(55)));
    names
}

#[actix_web::test]
async fn invalid_names_are_400_name_invalid_on_every_endpoint() {
    let env = Env::new();
    let api = env.api().await;
    // A real repository next to the bad names, so that a normalised path would find it.
    let img = push_image(&api, "b", "latest", "b").await;
    let blob = sha256(b"layer of b");
    let id = uuid::Uuid::new_v4();
    for name in bad_names() {
        let uris = [
            (Method::GET, format!("/v2/{name}/tags/list")),
            (Method::GET, format!("/v2/{name}/manifests/latest")),
            (Method::HEAD, format!("/v2/{name}/manifests/{}", img.digest)),
            (Method::PUT, format!("/v2/{name}/manifests/latest")),
            (Method::DELETE, format!("/v2/{name}/manifests/latest")),
            (Method::GET, format!("/v2/{name}/blobs/{blob}")),
            (Method::DELETE, format!("/v2/{name}/blobs/{blob}")),
            (Method::POST, format!("/v2/{name}/blobs/uploads/")),
            (
                Method::POST,
                format!("/v2/{name}/blobs/uploads/?digest={blob}"),
            ),
            (
                Method::POST,
                format!("/v2/{name}/blobs/uploads/?mount={blob}&from=b"),
            ),
            (Method::GET, format!("/v2/{name}/blobs/uploads/{id}")),
            (Method::PATCH, format!("/v2/{name}/blobs/uploads/{id}")),
            (Method::GET, format!("/v2/{name}/referrers/{}", img.digest)),
        ];
        for (m, uri) in uris {
            let r = req(m.clone(), &uri).set_payload(&b"layer of b"[..]);
            let res = api.send(r).await;
            res.expect_error(400, "NAME_INVALID");
        }
    }
    // Nothing was created: no repository, and nothing but the registry's own files.
    assert_eq!(
        api.get("/v2/_catalog").await.json()["repositories"],
        serde_json::json!(["b"])
    );
    assert_eq!(entries(env.outer()), ["registry"]);
    let own = [
        "metadata.db",
        "metadata.db-shm",
        "metadata.db-wal",
        "metadata.db.postgres-url",
        "storage",
    ];
    for e in entries(&env.root()) {
        assert!(
            own.contains(&e.as_str()),
            "unexpected {e} in the registry directory"
        );
    }
    for f in api.stored_all().await {
        assert!(
            f.starts_with("blobs/sha256/"),
            "unexpected file {f} in storage"
        );
    }
}

#[actix_web::test]
async fn names_up_to_255_characters_are_valid() {
    let (_env, api) = start().await;
    let long = format!("{}/{}", "a".repeat(200), "b".repeat(54));
    assert_eq!(long.len(), 255);
    for name in [
        long.as_str(),
        "a",
        "lib/alpine",
        "a/b/c/d/e",
        "my-app",
        "my--app",
        "a.b_c__d",
        "0/1",
    ] {
        let img = push_image(&api, name, "latest", name).await;
        let res = api.get(&format!("/v2/{name}/manifests/latest")).await;
        res.expect(200);
        assert_eq!(res.header(DIGEST), Some(img.digest.as_str()));
        assert_eq!(
            api.get(&format!("/v2/{name}/tags/list")).await.json()["name"],
            name
        );
    }
}

#[actix_web::test]
async fn endpoint_words_are_valid_repository_names() {
    let (_env, api) = start().await;
    for name in [
        "blobs",
        "manifests",
        "tags",
        "uploads",
        "v2",
        "a/blobs/uploads",
        "referrers",
    ] {
        push_image(&api, name, "list", name).await;
        api.get(&format!("/v2/{name}/manifests/list"))
            .await
            .expect(200);
        let res = api.get(&format!("/v2/{name}/tags/list")).await;
        assert_eq!(res.json()["tags"], serde_json::json!(["list"]), "{name}");
    }
}
