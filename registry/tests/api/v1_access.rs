//! The legacy v1 registry's gate, in process: what is decided without the index (no
//! token, a token for another repository or access, a bad image id), an index that cannot
//! be reached (503, never a grant), and `/v1` off when no index is configured.

use crate::common::*;
use actix_web::http::Method;

const TOKEN: &str = r#"Token signature=abc.def,repository="a/b",access=read"#;

async fn v1_api(env: &Env) -> Api {
    let mut config = env.config();
    // Nothing listens on port 1: every check with the index fails to connect.
    config.v1.index_url = "http://127.0.0.1:1".into();
    config.auth.index_timeout_seconds = 2;
    env.api_with(config).await
}

fn error_of(res: &Res) -> String {
    let v: serde_json::Value = serde_json::from_slice(&res.body).expect("a JSON body");
    v["error"].as_str().expect("an error message").to_string()
}

#[actix_web::test]
async fn decided_without_the_index() {
    let env = Env::new();
    let api = v1_api(&env).await;
    let ping = api.get("/v1/_ping").await;
    ping.expect(200);
    assert_eq!(ping.header("x-docker-registry-standalone"), Some("false"));

    let res = api.get("/v1/repositories/a/b/tags").await;
    res.expect(401);
    assert_eq!(res.header("www-authenticate"), Some("Token"));
    error_of(&res);

    let other = api
        .send(req(Method::GET, "/v1/repositories/a/c/tags").insert_header(("Authorization", TOKEN)))
        .await;
    other.expect(401);
    assert!(error_of(&other).contains("a/b"), "{}", error_of(&other));

    let write = api
        .send(
            req(Method::PUT, "/v1/repositories/a/b/tags/x").insert_header(("Authorization", TOKEN)),
        )
        .await;
    write.expect(401);

    let garbage = api
        .send(
            req(Method::GET, "/v1/repositories/a/b/tags")
                .insert_header(("Authorization", "Token junk")),
        )
        .await;
    garbage.expect(401);

    let bad_id = api.get("/v1/images/xyz/json").await;
    bad_id.expect(400);
    let bad_name = api.get("/v1/repositories/Upper/b/tags").await;
    bad_name.expect(400);
}

#[actix_web::test]
async fn an_unreachable_index_is_503_never_a_grant() {
    let env = Env::new();
    let api = v1_api(&env).await;
    let res = api
        .send(req(Method::GET, "/v1/repositories/a/b/tags").insert_header(("Authorization", TOKEN)))
        .await;
    res.expect(503);
    assert!(res.header("set-cookie").is_none());
    error_of(&res);
}

#[actix_web::test]
async fn v1_is_off_without_an_index() {
    let (_env, api) = start().await;
    api.get("/v1/_ping").await.expect(404);
    api.get("/v1/repositories/a/b/tags").await.expect(404);
}
