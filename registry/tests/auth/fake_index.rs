//! A fake pier-index on a free port of 127.0.0.1: a JWKS, an RFC 7662 `/introspect`
//! whose answers the test sets (`Mode`) and whose calls it counts, and the per-namespace
//! webhooks (`GET /pier/v1/webhooks`) the test sets.

use crate::common::{b64url, Keys, SECRET};
use actix_web::web;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How the fake index answers `/introspect`.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Active, granting exactly the scope asked.
    Echo,
    Inactive,
    /// Active, granting only this scope.
    Grant(String),
    /// 503.
    Down,
}

/// The fake index's state: what it serves and what it was asked.
pub struct IndexState {
    pub jwks: Mutex<Vec<Value>>,
    pub mode: Mutex<Mode>,
    pub pullable: Mutex<Vec<String>>,
    pub introspections: AtomicUsize,
    pub jwks_fetches: AtomicUsize,
    /// The `scope` of every introspection, in order.
    pub asked: Mutex<Vec<String>>,
    /// What `GET /pier/v1/webhooks` lists.
    pub webhooks: Mutex<Vec<Value>>,
    /// Calls of `GET /pier/v1/webhooks` with the right credentials.
    pub webhook_reads: AtomicUsize,
}

impl IndexState {
    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
    pub fn calls(&self) -> usize {
        self.introspections.load(Ordering::SeqCst)
    }
    pub fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }
    pub fn set_webhooks(&self, hooks: Vec<Value>) {
        *self.webhooks.lock().unwrap() = hooks;
    }
    pub fn webhook_reads(&self) -> usize {
        self.webhook_reads.load(Ordering::SeqCst)
    }
}

fn is_registry(req: &HttpRequest) -> bool {
    let basic = format!("Basic {}", b64(format!("registry:{SECRET}").as_bytes()));
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(basic.as_str())
}

async fn webhooks(req: HttpRequest, state: web::Data<IndexState>) -> HttpResponse {
    if !is_registry(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    state.webhook_reads.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(json!({ "webhooks": *state.webhooks.lock().unwrap() }))
}

async fn jwks(state: web::Data<IndexState>) -> HttpResponse {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(json!({ "keys": *state.jwks.lock().unwrap() }))
}

async fn introspect(
    req: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
    state: web::Data<IndexState>,
) -> HttpResponse {
    state.introspections.fetch_add(1, Ordering::SeqCst);
    if !is_registry(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let scope = field("scope").unwrap_or_default();
    assert!(field("token").is_some_and(|t| t.split('.').count() == 3));
    state.asked.lock().unwrap().push(scope.clone());
    let granted = match state.mode.lock().unwrap().clone() {
        Mode::Down => return HttpResponse::ServiceUnavailable().finish(),
        Mode::Inactive => return HttpResponse::Ok().json(json!({"active": false})),
        Mode::Echo => scope.clone(),
        Mode::Grant(s) => s,
    };
    let mut answer = json!({"active": true, "sub": "alice", "scope": granted});
    if scope.split(' ').any(|s| s == "registry:catalog:*") {
        answer["pullable"] = json!(*state.pullable.lock().unwrap());
    }
    HttpResponse::Ok().json(answer)
}

fn b64(data: &[u8]) -> String {
    let s = b64url(data).replace('-', "+").replace('_', "/");
    let pad = (4 - s.len() % 4) % 4;
    s + &"=".repeat(pad)
}

/// The fake index on a free port of 127.0.0.1.
pub struct FakeIndex {
    pub state: Arc<IndexState>,
    pub url: String,
    handle: actix_web::dev::ServerHandle,
}

impl FakeIndex {
    pub async fn start(keys: &[&Keys]) -> FakeIndex {
        let state = Arc::new(IndexState {
            jwks: Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect()),
            mode: Mutex::new(Mode::Echo),
            pullable: Mutex::new(Vec::new()),
            introspections: AtomicUsize::new(0),
            jwks_fetches: AtomicUsize::new(0),
            asked: Mutex::new(Vec::new()),
            webhooks: Mutex::new(Vec::new()),
            webhook_reads: AtomicUsize::new(0),
        });
        let data = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/.well-known/jwks.json", web::get().to(jwks))
                .route("/introspect", web::post().to(introspect))
                .route("/pier/v1/webhooks", web::get().to(webhooks))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("bind the fake index");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FakeIndex {
            state,
            url: format!("http://{addr}"),
            handle,
        }
    }

    /// Stop listening: the index becomes unreachable.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
