//! `GET /v2/`: the API version check, and the version header on every response.

use crate::common::*;
use actix_web::http::Method;

#[actix_web::test]
async fn base_answers_200_with_version_header() {
    let (_env, api) = start().await;
    for uri in ["/v2/", "/v2"] {
        let res = api.get(uri).await;
        res.expect(200);
        assert_eq!(res.header(API_VERSION), Some("registry/2.0"));
        assert_eq!(res.header("content-type"), Some("application/json"));
        assert_eq!(res.json(), serde_json::json!({}));
    }
    let res = api.head("/v2/").await;
    res.expect(200);
    assert_eq!(res.header(API_VERSION), Some("registry/2.0"));
}

#[actix_web::test]
async fn version_header_is_on_client_errors_too() {
    let (_env, api) = start().await;
    let cases = [
        (api.get("/v2/nope/tags/list").await, 404, "NAME_UNKNOWN"),
        (api.get("/v2/UPPER/tags/list").await, 400, "NAME_INVALID"),
        (api.post("/v2/", "").await, 405, "UNSUPPORTED"),
        (
            api.get("/v2/_catalog?n=x").await,
            400,
            "PAGINATION_NUMBER_INVALID",
        ),
    ];
    for (res, status, code) in cases {
        // expect_error checks the header along with the envelope.
        res.expect_error(status, code);
    }
}

#[actix_web::test]
async fn unknown_endpoint_is_an_oci_404() {
    let (_env, api) = start().await;
    for uri in [
        "/v2/x",
        "/v2/a/nothing/here",
        "/v2/_catalog/extra",
        "/v2/tags/list",
        // Outside /v2 too.
        "/",
        "/v1/_catalog",
        "/v2x",
    ] {
        api.get(uri).await.expect_error(404, "UNSUPPORTED");
    }
    for m in [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        api.send(req(m, "/v2/"))
            .await
            .expect_error(405, "UNSUPPORTED");
    }
}
