//! The mirror against a scripted upstream on 127.0.0.1: the Bearer token dance with Basic
//! credentials at the token endpoint (tokens cached), blobs redirected to a "CDN" that
//! must not see the credentials, an upstream answering 429, and one serving a blob whose
//! bytes do not match its digest.

use super::common::*;
use actix_web::{web, HttpRequest, HttpResponse};
use pier_registry::config::{MirrorConfig, UpstreamConfig};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const USER: &str = "mirror";
const PASSWORD: &str = "upstream-secret";
const TOKEN: &str = "tok-123";

#[derive(Default)]
struct Script {
    /// Base URL of the server itself and of the "CDN".
    me: std::sync::Mutex<String>,
    cdn: std::sync::Mutex<String>,
    manifest: Vec<u8>,
    layer: Vec<u8>,
    token_requests: AtomicUsize,
    throttled: AtomicBool,
    /// Serve other bytes than the layer's under its digest.
    corrupt: AtomicBool,
}

fn basic_ok(req: &HttpRequest) -> bool {
    use base64::Engine;
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    req.headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        == Some(want.as_str())
}

async fn token(req: HttpRequest, s: web::Data<Arc<Script>>) -> HttpResponse {
    s.token_requests.fetch_add(1, Ordering::SeqCst);
    if !basic_ok(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let q = req.query_string();
    assert!(q.contains("service=fake"), "{q}");
    assert!(q.contains("scope=repository%3Alibrary%2Fx%3Apull"), "{q}");
    HttpResponse::Ok().json(serde_json::json!({ "token": TOKEN, "expires_in": 300 }))
}

async fn v2(req: HttpRequest, s: web::Data<Arc<Script>>) -> HttpResponse {
    if s.throttled.load(Ordering::SeqCst) {
        return HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", "7"))
            .finish();
    }
    let bearer = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    if !bearer {
        let realm = format!("{}/token", s.me.lock().unwrap());
        return HttpResponse::Unauthorized()
            .insert_header((
                "WWW-Authenticate",
                format!(
                    "Bearer realm=\"{realm}\",service=\"fake\",scope=\"repository:library/x:pull\""
                ),
            ))
            .finish();
    }
    let path = req.path();
    if path.ends_with("/manifests/1") || path.ends_with(&sha256(&s.manifest)) {
        return HttpResponse::Ok()
            .content_type(OCI_MANIFEST)
            .insert_header((DIGEST, sha256(&s.manifest)))
            .body(s.manifest.clone());
    }
    if path.contains("/blobs/") {
        let cdn = s.cdn.lock().unwrap().clone();
        let d = path.rsplit('/').next().unwrap().to_string();
        return HttpResponse::TemporaryRedirect()
            .insert_header(("Location", format!("{cdn}/cdn/{d}?sig=abc")))
            .finish();
    }
    HttpResponse::NotFound().finish()
}

async fn cdn(req: HttpRequest, s: web::Data<Arc<Script>>) -> HttpResponse {
    if req.headers().contains_key("Authorization") {
        return HttpResponse::BadRequest().body("credentials leaked to the CDN");
    }
    let mut body = s.layer.clone();
    if s.corrupt.load(Ordering::SeqCst) {
        body[0] ^= 0xff;
    }
    HttpResponse::Ok().body(body)
}

fn serve(s: Arc<Script>) -> (String, actix_web::dev::ServerHandle) {
    let data = web::Data::new(s);
    serve_http(move |c| {
        c.app_data(data.clone())
            .route("/token", web::get().to(token))
            .route("/cdn/{d}", web::get().to(cdn))
            .default_service(web::to(v2));
    })
}

struct Fake {
    script: Arc<Script>,
    url: String,
    handles: Vec<actix_web::dev::ServerHandle>,
}

impl Fake {
    async fn start(layer: Vec<u8>) -> Fake {
        let config = b"{}".to_vec();
        let manifest = manifest_of(&config, &layer);
        let script = Arc::new(Script {
            manifest,
            layer,
            ..Default::default()
        });
        let (url, h1) = serve(Arc::clone(&script));
        let (cdn_url, h2) = serve(Arc::clone(&script));
        *script.me.lock().unwrap() = url.clone();
        *script.cdn.lock().unwrap() = cdn_url;
        Fake {
            script,
            url,
            handles: vec![h1, h2],
        }
    }

    async fn stop(self) {
        for h in self.handles {
            h.stop(false).await;
        }
    }
}

async fn mirror_of(fake: &Fake, tag_ttl_seconds: u64) -> (Env, Api) {
    let env = Env::new();
    let mut c = env.config();
    c.gc.interval_seconds = 0;
    c.mirror = MirrorConfig {
        default: String::new(),
        max_bytes: 0,
        upstreams: vec![UpstreamConfig {
            prefix: "fake".into(),
            url: fake.url.clone(),
            username: USER.into(),
            password: pier_shared::config::Secret::new(PASSWORD),
            tag_ttl_seconds,
            timeout_seconds: 5,
            ..Default::default()
        }],
    };
    let api = env.api_with(c).await;
    (env, api)
}

#[actix_web::test]
async fn bearer_dance_with_cached_tokens_and_redirects_without_credentials() {
    let layer = bytes(300_000, 3);
    let fake = Fake::start(layer.clone()).await;
    let (_env, api) = mirror_of(&fake, 0).await;
    for _ in 0..3 {
        let res = api.get("/v2/fake/library/x/manifests/1").await;
        res.expect(200);
        assert_eq!(res.body.as_ref(), fake.script.manifest.as_slice());
    }
    // One token for the scope, reused by the later requests (HEADs with a TTL of 0).
    assert_eq!(fake.script.token_requests.load(Ordering::SeqCst), 1);
    let res = api
        .get(&format!("/v2/fake/library/x/blobs/{}", sha256(&layer)))
        .await;
    res.expect(200);
    assert!(res.body.as_ref() == layer.as_slice(), "layer bytes differ");
    fake.stop().await;
}

#[actix_web::test]
async fn an_upstream_answering_429_gives_502_naming_it_and_stale_tags_still_serve() {
    let fake = Fake::start(bytes(1000, 1)).await;
    let (_env, api) = mirror_of(&fake, 0).await;
    api.get("/v2/fake/library/x/manifests/1").await.expect(200);
    fake.script.throttled.store(true, Ordering::SeqCst);
    let res = api.get("/v2/fake/library/x/manifests/1").await;
    res.expect(200);
    let w = res.header("Warning").expect("Warning").to_string();
    assert!(w.contains("429"), "{w}");
    let res = api.get("/v2/fake/library/x/manifests/2").await;
    let msg = res.expect_error(502, "UNAVAILABLE");
    assert!(
        msg.contains("upstream fake") && msg.contains("429"),
        "{msg}"
    );
    assert_eq!(res.header("Retry-After"), Some("7"));
    fake.stop().await;
}

#[actix_web::test]
async fn a_blob_whose_bytes_do_not_match_is_never_served_whole_nor_stored() {
    let layer = bytes(200_000, 9);
    let fake = Fake::start(layer.clone()).await;
    let (_env, api) = mirror_of(&fake, 300).await;
    api.get("/v2/fake/library/x/manifests/1").await.expect(200);
    fake.script.corrupt.store(true, Ordering::SeqCst);
    let uri = format!("/v2/fake/library/x/blobs/{}", sha256(&layer));
    // The harness panics on a body that breaks off: that, a refusal before the body, or
    // a short body all pass; all the bytes with a 200 do not.
    use futures_util::FutureExt;
    let got = std::panic::AssertUnwindSafe(api.get(&uri))
        .catch_unwind()
        .await;
    if let Ok(res) = got {
        assert!(
            res.status != 200 || res.body.len() < layer.len(),
            "a corrupt blob was served whole"
        );
    }
    // Nothing was stored: the next pull fetches again (and now gets the right bytes).
    fake.script.corrupt.store(false, Ordering::SeqCst);
    let res = api.get(&uri).await;
    res.expect(200);
    assert!(res.body.as_ref() == layer.as_slice());
    fake.stop().await;
}
