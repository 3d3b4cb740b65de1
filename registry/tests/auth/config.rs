//! `[auth]` configuration: environment overrides, validation, secrets kept out of output,
//! keys from a file, and mode "none" unchanged.

use crate::common::{claims, token_config, Keys, SECRET};
use actix_web::test::{self, TestRequest};
use pier_registry::config::AuthMode;
use pier_registry::{Registry, RegistryConfig};

fn load(env: &[(&str, &str)]) -> Result<RegistryConfig, String> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let c: RegistryConfig =
        pier_shared::config::load_with_env(RegistryConfig::default(), None, "PIER_REGISTRY", &env)
            .map_err(|e| e.to_string())?;
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

#[test]
fn defaults_and_environment() {
    let c = load(&[]).unwrap();
    assert_eq!(c.auth.mode, AuthMode::None);
    assert_eq!(c.auth.service, "pier-registry");
    assert_eq!(c.auth.issuer, "pier-index");
    assert_eq!(c.auth.confirm_ttl_seconds, 10);
    assert_eq!(c.auth.leeway_seconds, 60);
    assert_eq!(c.auth.algorithms, ["ES256"]);

    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let c = load(&[
        ("PIER_REGISTRY_AUTH_MODE", "token"),
        ("PIER_REGISTRY_AUTH_REALM", "http://index:5001/token"),
        (
            "PIER_REGISTRY_AUTH_JWKS_URL",
            "http://index:5001/.well-known/jwks.json",
        ),
        (
            "PIER_REGISTRY_AUTH_INTROSPECTION_URL",
            "http://index:5001/introspect",
        ),
        (
            "PIER_REGISTRY_AUTH_INTROSPECTION_SECRET_FILE",
            secret_file.to_str().unwrap(),
        ),
        ("PIER_REGISTRY_AUTH_CONFIRM_TTL_SECONDS", "3"),
        ("PIER_REGISTRY_AUTH_ALGORITHMS", "ES256,RS256"),
    ])
    .unwrap();
    assert_eq!(c.auth.mode, AuthMode::Token);
    assert_eq!(c.auth.introspection_secret.expose(), SECRET);
    assert_eq!(c.auth.confirm_ttl_seconds, 3);
    assert_eq!(c.auth.algorithms, ["ES256", "RS256"]);
    assert!(
        !format!("{c:?}").contains(SECRET),
        "Debug redacts the secret"
    );
    let printed = toml::to_string(&c.redacted()).unwrap();
    assert!(!printed.contains(SECRET) && printed.contains("<redacted>"));
}

#[test]
fn token_mode_needs_its_settings() {
    let base = [
        ("PIER_REGISTRY_AUTH_MODE", "token"),
        ("PIER_REGISTRY_AUTH_REALM", "http://i/token"),
        ("PIER_REGISTRY_AUTH_JWKS_URL", "http://i/jwks"),
        (
            "PIER_REGISTRY_AUTH_INTROSPECTION_URL",
            "http://i/introspect",
        ),
        ("PIER_REGISTRY_AUTH_INTROSPECTION_SECRET", "s"),
    ];
    load(&base).unwrap();
    for (drop, needle) in [
        (1, "realm"),
        (2, "jwks"),
        (3, "introspection_url"),
        (4, "introspection_secret"),
    ] {
        let env: Vec<_> = base
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != drop)
            .map(|(_, kv)| *kv)
            .collect();
        let e = load(&env).unwrap_err();
        assert!(e.contains(needle), "{e}");
    }
    for algs in ["HS256", "ES256,none", ""] {
        let mut env = base.to_vec();
        env.push(("PIER_REGISTRY_AUTH_ALGORITHMS", algs));
        assert!(load(&env).is_err(), "{algs:?}");
    }
    let mut env = base.to_vec();
    env.push(("PIER_REGISTRY_AUTH_MODE", "tokens"));
    assert!(load(&env[1..]).is_err());
}

#[actix_web::test]
async fn keys_from_a_jwks_file() {
    let keys = Keys::generate();
    let dir = tempfile::tempdir().unwrap();
    let index = crate::common::FakeIndex::start(&[]).await;
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, serde_json::json!({"keys": [keys.jwk]}).to_string()).unwrap();
    let mut c = token_config(&dir.path().join("r"), &index.url);
    c.auth.jwks_url = String::new();
    c.auth.jwks_file = file.to_str().unwrap().into();
    let app = test::init_service(pier_registry::server::app(Registry::open(c).unwrap())).await;
    let t = keys.sign(&claims("alice", &[]));
    let req = TestRequest::with_uri("/v2/")
        .insert_header(("Authorization", format!("Bearer {t}")))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 200);
    assert_eq!(index.state.fetches(), 0);
    // A file that is not a JWKS stops the start.
    std::fs::write(&file, "nope").unwrap();
    let mut c = token_config(&dir.path().join("r2"), &index.url);
    c.auth.jwks_file = file.to_str().unwrap().into();
    assert!(Registry::open(c).is_err());
}

#[actix_web::test]
async fn mode_none_ignores_authorization_entirely() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = RegistryConfig::under(dir.path());
    c.database.url = pier_shared::config::Secret::new(pier_shared::testing::database_url(
        dir.path(),
        "metadata.db",
    ));
    let reg = Registry::open(c).unwrap();
    let app = test::init_service(pier_registry::server::app(reg)).await;
    for auth in [None, Some("Bearer garbage"), Some("Basic x")] {
        let mut r = TestRequest::with_uri("/v2/");
        if let Some(a) = auth {
            r = r.insert_header(("Authorization", a));
        }
        let res = test::call_service(&app, r.to_request()).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("www-authenticate").is_none());
    }
}
