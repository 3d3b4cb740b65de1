//! The harness: a registry in a temporary directory, requests through `actix_web::test`
//! (no network), responses that are easy to assert on, and helpers that push blobs and
//! manifests the way a client does.

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderMap, CONTENT_LENGTH};
use actix_web::http::Method;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use futures_util::future::LocalBoxFuture;
use pier_registry::{Registry, RegistryConfig};
use pier_shared::Algorithm;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub use pier_registry::manifest::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};

pub const API_VERSION: &str = "Docker-Distribution-API-Version";
pub const DIGEST: &str = "Docker-Content-Digest";
pub const UPLOAD_UUID: &str = "Docker-Upload-UUID";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// A temporary directory holding one registry's database and storage. With
/// `PIER_TEST_STORAGE=s3` the bytes go to the test S3 engine instead, under a key prefix of
/// this `Env`'s own (a reopened registry finds them again).
pub struct Env {
    dir: tempfile::TempDir,
    s3_prefix: String,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temporary directory"),
            s3_prefix: format!("api-{}", uuid::Uuid::new_v4()),
        }
    }

    /// The temporary directory itself; the registry owns only [`Env::root`] inside it.
    pub fn outer(&self) -> &Path {
        self.dir.path()
    }

    /// Where the registry keeps its database and storage.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("registry")
    }

    /// The registry's configuration: its data under [`Env::root`], its database there or
    /// on PostgreSQL (`PIER_TEST_DATABASE`).
    pub fn config(&self) -> RegistryConfig {
        let mut c = test_config(&self.root());
        if pier_registry::storage::s3::tests_use_s3() {
            c.storage = self.s3_storage();
        }
        c
    }

    /// Storage settings for the test S3 engine under this `Env`'s prefix; panics (never
    /// skips) when its `PIER_TEST_S3_*` variables are missing.
    pub fn s3_storage(&self) -> pier_registry::config::StorageConfig {
        let s3 = pier_registry::storage::s3::test_config(&self.s3_prefix)
            .unwrap_or_else(|e| panic!("{e}"));
        pier_registry::config::StorageConfig {
            driver: pier_registry::config::StorageDriver::S3,
            s3,
            ..self.config_fs().storage
        }
    }

    fn config_fs(&self) -> RegistryConfig {
        RegistryConfig::under(&self.root())
    }

    pub fn storage(&self) -> PathBuf {
        self.config().storage.root
    }

    /// Open the registry (again, after a restart) and build the application.
    pub async fn api(&self) -> Api {
        self.api_with(self.config()).await
    }

    pub async fn api_with(&self, config: RegistryConfig) -> Api {
        let reg = Registry::open(config).expect("open registry");
        let app = Rc::new(test::init_service(pier_registry::server::app(reg.clone())).await);
        let call: Call = Box::new(move |req: TestRequest, strip_length: bool| {
            let app = Rc::clone(&app);
            Box::pin(async move {
                let mut req = req.to_request();
                if strip_length {
                    req.headers_mut().remove(CONTENT_LENGTH);
                }
                Res::read(test::call_service(&*app, req).await).await
            })
        });
        Api { call, reg }
    }
}

/// `RegistryConfig::under(dir)` on the database backend the tests run on.
pub fn test_config(dir: &Path) -> RegistryConfig {
    let mut c = RegistryConfig::under(dir);
    c.database.url =
        pier_shared::config::Secret::new(pier_shared::testing::database_url(dir, "metadata.db"));
    c
}

/// A fresh registry and its application.
pub async fn start() -> (Env, Api) {
    let env = Env::new();
    let api = env.api().await;
    (env, api)
}

type Call = Box<dyn Fn(TestRequest, bool) -> LocalBoxFuture<'static, Res>>;

/// The application under test. Dropping it drops the app and its `Registry`.
pub struct Api {
    call: Call,
    /// The registry behind the app, for tests that reach below HTTP (fault injection).
    pub reg: Registry,
}

impl Api {
    pub async fn send(&self, req: TestRequest) -> Res {
        (self.call)(req, false).await
    }

    /// Send without `Content-Length`, as a chunked (streamed) request arrives.
    pub async fn send_chunked(&self, req: TestRequest) -> Res {
        (self.call)(req, true).await
    }

    pub async fn get(&self, uri: &str) -> Res {
        self.send(req(Method::GET, uri)).await
    }

    pub async fn head(&self, uri: &str) -> Res {
        self.send(req(Method::HEAD, uri)).await
    }

    pub async fn delete(&self, uri: &str) -> Res {
        self.send(req(Method::DELETE, uri)).await
    }

    pub async fn post(&self, uri: &str, body: impl Into<Bytes>) -> Res {
        self.send(req(Method::POST, uri).set_payload(body)).await
    }

    pub async fn put(&self, uri: &str, body: impl Into<Bytes>) -> Res {
        self.send(req(Method::PUT, uri).set_payload(body)).await
    }

    pub async fn patch(&self, uri: &str, body: impl Into<Bytes>) -> Res {
        self.send(req(Method::PATCH, uri).set_payload(body)).await
    }
}

/// A scripted HTTP server on a free 127.0.0.1 port (an upstream, a receiver), one worker,
/// running on the test's actix system: its base URL and the handle that stops it.
pub fn serve_http<F>(routes: F) -> (String, actix_web::dev::ServerHandle)
where
    F: Fn(&mut actix_web::web::ServiceConfig) + Clone + Send + 'static,
{
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(routes.clone()))
            .workers(1)
            .bind("127.0.0.1:0")
            .expect("bind");
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (format!("http://{addr}"), handle)
}

/// A request with the URI exactly as given (test requests do not normalise paths).
pub fn req(method: Method, uri: &str) -> TestRequest {
    TestRequest::with_uri(uri).method(method)
}

/// A response, read completely.
pub struct Res {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The size the body announced; actix's HTTP/1 encoder writes it as `Content-Length`
    /// (for HEAD too, without sending the bytes).
    pub size: BodySize,
}

impl Res {
    async fn read<B: MessageBody>(res: ServiceResponse<B>) -> Res {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let size = res.response().body().size();
        let body = test::read_body(res).await;
        Res {
            status,
            headers,
            body,
            size,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// `Content-Length` as it goes on the wire: an explicit header, else the body's size.
    pub fn content_length(&self) -> Option<u64> {
        if let Some(v) = self.header("content-length") {
            return v.parse().ok();
        }
        match self.size {
            BodySize::Sized(n) => Some(n),
            _ => None,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Res {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }

    /// The `Location` header (asserted present).
    #[track_caller]
    pub fn location(&self) -> String {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location header (status {})", self.status))
            .to_string()
    }

    /// Assert an OCI error: status, `Content-Type: application/json`, the API version
    /// header, and a body of exactly `{"errors":[{"code":…,"message":…[,"detail":…]}]}`.
    /// Returns the message.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> String {
        self.expect(status);
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.header(API_VERSION), Some("registry/2.0"));
        let v = self.json();
        let keys: Vec<&String> = v
            .as_object()
            .expect("error body is an object")
            .keys()
            .collect();
        assert_eq!(keys, ["errors"], "{v}");
        let errors = v["errors"].as_array().expect("errors is an array");
        assert_eq!(errors.len(), 1, "{v}");
        let e = errors[0].as_object().expect("error is an object");
        assert!(
            e.keys()
                .all(|k| ["code", "message", "detail"].contains(&k.as_str())),
            "{v}"
        );
        assert_eq!(e["code"], code, "{v}");
        let message = e["message"].as_str().expect("message is a string");
        assert!(!message.is_empty(), "{v}");
        message.to_string()
    }
}

pub fn sha256(data: &[u8]) -> String {
    Algorithm::Sha256.digest_of(data).to_string()
}

pub fn sha512(data: &[u8]) -> String {
    Algorithm::Sha512.digest_of(data).to_string()
}

/// `n` bytes of varied, deterministic content.
pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8 ^ seed).collect()
}

/// Push a blob in one request (`POST ?digest=`); returns its digest.
pub async fn push_blob(api: &Api, repo: &str, data: &[u8]) -> String {
    let d = sha256(data);
    let uri = format!("/v2/{repo}/blobs/uploads/?digest={d}");
    api.post(&uri, data.to_vec()).await.expect(201);
    d
}

/// Open an upload session; returns its `Location`.
pub async fn start_upload(api: &Api, repo: &str) -> String {
    let res = api.post(&format!("/v2/{repo}/blobs/uploads/"), "").await;
    res.expect(202);
    res.location()
}

/// The id at the end of an upload `Location`.
pub fn upload_id(location: &str) -> &str {
    location.rsplit('/').next().expect("location has an id")
}

/// A descriptor of `data` (sha256).
pub fn descriptor(media_type: &str, data: &[u8]) -> Value {
    json!({ "mediaType": media_type, "digest": sha256(data), "size": data.len() })
}

pub async fn put_manifest(
    api: &Api,
    repo: &str,
    reference: &str,
    media_type: &str,
    body: &[u8],
) -> Res {
    let uri = format!("/v2/{repo}/manifests/{reference}");
    let r = req(Method::PUT, &uri)
        .insert_header(("Content-Type", media_type))
        .set_payload(body.to_vec());
    api.send(r).await
}

/// Push a manifest (asserting 201 and the sha256 digest); returns the digest.
pub async fn push_manifest(
    api: &Api,
    repo: &str,
    reference: &str,
    media_type: &str,
    body: &[u8],
) -> String {
    let res = put_manifest(api, repo, reference, media_type, body).await;
    res.expect(201);
    let d = sha256(body);
    assert_eq!(res.header(DIGEST), Some(d.as_str()));
    assert_eq!(res.location(), format!("/v2/{repo}/manifests/{d}"));
    d
}

/// A pushed image manifest.
pub struct Image {
    pub digest: String,
    pub bytes: Vec<u8>,
}

/// The bytes of an OCI image manifest of `config` and one `layer`.
pub fn manifest_of(config: &[u8], layer: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config),
        "layers": [descriptor(OCI_LAYER, layer)],
    }))
    .expect("manifest JSON")
}

/// The bytes of an OCI image manifest whose config and layer are derived from `seed`,
/// with its config and layer blobs.
pub fn image(seed: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let config = format!("{{\"seed\":\"{seed}\"}}").into_bytes();
    let layer = format!("layer of {seed}").into_bytes();
    let manifest = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, &config),
        "layers": [descriptor(OCI_LAYER, &layer)],
    }))
    .expect("manifest JSON");
    (manifest, config, layer)
}

/// Push an OCI image (config, layer, manifest at `reference`).
pub async fn push_image(api: &Api, repo: &str, reference: &str, seed: &str) -> Image {
    let (bytes, config, layer) = image(seed);
    push_blob(api, repo, &config).await;
    push_blob(api, repo, &layer).await;
    let digest = push_manifest(api, repo, reference, OCI_MANIFEST, &bytes).await;
    Image { digest, bytes }
}

/// Names directly in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
