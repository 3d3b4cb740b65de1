//! Secrets on disk: every secret setting of both services read from a file (`…_FILE`),
//! and the files Pier creates that hold secrets (the SQLite databases and their WAL, the
//! local key-encryption key) made with mode 0600 whatever the umask.

use pier_integration_tests::pier::{
    index_env, registry_token_env, ADMIN_PASSWORD, INTROSPECTION_SECRET,
};
use pier_integration_tests::{basic_auth, Pier, Registry, Service};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Every secret setting, as its environment variable.
const SECRETS: &[&str] = &[
    "PIER_INDEX_DATABASE_URL",
    "PIER_INDEX_KEYS_ENCRYPTION_KEY",
    "PIER_INDEX_REGISTRY_INTROSPECTION_SECRET",
    "PIER_INDEX_ADMIN_PASSWORD",
    "PIER_REGISTRY_DATABASE_URL",
    "PIER_REGISTRY_AUTH_INTROSPECTION_SECRET",
    "PIER_REGISTRY_STORAGE_S3_ACCESS_KEY_ID",
    "PIER_REGISTRY_STORAGE_S3_SECRET_ACCESS_KEY",
];

/// Move each secret of `env` into a file under `dir` and name it with `…_FILE` instead;
/// the variables moved.
fn to_files(env: &mut [(String, String)], dir: &Path) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let mut moved = Vec::new();
    for (k, v) in env.iter_mut() {
        if SECRETS.contains(&k.as_str()) {
            let file = dir.join(k.to_lowercase());
            std::fs::write(&file, format!("{v}\n")).unwrap();
            moved.push(k.clone());
            *k = format!("{k}_FILE");
            *v = file.display().to_string();
        }
    }
    moved
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn every_secret_setting_works_from_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = tmp.path().join("secrets");
    let index_data = tmp.path().join("index");
    let db = pier_shared::testing::database_url(&index_data, "index.db");
    let mut env = index_env(&index_data, &db);
    env.push((
        "PIER_INDEX_KEYS_ENCRYPTION_KEY".into(),
        "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=".into(),
    ));
    let mut moved = to_files(&mut env, &secrets);
    let index = Service::start("pier-index", &index_data, &env);
    let base = format!("http://{}", index.addr);

    let reg_data = tmp.path().join("registry");
    let token_env = registry_token_env(&base, 0);
    let extra: Vec<(&str, &str)> = token_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut reg_env = Registry::env(&reg_data, &extra);
    moved.extend(to_files(&mut reg_env, &secrets));
    let registry = Service::start("pier-registry", &reg_data, &reg_env);

    // Every secret that is set was given as a file (S3's only on an S3 run).
    let s3 = std::env::var("PIER_TEST_STORAGE").as_deref() == Ok("s3");
    for k in SECRETS.iter().filter(|k| s3 || !k.contains("_S3_")) {
        assert!(moved.iter().any(|m| m == k), "{k} not exercised");
    }

    // admin.password: a token for admin.
    let token: serde_json::Value = ureq::get(&format!(
        "{base}/token?service=pier-registry&scope=repository:admin/x:pull,push"
    ))
    .set("Authorization", &basic_auth("admin", ADMIN_PASSWORD))
    .call()
    .expect("admin's password from its file")
    .into_json()
    .unwrap();
    let token = token["token"].as_str().unwrap();
    // registry.introspection_secret (index) and auth.introspection_secret (registry): the
    // registry confirms the token (ttl 0) with the secret from its file; a wrong one is 401.
    let introspect = |secret: &str| {
        ureq::post(&format!("{base}/introspect"))
            .set("Authorization", &basic_auth("registry", secret))
            .send_form(&[("token", token)])
            .map(|r| r.status())
            .unwrap_or_else(|e| match e {
                ureq::Error::Status(s, _) => s,
                e => panic!("{e}"),
            })
    };
    assert_eq!(introspect(INTROSPECTION_SECRET), 200);
    assert_eq!(introspect("not-the-secret"), 401);
    let v2 = ureq::get(&registry.url("/v2/"))
        .set("Authorization", &format!("Bearer {token}"))
        .call();
    assert_eq!(v2.map(|r| r.status()).ok(), Some(200), "{}", registry.log());
    // An S3 run: the registry stored a blob with the keys from their files.
    if s3 {
        let r = ureq::post(&registry.url("/v2/admin/x/blobs/uploads/?digest=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
            .set("Authorization", &format!("Bearer {token}"))
            .send_bytes(b"");
        assert_eq!(r.map(|r| r.status()).ok(), Some(201), "{}", registry.log());
    }
    // keys.encryption_key: the configured key, so no local key file was made.
    assert!(!index_data.join("keys/key-encryption-key").exists());
    // database.url: the databases are where the files say.
    if db.starts_with("sqlite://") {
        assert!(index_data.join("index.db").exists());
        assert!(reg_data.join("metadata.db").exists());
    }
    // check-config shows each secret as set (redacted), read from its file.
    let shown = run_ok_env("pier-index", &env);
    for key in ["introspection_secret", "password", "encryption_key"] {
        assert!(
            shown
                .lines()
                .any(|l| l.starts_with(key) && l.contains("<redacted>")),
            "{key}: {shown}"
        );
    }
    drop((index, registry));

    // S3 keys on any run: the registry reads both from files (check-config shows them).
    let mut s3_env = vec![
        ("PIER_REGISTRY_STORAGE_DRIVER".to_string(), "s3".to_string()),
        ("PIER_REGISTRY_STORAGE_S3_BUCKET".into(), "b".into()),
        (
            "PIER_REGISTRY_STORAGE_S3_ACCESS_KEY_ID".into(),
            "AKIDFROMFILE".into(),
        ),
        (
            "PIER_REGISTRY_STORAGE_S3_SECRET_ACCESS_KEY".into(),
            "secret-from-file".into(),
        ),
    ];
    assert_eq!(to_files(&mut s3_env, &tmp.path().join("s3")).len(), 2);
    let shown = run_ok_env("pier-registry", &s3_env);
    assert!(
        shown.contains("access_key_id = \"AKIDFROMFILE\""),
        "{shown}"
    );
    assert!(
        shown.contains("secret_access_key = \"<redacted>\""),
        "{shown}"
    );
}

/// `binary check-config` with exactly `env` (plus PATH): its output.
fn run_ok_env(binary: &str, env: &[(String, String)]) -> String {
    pier_integration_tests::pier::cli(binary, env, &["check-config"], None)
}

#[test]
fn database_and_key_files_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let pier = Pier::start(tmp.path(), 5);
    pier.add_user("mode", "mode-password");
    let kek = pier.index_dir().join("keys/key-encryption-key");
    assert_eq!(mode(&kek), 0o600, "{}", kek.display());
    let mut files = vec![kek];
    if !pier_shared::testing::postgres_wanted() {
        for (dir, name) in [
            (pier.index_dir(), "index.db"),
            (pier.registry_data_path(), "metadata.db"),
        ] {
            for suffix in ["", "-wal", "-shm"] {
                let f = dir.join(format!("{name}{suffix}"));
                assert!(f.exists(), "{} missing (WAL mode?)", f.display());
                assert_eq!(mode(&f), 0o600, "{}", f.display());
                files.push(f);
            }
        }
    }
    eprintln!("FIGURE {} files checked: all 0600", files.len());
}
