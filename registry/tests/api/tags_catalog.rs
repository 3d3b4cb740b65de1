//! `GET /v2/<name>/tags/list` and `GET /v2/_catalog`: sorted, paged with `n`/`last` and
//! `Link: <…>; rel="next"`.

use crate::common::*;
use serde_json::{json, Value};

/// The URI in a `Link: <uri>; rel="next"` header.
#[track_caller]
fn next_link(res: &Res) -> Option<String> {
    let link = res.header("link")?;
    let uri = link
        .strip_prefix('<')
        .and_then(|l| l.strip_suffix(">; rel=\"next\""))
        .unwrap_or_else(|| panic!("malformed Link header {link:?}"));
    Some(uri.to_string())
}

/// Follow `Link` headers from `first`; returns each page's items.
async fn pages(api: &Api, first: &str, key: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut uri = Some(first.to_string());
    while let Some(u) = uri {
        let res = api.get(&u).await;
        res.expect(200);
        assert_eq!(res.header("content-type"), Some("application/json"));
        let items: Vec<String> = serde_json::from_value(res.json()[key].clone()).unwrap();
        out.push(items);
        uri = next_link(&res);
        assert!(out.len() < 100, "Link headers loop");
    }
    out
}

#[actix_web::test]
async fn tags_are_listed_sorted() {
    let (_env, api) = start().await;
    let img = push_image(&api, "lib/a", "v2", "x").await;
    for t in ["v10", "B", "a", "latest", "1.0"] {
        push_manifest(&api, "lib/a", t, OCI_MANIFEST, &img.bytes).await;
    }
    let res = api.get("/v2/lib/a/tags/list").await;
    res.expect(200);
    assert_eq!(res.header("link"), None);
    assert_eq!(
        res.json(),
        json!({"name": "lib/a", "tags": ["1.0", "B", "a", "latest", "v10", "v2"]})
    );
}

#[actix_web::test]
async fn tags_are_paged_with_link_headers() {
    let (_env, api) = start().await;
    let img = push_image(&api, "a", "t1", "x").await;
    for t in ["t2", "t3", "t4", "t5"] {
        push_manifest(&api, "a", t, OCI_MANIFEST, &img.bytes).await;
    }
    let res = api.get("/v2/a/tags/list?n=2").await;
    assert_eq!(res.json(), json!({"name": "a", "tags": ["t1", "t2"]}));
    assert_eq!(
        res.header("link"),
        Some(r#"</v2/a/tags/list?n=2&last=t2>; rel="next""#)
    );
    let all = pages(&api, "/v2/a/tags/list?n=2", "tags").await;
    assert_eq!(all, [vec!["t1", "t2"], vec!["t3", "t4"], vec!["t5"]]);
    // An exact fit has no next page.
    let res = api.get("/v2/a/tags/list?n=5").await;
    assert_eq!(res.json()["tags"].as_array().map(Vec::len), Some(5));
    assert_eq!(res.header("link"), None);
    // `last` alone, and `last` past the end.
    assert_eq!(
        api.get("/v2/a/tags/list?last=t3").await.json()["tags"],
        json!(["t4", "t5"])
    );
    assert_eq!(
        api.get("/v2/a/tags/list?n=2&last=t5").await.json()["tags"],
        json!([])
    );
    assert_eq!(
        api.get("/v2/a/tags/list?last=a").await.json()["tags"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
}

#[actix_web::test]
async fn tags_n_zero_and_invalid_n() {
    let (_env, api) = start().await;
    push_image(&api, "a", "t1", "x").await;
    let res = api.get("/v2/a/tags/list?n=0").await;
    res.expect(200);
    assert_eq!(res.json(), json!({"name": "a", "tags": []}));
    assert_eq!(res.header("link"), None);
    for n in ["abc", "-1", "1.5", "99999999999999999999999"] {
        let res = api.get(&format!("/v2/a/tags/list?n={n}")).await;
        res.expect_error(400, "PAGINATION_NUMBER_INVALID");
    }
    // n=0 on an unknown repository still says the repository is unknown.
    api.get("/v2/nope/tags/list?n=0")
        .await
        .expect_error(404, "NAME_UNKNOWN");
    api.get("/v2/nope/tags/list")
        .await
        .expect_error(404, "NAME_UNKNOWN");
}

#[actix_web::test]
async fn repository_with_untagged_manifests_has_an_empty_tag_list() {
    let (_env, api) = start().await;
    let (body, config, layer) = image("untagged");
    push_blob(&api, "a", &config).await;
    push_blob(&api, "a", &layer).await;
    push_manifest(&api, "a", &sha256(&body), OCI_MANIFEST, &body).await;
    assert_eq!(
        api.get("/v2/a/tags/list").await.json(),
        json!({"name": "a", "tags": []})
    );
}

async fn catalog_fixture(api: &Api) {
    for repo in ["b/c", "a", "d", "b"] {
        push_image(api, repo, "latest", repo).await;
    }
    // Repositories with blobs or uploads but no manifest are not listed.
    push_blob(api, "blobs-only", b"x").await;
    start_upload(api, "upload-only").await;
}

#[actix_web::test]
async fn catalog_lists_repositories_with_manifests_sorted() {
    let (_env, api) = start().await;
    let res = api.get("/v2/_catalog").await;
    res.expect(200);
    assert_eq!(res.json(), json!({"repositories": []}));
    catalog_fixture(&api).await;
    let res = api.get("/v2/_catalog").await;
    res.expect(200);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("link"), None);
    assert_eq!(res.json(), json!({"repositories": ["a", "b", "b/c", "d"]}));
}

#[actix_web::test]
async fn catalog_is_paged_with_link_headers() {
    let (_env, api) = start().await;
    catalog_fixture(&api).await;
    let res = api.get("/v2/_catalog?n=1").await;
    assert_eq!(res.json(), json!({"repositories": ["a"]}));
    assert_eq!(
        res.header("link"),
        Some(r#"</v2/_catalog?n=1&last=a>; rel="next""#)
    );
    let res = api.get("/v2/_catalog?n=2&last=a").await;
    assert_eq!(res.json(), json!({"repositories": ["b", "b/c"]}));
    // The name in `last` is URL-encoded.
    assert_eq!(
        res.header("link"),
        Some(r#"</v2/_catalog?n=2&last=b%2Fc>; rel="next""#)
    );
    let all = pages(&api, "/v2/_catalog?n=2", "repositories").await;
    assert_eq!(all, [vec!["a", "b"], vec!["b/c", "d"]]);
    let all = pages(&api, "/v2/_catalog?n=3", "repositories").await;
    assert_eq!(all, [vec!["a", "b", "b/c"], vec!["d"]]);
}

#[actix_web::test]
async fn catalog_n_zero_and_invalid_n() {
    let (_env, api) = start().await;
    catalog_fixture(&api).await;
    let res = api.get("/v2/_catalog?n=0").await;
    res.expect(200);
    assert_eq!(res.json(), json!({"repositories": []}));
    assert_eq!(res.header("link"), None);
    for n in ["abc", "-1", "%201", "0x10"] {
        let res = api.get(&format!("/v2/_catalog?n={n}")).await;
        res.expect_error(400, "PAGINATION_NUMBER_INVALID");
    }
    let v: Value = api.get("/v2/_catalog?n=").await.json();
    assert_eq!(v["repositories"].as_array().map(Vec::len), Some(4));
}
