//! `GET /healthz` and `GET /readyz`: unauthenticated, outside `/v2`; readiness is 503 with
//! a reason when the storage or the database cannot answer.

use crate::common::*;
use serde_json::json;

#[actix_web::test]
async fn healthz_and_readyz_answer_when_all_is_well() {
    let (_env, api) = start().await;
    let res = api.get("/healthz").await;
    res.expect(200);
    assert_eq!(res.json(), json!({"status": "ok"}));
    assert_eq!(res.header("content-type"), Some("application/json"));
    let res = api.get("/readyz").await;
    res.expect(200);
    assert_eq!(
        res.json(),
        json!({"status": "ok", "checks": {"database": "ok", "storage": "ok"}})
    );
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn a_storage_root_that_is_gone_is_503_without_its_path() {
    // The filesystem driver's failure, whichever driver the run uses elsewhere.
    let env = Env::new();
    let mut config = env.config();
    config.storage.driver = pier_registry::config::StorageDriver::Filesystem;
    let api = env.api_with(config).await;
    // Replaced by a regular file: every stat under it fails (ENOTDIR), even as root, as a
    // mount point gone bad does.
    let root = env.storage();
    std::fs::remove_dir_all(&root).unwrap();
    std::fs::write(&root, b"not a directory").unwrap();
    let res = api.get("/readyz").await;
    res.expect(503);
    assert_eq!(
        res.json(),
        json!({"status": "unavailable", "checks": {
            "database": "ok", "storage": "stat failed: not a directory"}})
    );
    assert!(
        !res.text().contains(root.to_str().unwrap()),
        "{}",
        res.text()
    );
    // Liveness does not depend on it.
    api.get("/healthz").await.expect(200);

    std::fs::remove_file(&root).unwrap();
    std::fs::create_dir_all(&root).unwrap();
    api.get("/readyz").await.expect(200);
}

#[actix_web::test]
async fn a_database_that_gives_no_connection_is_503_within_the_check_timeout() {
    let env = Env::new();
    let mut config = env.config();
    config.database.pool_size = 1;
    let api = env.api_with(config).await;
    // The one connection held: the ping waits for the pool, and the check gives up first.
    let held = api.reg.db.conn().expect("the pool's connection");
    let started = std::time::Instant::now();
    let res = api.get("/readyz").await;
    let waited = started.elapsed();
    res.expect(503);
    assert_eq!(
        res.json(),
        json!({"status": "unavailable", "checks": {
            "database": "timed out after 2s", "storage": "ok"}})
    );
    assert!(waited < std::time::Duration::from_secs(5), "{waited:?}");
    drop(held);
    api.get("/readyz").await.expect(200);
}

#[actix_web::test]
async fn an_object_store_that_does_not_answer_is_503_without_its_address() {
    let env = Env::new();
    let mut config = env.config();
    config.storage.driver = pier_registry::config::StorageDriver::S3;
    // Nothing listens on the discard port of the loopback address.
    config.storage.s3.endpoint = "http://127.0.0.1:9".into();
    config.storage.s3.bucket = "nowhere".into();
    config.storage.s3.region = "garage".into();
    config.storage.s3.access_key_id = "GKtest".into();
    config.storage.s3.secret_access_key = pier_registry::config::Secret::new("test-secret");
    config.storage.s3.force_path_style = true;
    let api = env.api_with(config).await;
    let res = api.get("/readyz").await;
    res.expect(503);
    let body = res.json();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["database"], "ok");
    let storage = body["checks"]["storage"].as_str().unwrap_or_default();
    assert!(storage != "ok" && !storage.contains("127.0.0.1"), "{body}");
    assert!(!res.text().contains("test-secret"));
    api.get("/healthz").await.expect(200);
}
