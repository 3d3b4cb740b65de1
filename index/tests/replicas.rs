//! Index replicas on one database share their signing keys: one JWKS, each verifies the
//! other's tokens; rotation publishes before it signs and retires after the last token;
//! a wrong key-encryption key stops the start; concurrent first starts make one key.

mod common;

use actix_web::test::TestRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{introspect, jwt_parts, token_request, ADMIN_PASSWORD};
use pier_index::config::Secret;
use pier_index::db::signing_keys::{self as rows, SigningKeyRow};
use pier_index::keys::store;
use pier_index::{Index, IndexConfig};
use std::path::Path;

fn kek(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

/// A replica: its own key directory, the shared database, the given KEK.
fn replica_config(shared: &Path, name: &str, kek: &str) -> IndexConfig {
    let mut c = common::config(&shared.join(name));
    c.database.url = Secret::new(pier_shared::testing::database_url(shared, "index.db"));
    c.keys.encryption_key = Secret::new(kek);
    c
}

fn replica(shared: &Path, name: &str, kek: &str) -> Index {
    let index = Index::open(replica_config(shared, name, kek)).unwrap();
    pier_index::services::bootstrap::ensure_admin(&index).unwrap();
    index
}

fn all_rows(index: &Index) -> Vec<SigningKeyRow> {
    index.db.run_sync(rows::all).unwrap()
}

fn kids(jwks: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

macro_rules! token {
    ($app:expr) => {{
        let q = "service=pier-registry&scope=repository:admin/app:pull";
        let r = call!($app, token_request(q, Some(("admin", ADMIN_PASSWORD))));
        r.json()["token"].as_str().unwrap().to_string()
    }};
}

macro_rules! active {
    ($app:expr, $token:expr) => {
        call!($app, introspect(&$token)).json()["active"] == true
    };
}

#[actix_web::test]
async fn replicas_share_the_jwks_and_verify_each_others_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (
        replica(tmp.path(), "a", &kek(1)),
        replica(tmp.path(), "b", &kek(1)),
    );
    let (app_a, app_b) = (
        actix_web::test::init_service(pier_index::server::app(a.clone())).await,
        actix_web::test::init_service(pier_index::server::app(b.clone())).await,
    );
    let jwks_a = call!(app_a, TestRequest::get().uri("/.well-known/jwks.json")).json();
    let jwks_b = call!(app_b, TestRequest::get().uri("/.well-known/jwks.json")).json();
    assert_eq!(jwks_a, jwks_b);
    assert_eq!(kids(&jwks_a).len(), 1, "one key for both");
    assert_eq!(all_rows(&a).len(), 1);

    let (from_a, from_b) = (token!(app_a), token!(app_b));
    assert!(active!(app_b, from_a), "b verifies a's token");
    assert!(active!(app_a, from_b), "a verifies b's token");
    // A configured KEK: no local key file is made.
    assert!(!tmp.path().join("a/keys/key-encryption-key").exists());
}

#[actix_web::test]
async fn rotation_publishes_first_signs_later_and_retires_after_the_last_token() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (
        replica(tmp.path(), "a", &kek(2)),
        replica(tmp.path(), "b", &kek(2)),
    );
    let (app_a, app_b) = (
        actix_web::test::init_service(pier_index::server::app(a.clone())).await,
        actix_web::test::init_service(pier_index::server::app(b.clone())).await,
    );
    let old_kid = a.keys.signing_kid().unwrap();
    let old_token = token!(app_a);

    let now = pier_index::db::now();
    let r = store::rotate(&a.keys, &a.config, 600, now).await.unwrap();
    assert_eq!((r.signs_from, r.previous_keys), (now + 600, 1));
    // Retires once the last token the old key may sign (just before signs_from) expired.
    assert_eq!(r.previous_retire_after, now + 600 + 300 + 60);
    let jwks = call!(app_a, TestRequest::get().uri("/.well-known/jwks.json")).json();
    let mut both = vec![old_kid.clone(), r.kid.clone()];
    both.sort();
    assert_eq!(kids(&jwks), both, "the new key is published at once");
    let pem = call!(app_a, TestRequest::get().uri("/token/certificate.pem")).text();
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 2, "a bundle");

    // Replica b learns of it on reload (every keys.reload_seconds when serving).
    assert_eq!(kids(&b.keys.jwks()).len(), 1);
    b.keys.reload().await.unwrap();
    assert_eq!(kids(&b.keys.jwks()), both);

    // Not used before signs_from.
    let (h, _) = jwt_parts(&token!(app_a));
    assert_eq!(h["kid"], old_kid.as_str());
    let states: Vec<&str> = store::list(&a.db, now)
        .await
        .unwrap()
        .iter()
        .map(|k| k.state)
        .collect();
    assert_eq!(states, ["current", "next"]);

    // Time passes: signs_from comes.
    a.db.run_sync(|c| rows::set_signs_from(c, &r.kid, now - 1))
        .unwrap();
    a.keys.reload().await.unwrap();
    b.keys.reload().await.unwrap();
    let new_token = token!(app_a);
    let (h, _) = jwt_parts(&new_token);
    assert_eq!(h["kid"], r.kid.as_str());
    assert!(active!(app_b, new_token));
    assert!(active!(app_b, old_token), "old tokens still verify");
    let states: Vec<&str> = store::list(&a.db, now)
        .await
        .unwrap()
        .iter()
        .map(|k| k.state)
        .collect();
    assert_eq!(states, ["previous", "current"]);

    // Its retire_after passes: gone from the JWKS, its tokens refused.
    a.db.run_sync(|c| rows::set_retire_after(c, &old_kid, Some(now - 1)))
        .unwrap();
    b.keys.reload().await.unwrap();
    assert_eq!(kids(&b.keys.jwks()), std::slice::from_ref(&r.kid));
    assert!(!active!(app_b, old_token));
    let states: Vec<&str> = store::list(&a.db, now)
        .await
        .unwrap()
        .iter()
        .map(|k| k.state)
        .collect();
    assert_eq!(states, ["retired", "current"]);
}

#[actix_web::test]
async fn a_token_with_an_unknown_kid_makes_the_replica_reload() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (
        replica(tmp.path(), "a", &kek(3)),
        replica(tmp.path(), "b", &kek(3)),
    );
    let app_b = actix_web::test::init_service(pier_index::server::app(b.clone())).await;
    let now = pier_index::db::now();
    let r = store::rotate(&a.keys, &a.config, 600, now).await.unwrap();
    a.db.run_sync(|c| rows::set_signs_from(c, &r.kid, now - 1))
        .unwrap();
    a.keys.reload().await.unwrap();
    let app_a = actix_web::test::init_service(pier_index::server::app(a.clone())).await;
    let token = token!(app_a);
    assert_eq!(jwt_parts(&token).0["kid"], r.kid.as_str());
    assert!(
        b.keys.current().find(&r.kid, now).is_none(),
        "b has not reloaded"
    );
    assert!(active!(app_b, token), "b reloaded on the unknown kid");
}

#[test]
fn a_wrong_key_encryption_key_stops_the_start_and_makes_no_key() {
    let tmp = tempfile::tempdir().unwrap();
    let a = replica(tmp.path(), "a", &kek(4));
    let err = Index::open(replica_config(tmp.path(), "b", &kek(5)))
        .err()
        .unwrap();
    assert!(err.contains("cannot be decrypted"), "{err}");
    assert!(err.contains("same keys.encryption_key"), "{err}");
    assert!(
        !err.contains(&kek(5)) && !err.contains(&kek(4)),
        "no KEK in {err}"
    );
    assert_eq!(all_rows(&a).len(), 1, "no second key");
    // A KEK of the wrong size is refused by the configuration, without echoing it.
    let mut c = replica_config(tmp.path(), "c", "");
    c.keys.encryption_key = Secret::new(STANDARD.encode([6u8; 16]));
    let err = c.validate().unwrap_err().to_string();
    assert!(err.contains("32 bytes") && !err.contains(&STANDARD.encode([6u8; 16])));
}

#[test]
fn concurrent_first_starts_make_one_key() {
    let tmp = tempfile::tempdir().unwrap();
    let c = replica_config(tmp.path(), "x", &kek(7));
    pier_index::db::open(c.database.url.expose(), 2).unwrap(); // migrated, no key yet
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let c = replica_config(tmp.path(), &format!("r{i}"), &kek(7));
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                Index::open(c).map(|i| i.keys.signing_kid())
            })
        })
        .collect();
    let kids: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    assert!(
        kids.iter().all(|k| k.is_some() && *k == kids[0]),
        "{kids:?}"
    );
    let index = Index::open(c).unwrap();
    assert_eq!(all_rows(&index).len(), 1);
}
