//! The harness: an ES256 key made per test, tokens signed with jsonwebtoken, a fake index
//! (JWKS + RFC 7662 `/introspect`) on 127.0.0.1 whose answers the test controls and counts,
//! and the registry app in token mode driven in-process.

use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use futures_util::future::LocalBoxFuture;
use jsonwebtoken::{EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
use pier_registry::config::{AuthMode, Secret};
use pier_registry::{Registry, RegistryConfig};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use std::rc::Rc;

pub use crate::fake_index::{FakeIndex, Mode};

pub const SECRET: &str = "introspection-s3cret";

pub fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=c.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An ES256 key pair, its JWK and RFC 7638 thumbprint (`kid`).
pub struct Keys {
    pub kid: String,
    pub enc: EncodingKey,
    pub jwk: Value,
    /// The public key as PEM: what an HS256 "key confusion" attack signs with.
    pub public_pem: String,
}

impl Keys {
    pub fn generate() -> Keys {
        let seed: [u8; 32] = Sha256::new()
            .chain_update(uuid::Uuid::new_v4().as_bytes())
            .chain_update(uuid::Uuid::new_v4().as_bytes())
            .finalize()
            .into();
        let sk = p256::SecretKey::from_slice(&seed).expect("a P-256 scalar");
        let der = sk.to_pkcs8_der().expect("PKCS#8");
        let point = sk.public_key().to_encoded_point(false);
        let (x, y) = (b64url(point.x().expect("x")), b64url(point.y().expect("y")));
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = b64url(&Sha256::digest(canonical.as_bytes()));
        Keys {
            jwk: json!({"kty":"EC","crv":"P-256","x":x,"y":y,"kid":kid,"alg":"ES256","use":"sig"}),
            kid,
            enc: EncodingKey::from_ec_der(der.as_bytes()),
            public_pem: sk
                .public_key()
                .to_public_key_pem(Default::default())
                .expect("PEM"),
        }
    }

    /// Sign `claims` with ES256 and this key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&h, claims, &self.enc).expect("sign")
    }
}

/// Valid claims for `sub` with `access` entries like `"repository:a:pull,push"`.
pub fn claims(sub: &str, access: &[&str]) -> Value {
    let access: Vec<Value> = access
        .iter()
        .map(|s| {
            let s: pier_shared::Scope = s.parse().expect("scope");
            json!(pier_shared::ResourceActions::from(&s))
        })
        .collect();
    let t = now();
    json!({"iss":"pier-index","sub":sub,"aud":"pier-registry","exp":t+300,"nbf":t-1,"iat":t-1,
           "jti":uuid::Uuid::new_v4().to_string(),"access":access})
}

/// The registry's token-mode configuration against `index`, under `dir`.
pub fn token_config(dir: &std::path::Path, index: &str) -> RegistryConfig {
    let mut c = RegistryConfig::under(dir);
    c.database.url = Secret::new(pier_shared::testing::database_url(dir, "metadata.db"));
    c.auth.mode = AuthMode::Token;
    c.auth.realm = format!("{index}/token");
    c.auth.jwks_url = format!("{index}/.well-known/jwks.json");
    c.auth.introspection_url = format!("{index}/introspect");
    c.auth.introspection_secret = Secret::new(SECRET);
    c.auth.confirm_ttl_seconds = 30;
    c.validate().expect("valid token configuration");
    c
}

type Call = Box<dyn Fn(TestRequest) -> LocalBoxFuture<'static, Res>>;

/// A registry in token mode, the fake index it trusts, and the key the index signs with.
pub struct Env {
    _dir: tempfile::TempDir,
    pub index: FakeIndex,
    pub keys: Keys,
    /// The registry behind the app (for tests that look below HTTP).
    pub reg: Registry,
    call: Call,
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

pub async fn start_with(change: impl FnOnce(&mut RegistryConfig)) -> Env {
    let keys = Keys::generate();
    let index = FakeIndex::start(&[&keys]).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = token_config(&dir.path().join("registry"), &index.url);
    change(&mut config);
    let reg = Registry::open(config).expect("open registry");
    let app = Rc::new(test::init_service(pier_registry::server::app(reg.clone())).await);
    let call: Call = Box::new(move |req: TestRequest| {
        let app = Rc::clone(&app);
        Box::pin(async move {
            let res = test::call_service(&*app, req.to_request()).await;
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let body = test::read_body(res).await;
            Res {
                status,
                headers,
                body,
            }
        })
    });
    Env {
        _dir: dir,
        index,
        keys,
        reg,
        call,
    }
}

impl Env {
    /// Send `method uri` with `Authorization: Bearer <token>` (none if `token` is empty).
    pub async fn send(&self, method: Method, uri: &str, token: &str, body: &[u8]) -> Res {
        let mut r = TestRequest::with_uri(uri)
            .method(method)
            .set_payload(body.to_vec());
        if !token.is_empty() {
            r = r.insert_header(("Authorization", format!("Bearer {token}")));
        }
        self.raw(r).await
    }

    pub async fn raw(&self, req: TestRequest) -> Res {
        (self.call)(req).await
    }

    pub async fn get(&self, uri: &str, token: &str) -> Res {
        self.send(Method::GET, uri, token, b"").await
    }

    /// A token for `access`, signed by the index's key.
    pub fn token(&self, access: &[&str]) -> String {
        self.keys.sign(&claims("alice", access))
    }

    /// Push a blob with a push token; returns its digest.
    pub async fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let d = format!("sha256:{}", hex::encode(Sha256::digest(data)));
        let t = self.token(&[&format!("repository:{repo}:pull,push")]);
        let uri = format!("/v2/{repo}/blobs/uploads/?digest={d}");
        self.send(Method::POST, &uri, &t, data).await.expect(201);
        d
    }

    /// Push a one-layer image tagged `tag`; returns the manifest digest.
    pub async fn push_image(&self, repo: &str, tag: &str) -> String {
        let config = self
            .push_blob(repo, format!("{{\"r\":\"{repo}\"}}").as_bytes())
            .await;
        let layer = self.push_blob(repo, repo.as_bytes()).await;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config,
                       "size": format!("{{\"r\":\"{repo}\"}}").len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": layer, "size": repo.len()}],
        }))
        .unwrap();
        let t = self.token(&[&format!("repository:{repo}:pull,push")]);
        let r = TestRequest::with_uri(&format!("/v2/{repo}/manifests/{tag}"))
            .method(Method::PUT)
            .insert_header(("Authorization", format!("Bearer {t}")))
            .insert_header(("Content-Type", "application/vnd.oci.image.manifest.v1+json"))
            .set_payload(manifest.clone());
        self.raw(r).await.expect(201);
        format!("sha256:{}", hex::encode(Sha256::digest(&manifest)))
    }
}

/// A response, read completely.
pub struct Res {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Res {
        assert_eq!(self.status, status, "body: {}", self.text());
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    /// The `WWW-Authenticate` header of a 401 (asserted), and its body's error code.
    #[track_caller]
    pub fn challenge(&self) -> String {
        self.expect(401);
        assert_eq!(
            self.json()["errors"][0]["code"],
            "UNAUTHORIZED",
            "{}",
            self.text()
        );
        self.header("www-authenticate")
            .expect("a WWW-Authenticate header")
            .to_string()
    }

    /// Assert a 401 whose challenge ends with exactly `tail` (scope and error).
    #[track_caller]
    pub fn expect_challenge(&self, tail: &str) {
        let c = self.challenge();
        assert!(c.starts_with("Bearer realm=\"http://127.0.0.1:"), "{c}");
        assert!(c.contains("/token\",service=\"pier-registry\""), "{c}");
        assert!(
            c.ends_with(tail),
            "challenge {c:?} does not end with {tail:?}"
        );
    }
}
