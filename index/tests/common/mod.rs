//! Shared test scaffolding: an index in a temporary directory, requests, tokens, JWT parts.
#![allow(dead_code)]

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use pier_index::config::Secret;
use pier_index::services::policy::Subject;
use pier_index::{Index, IndexConfig};
use serde_json::Value;

pub mod web;

pub const ADMIN_PASSWORD: &str = "admin-password";
pub const REGISTRY_SECRET: &str = "registry-secret";

pub struct TestIndex {
    pub index: Index,
    _dir: tempfile::TempDir,
}

/// Config for tests: cheap bcrypt, introspection enabled, a known admin password.
pub fn config(dir: &std::path::Path) -> IndexConfig {
    let mut c = IndexConfig::under(dir);
    c.database.url = Secret::new(pier_shared::testing::database_url(dir, "index.db"));
    c.passwords.bcrypt_cost = 4;
    c.registry.introspection_secret = Secret::new(REGISTRY_SECRET);
    c.admin.password = Secret::new(ADMIN_PASSWORD);
    c
}

impl TestIndex {
    pub fn new() -> TestIndex {
        Self::with(|_| {})
    }

    /// With the test config changed by `f` first.
    pub fn with(f: impl FnOnce(&mut IndexConfig)) -> TestIndex {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        f(&mut c);
        let index = Index::open(c).unwrap();
        pier_index::services::bootstrap::ensure_admin(&index).unwrap();
        TestIndex { index, _dir: dir }
    }

    pub async fn add_user(&self, name: &str, password: &str) -> Subject {
        let (u, _) = pier_index::services::users::create(
            &self.index,
            "test",
            name,
            Some(password),
            None,
            false,
        )
        .await
        .unwrap();
        Subject {
            id: u.id,
            name: u.name,
            is_admin: false,
        }
    }
}

pub fn basic(user: &str, password: &str) -> (&'static str, String) {
    (
        "Authorization",
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
    )
}

pub fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Read a response whole.
pub async fn reply<B: MessageBody>(res: ServiceResponse<B>) -> Reply {
    let status = res.status();
    let headers = res.headers().clone();
    let body = test::read_body(res).await.to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// `call!(app, request)`: send a `TestRequest` to an initialised app, read the reply.
#[macro_export]
macro_rules! call {
    ($app:expr, $req:expr) => {
        $crate::common::reply(actix_web::test::call_service(&$app, $req.to_request()).await).await
    };
}

/// `app!(test_index)`: the initialised application of a [`TestIndex`].
#[macro_export]
macro_rules! app {
    ($t:expr) => {
        actix_web::test::init_service(pier_index::server::app($t.index.clone())).await
    };
}

/// `GET /token?<query>` as `user`/`password` (None: anonymous).
pub fn token_request(query: &str, creds: Option<(&str, &str)>) -> TestRequest {
    let mut req = TestRequest::get().uri(&format!("/token?{query}"));
    if let Some((u, p)) = creds {
        req = req.insert_header(basic(u, p));
    }
    req
}

/// Decode a JWT's header and claims (no verification).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut next = || {
        let raw = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        serde_json::from_slice::<Value>(&raw).unwrap()
    };
    (next(), next())
}

/// The `access` claim as `["type:name:a,b", …]`, sorted.
pub fn access(claims: &Value) -> Vec<String> {
    let mut out: Vec<String> = claims["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ra| {
            let actions: Vec<&str> = ra["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            format!(
                "{}:{}:{}",
                ra["type"].as_str().unwrap(),
                ra["name"].as_str().unwrap(),
                actions.join(",")
            )
        })
        .collect();
    out.sort();
    out
}

/// The registry's `POST /introspect` of `token` (RFC 7662), with the registry's secret.
pub fn introspect(token: &str) -> TestRequest {
    TestRequest::post()
        .uri("/introspect")
        .insert_header(basic("registry", REGISTRY_SECRET))
        .insert_header(web::FORM)
        .set_payload(serde_urlencoded::to_string([("token", token)]).unwrap())
}
