//! The OpenAPI document covers exactly the router's routes, and each route answers.

mod common;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use common::TestIndex;
use pier_index::routes::{NO_ROUTE, ROUTES};
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                match (k.as_str(), child.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_string()),
                    _ => refs(child, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_document_lists_every_route_and_nothing_else() {
    let t = TestIndex::new();
    let app = app!(t);
    let r = call!(app, TestRequest::get().uri("/api/openapi.json"));
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}");
            documented.insert((method.clone(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routes missing from openapi.json: {missing:?}"
    );
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");

    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling {r}"
        );
    }
}

#[actix_web::test]
async fn every_route_is_served() {
    let t = TestIndex::new();
    let app = app!(t);
    for route in ROUTES {
        // Repository names may hold `/`; other parameters are one segment.
        let uri = route
            .path
            .replace("/repositories/{name}", "/repositories/alice/app")
            .replace(['{', '}'], "");
        let method = Method::from_bytes(route.method.to_uppercase().as_bytes()).unwrap();
        let r = call!(app, TestRequest::default().method(method).uri(&uri));
        let no_route = r.header("content-type") == "application/problem+json"
            && r.json()["type"] == format!("urn:pier:problem:{NO_ROUTE}");
        assert!(!no_route, "{} {} is not routed", route.method, route.path);
    }
    let r = call!(app, TestRequest::get().uri("/api/v1/nowhere"));
    assert_eq!(r.json()["type"], format!("urn:pier:problem:{NO_ROUTE}"));
}
