//! The pull-through mirror (docs/mirror.md) against a real upstream: another registry
//! served over HTTP on 127.0.0.1, filled through its own in-process API.

use super::common::*;
use pier_registry::config::{MirrorConfig, UpstreamConfig};
use pier_registry::RegistryConfig;

/// An upstream registry: its data, an in-process API to fill it, and the same registry
/// served over HTTP (two processes' worth of `Registry` on one database, like replicas).
struct Upstream {
    _env: Env,
    api: Api,
    url: String,
    handle: actix_web::dev::ServerHandle,
}

impl Upstream {
    async fn start() -> Upstream {
        let env = Env::new();
        let api = env.api().await;
        let mut c = env.config();
        c.http.listen = "127.0.0.1:0".into();
        c.http.workers = 1;
        c.gc.interval_seconds = 0;
        let (server, addr) = pier_registry::server::bind(c).expect("bind upstream");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Upstream {
            _env: env,
            api,
            url: format!("http://{addr}"),
            handle,
        }
    }

    async fn stop(&self) {
        self.handle.stop(false).await;
        // Until it answers no more (a kept-alive connection may outlive the stop briefly).
        let client = awc::Client::default();
        for _ in 0..100 {
            if client
                .get(format!("{}/v2/", self.url))
                .send()
                .await
                .is_err()
            {
                return;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("upstream still answers after stop");
    }
}

fn mirror_config(env: &Env, url: &str, tag_ttl_seconds: u64) -> RegistryConfig {
    let mut c = env.config();
    c.gc.interval_seconds = 0;
    c.mirror = MirrorConfig {
        default: "hub".into(),
        max_bytes: 0,
        upstreams: vec![UpstreamConfig {
            prefix: "hub".into(),
            url: url.into(),
            tag_ttl_seconds,
            ns: vec!["docker.io".into()],
            public: true,
            timeout_seconds: 5,
            ..Default::default()
        }],
    };
    c.validate().expect("valid mirror config");
    c
}

async fn mirror(url: &str, ttl: u64) -> (Env, Api) {
    let env = Env::new();
    let api = env.api_with(mirror_config(&env, url, ttl)).await;
    (env, api)
}

/// The counts the mirror reports for `name`.
async fn counts(api: &Api, name: &str) -> (i64, i64) {
    let res = api.get("/pier/v1/mirror/repositories").await;
    res.expect(200);
    let list = res.json();
    let row = list["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {list}"))
        .clone();
    (
        row["hits"].as_i64().expect("hits"),
        row["misses"].as_i64().expect("misses"),
    )
}

#[actix_web::test]
async fn pulls_through_and_serves_from_the_cache_once_the_upstream_is_gone() {
    let up = Upstream::start().await;
    let img = push_image(&up.api, "library/alpine", "3", "alpine").await;
    let (_, config, layer) = image("alpine");
    let (_env, api) = mirror(&up.url, 300).await;

    let res = api.get("/v2/hub/library/alpine/manifests/3").await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), img.bytes.as_slice());
    assert_eq!(res.header(DIGEST), Some(img.digest.as_str()));
    assert_eq!(res.header("Content-Type"), Some(OCI_MANIFEST));
    for blob in [&config, &layer] {
        let res = api
            .get(&format!("/v2/hub/library/alpine/blobs/{}", sha256(blob)))
            .await;
        res.expect(200);
        assert_eq!(res.body.as_ref(), blob.as_slice());
    }
    // HEAD of a cached blob: from the cache, with its size.
    let res = api
        .head(&format!("/v2/hub/library/alpine/blobs/{}", sha256(&layer)))
        .await;
    res.expect(200);
    assert_eq!(res.content_length(), Some(layer.len() as u64));

    up.stop().await;
    let res = api.get("/v2/hub/library/alpine/manifests/3").await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), img.bytes.as_slice());
    let res = api
        .get(&format!("/v2/hub/library/alpine/blobs/{}", sha256(&layer)))
        .await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), layer.as_slice());
    // By digest too, and the tag list of the cache.
    api.get(&format!("/v2/hub/library/alpine/manifests/{}", img.digest))
        .await
        .expect(200);
    let tags = api.get("/v2/hub/library/alpine/tags/list").await;
    tags.expect(200);
    assert_eq!(tags.json()["tags"], serde_json::json!(["3"]));
    assert!(tags.header("Warning").is_some(), "cached tags are stale");

    // Nothing cached and the upstream gone: a clear error naming it.
    let msg = api
        .get("/v2/hub/library/busybox/manifests/1")
        .await
        .expect_error(503, "UNAVAILABLE");
    assert!(
        msg.contains("upstream hub") && msg.contains(&up.url),
        "{msg}"
    );

    let (hits, misses) = counts(&api, "hub/library/alpine").await;
    // Misses: the manifest and the two blobs; hits: the rest.
    assert_eq!(misses, 3, "hits {hits}");
    assert!(hits >= 4, "hits {hits}");
}

#[actix_web::test]
async fn default_and_ns_map_names_no_local_namespace_owns() {
    let up = Upstream::start().await;
    let img = push_image(&up.api, "library/alpine", "3", "alpine").await;
    let (_env, api) = mirror(&up.url, 300).await;

    // docker's registry-mirrors: `library/alpine` goes to the default upstream.
    let res = api.get("/v2/library/alpine/manifests/3").await;
    res.expect(200);
    assert_eq!(res.header(DIGEST), Some(img.digest.as_str()));
    // containerd's ?ns=docker.io picks the upstream listing it.
    let res = api.get("/v2/library/alpine/manifests/3?ns=docker.io").await;
    res.expect(200);
    assert_eq!(res.header(DIGEST), Some(img.digest.as_str()));
    // Both are the one cache, hub/library/alpine.
    api.get("/v2/hub/library/alpine/manifests/3")
        .await
        .expect(200);
    // The tag list is the upstream's, under the name asked.
    push_image(&up.api, "library/alpine", "edge", "edge").await;
    let tags = api.get("/v2/library/alpine/tags/list").await;
    tags.expect(200);
    assert_eq!(tags.json()["name"], "library/alpine");
    assert_eq!(tags.json()["tags"], serde_json::json!(["3", "edge"]));
    let page = api.get("/v2/library/alpine/tags/list?n=1").await;
    assert_eq!(page.json()["tags"], serde_json::json!(["3"]));
    assert_eq!(
        page.header("Link"),
        Some("</v2/library/alpine/tags/list?n=1&last=3>; rel=\"next\"")
    );

    // Once a local repository lives under `mine/`, that namespace is not the mirror's.
    push_image(&api, "mine/app", "1", "mine").await;
    api.get("/v2/mine/app/manifests/1").await.expect(200);
    push_image(&up.api, "mine/other", "1", "upstream-only").await;
    api.get("/v2/mine/other/manifests/1")
        .await
        .expect_error(404, "NAME_UNKNOWN");
    up.stop().await;
}

#[actix_web::test]
async fn mirrored_repositories_are_read_only_but_cached_content_can_be_deleted() {
    let up = Upstream::start().await;
    let img = push_image(&up.api, "library/alpine", "3", "alpine").await;
    let (_env, api) = mirror(&up.url, 300).await;
    let msg = api
        .post("/v2/hub/library/alpine/blobs/uploads/", Vec::new())
        .await
        .expect_error(405, "UNSUPPORTED");
    assert!(msg.contains("read-only"), "{msg}");
    let (bytes, _, _) = image("other");
    put_manifest(&api, "hub/library/alpine", "evil", OCI_MANIFEST, &bytes)
        .await
        .expect_error(405, "UNSUPPORTED");
    api.send(req(
        actix_web::http::Method::PATCH,
        "/v2/library/alpine/blobs/uploads/x?ns=docker.io",
    ))
    .await
    .expect_error(405, "UNSUPPORTED");

    api.get("/v2/hub/library/alpine/manifests/3")
        .await
        .expect(200);
    api.delete(&format!("/v2/hub/library/alpine/manifests/{}", img.digest))
        .await
        .expect(202);
    // Gone from the cache: with the upstream away, nothing to serve.
    up.stop().await;
    api.get(&format!("/v2/hub/library/alpine/manifests/{}", img.digest))
        .await
        .expect_error(503, "UNAVAILABLE");
}

#[actix_web::test]
async fn tags_are_rechecked_after_their_ttl_and_served_stale_when_the_upstream_fails() {
    let up = Upstream::start().await;
    let first = push_image(&up.api, "library/app", "latest", "one").await;
    let (_env, api) = mirror(&up.url, 0).await;
    let res = api.get("/v2/hub/library/app/manifests/latest").await;
    assert_eq!(res.header(DIGEST), Some(first.digest.as_str()));

    // The upstream moves the tag; with a TTL of 0 the next pull sees it.
    let second = push_image(&up.api, "library/app", "latest", "two").await;
    let res = api.get("/v2/hub/library/app/manifests/latest").await;
    res.expect(200);
    assert_eq!(res.header(DIGEST), Some(second.digest.as_str()));
    assert_eq!(res.header("Warning"), None);

    // The tag deleted upstream: gone here too.
    up.api
        .delete("/v2/library/app/manifests/latest")
        .await
        .expect(202);
    api.get("/v2/hub/library/app/manifests/latest")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    // Content by digest stays.
    api.get(&format!("/v2/hub/library/app/manifests/{}", second.digest))
        .await
        .expect(200);

    // Upstream down: the cached tag with a Warning.
    push_image(&up.api, "library/app", "stable", "two").await;
    api.get("/v2/hub/library/app/manifests/stable")
        .await
        .expect(200);
    up.stop().await;
    let res = api.get("/v2/hub/library/app/manifests/stable").await;
    res.expect(200);
    assert_eq!(res.header(DIGEST), Some(second.digest.as_str()));
    let warning = res.header("Warning").expect("a Warning header");
    assert!(
        warning.starts_with("110 - \"Response is stale: upstream hub"),
        "{warning}"
    );
}

#[actix_web::test]
async fn concurrent_pulls_of_an_uncached_blob_share_one_fetch() {
    let up = Upstream::start().await;
    let big = bytes(8 << 20, 7);
    let config = b"{\"big\":true}".to_vec();
    push_blob(&up.api, "library/big", &big).await;
    push_blob(&up.api, "library/big", &config).await;
    let manifest = manifest_of(&config, &big);
    push_manifest(&up.api, "library/big", "1", OCI_MANIFEST, &manifest).await;
    let (_env, api) = mirror(&up.url, 300).await;
    api.get("/v2/hub/library/big/manifests/1").await.expect(200);

    let uri = format!("/v2/hub/library/big/blobs/{}", sha256(&big));
    let pulls = (0..10).map(|_| api.get(&uri));
    let results = futures_util::future::join_all(pulls).await;
    for r in &results {
        r.expect(200);
        assert_eq!(r.body.len(), big.len());
        assert!(r.body.as_ref() == big.as_slice(), "bytes differ");
    }
    let (hits, misses) = counts(&api, "hub/library/big").await;
    // One miss for the manifest, one for the blob: the other nine joined its fetch.
    assert_eq!((hits, misses), (9, 2));
    up.stop().await;
}

#[actix_web::test]
async fn fsck_accepts_a_cache_whose_blobs_are_not_fetched_yet() {
    let up = Upstream::start().await;
    push_image(&up.api, "library/alpine", "3", "alpine").await;
    let (_env, api) = mirror(&up.url, 300).await;
    api.get("/v2/hub/library/alpine/manifests/3")
        .await
        .expect(200);
    let report = pier_registry::fsck::run(&api.reg, false)
        .await
        .expect("fsck runs");
    assert!(report.clean(), "{}", report.human());
    up.stop().await;
}

#[actix_web::test]
async fn max_bytes_drops_the_least_recently_pulled_images() {
    let up = Upstream::start().await;
    let mut images = Vec::new();
    for (i, tag) in ["a", "b", "c"].iter().enumerate() {
        let layer = bytes(100_000, i as u8 + 1);
        let config = format!("{{\"n\":{i}}}").into_bytes();
        push_blob(&up.api, "library/big", &layer).await;
        push_blob(&up.api, "library/big", &config).await;
        let m = manifest_of(&config, &layer);
        let digest = push_manifest(&up.api, "library/big", tag, OCI_MANIFEST, &m).await;
        images.push((tag, digest, layer, config));
    }
    let env = Env::new();
    let mut c = mirror_config(&env, &up.url, 300);
    c.mirror.max_bytes = 250_000;
    let api = env.api_with(c).await;
    // Pull all three (a first), then a again: b is the least recently pulled.
    for (tag, _, layer, config) in images.iter().chain(images.iter().take(1)) {
        api.get(&format!("/v2/hub/library/big/manifests/{tag}"))
            .await
            .expect(200);
        for blob in [layer, config] {
            api.get(&format!("/v2/hub/library/big/blobs/{}", sha256(blob)))
                .await
                .expect(200);
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let evicted = pier_registry::mirror::evict::run(&api.reg).await.unwrap();
    assert_eq!(evicted.manifests, 1, "{evicted:?}");
    assert!(evicted.bytes <= 250_000, "{evicted:?}");
    up.stop().await;
    // b is gone from the cache (the upstream is down: nothing to fetch it from) ...
    api.get(&format!("/v2/hub/library/big/manifests/{}", images[1].1))
        .await
        .expect_error(503, "UNAVAILABLE");
    // ... a and c stay.
    for i in [0, 2] {
        api.get(&format!("/v2/hub/library/big/manifests/{}", images[i].1))
            .await
            .expect(200);
    }
}

#[actix_web::test]
async fn a_push_to_a_new_namespace_does_not_ask_the_default_upstream() {
    let up = Upstream::start().await;
    push_image(&up.api, "library/alpine", "3", "alpine").await;
    let (_env, api) = mirror(&up.url, 300).await;
    up.stop().await;
    // A client's push starts with HEAD of its blobs: 404 from here, not the upstream's 503.
    let (_, config, _) = image("newteam");
    api.head(&format!("/v2/newteam/app/blobs/{}", sha256(&config)))
        .await
        .expect(404);
    push_image(&api, "newteam/app", "1", "newteam").await;
    api.get("/v2/newteam/app/manifests/1").await.expect(200);
    // A pull through the default still asks the upstream (down: the clear error).
    api.get("/v2/library/alpine/manifests/3")
        .await
        .expect_error(503, "UNAVAILABLE");
}
