//! The `pier-index` binary: first start, user administration, htpasswd import (with a
//! file made by the real `htpasswd -B`), repository visibility, check-config.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn pier_index(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pier-index"));
    cmd.env_clear()
        .env(
            "PIER_INDEX_DATABASE_URL",
            pier_shared::testing::database_url(dir, "index.db"),
        )
        .env("PIER_INDEX_TOKEN_KEY_DIR", dir.join("keys"))
        .env("PIER_INDEX_PASSWORDS_BCRYPT_COST", "4")
        .env("PIER_INDEX_HTTP_LISTEN", "127.0.0.1:0");
    cmd
}

fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = pier_index(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Open the same database in-process, to look at what the CLI did.
fn open(dir: &Path) -> pier_index::Index {
    let mut c = pier_index::IndexConfig::under(dir);
    c.database.url =
        pier_index::config::Secret::new(pier_shared::testing::database_url(dir, "index.db"));
    c.passwords.bcrypt_cost = 4;
    pier_index::Index::open(c).unwrap()
}

fn local() -> pier_index::services::login_throttle::Client {
    pier_index::services::login_throttle::Client::new([127, 0, 0, 1].into())
}

async fn can_log_in(dir: &Path, user: &str, password: &str) -> bool {
    let index = open(dir);
    pier_index::services::tokens::authenticate(&index, &local(), user, password)
        .await
        .is_ok()
}

fn htpasswd(args: &[&str]) -> String {
    let out = Command::new("htpasswd")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("htpasswd is required for this test (apt-get install apache2-utils): {e}")
        });
    assert!(out.status.success(), "htpasswd {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[actix_web::test]
async fn import_htpasswd_takes_bcrypt_entries_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut file = htpasswd(&["-Bbn", "alice", "alice-pw"]);
    file += &htpasswd(&["-Bbn", "bob", "bob-pw"]);
    file += &htpasswd(&["-mbn", "carol", "carol-pw"]); // $apr1$ (MD5)
    file += &htpasswd(&["-sbn", "dave", "dave-pw"]); // {SHA}
    assert!(
        file.starts_with("alice:$2y$"),
        "htpasswd -B writes $2y$: {file}"
    );
    let alice_hash = file
        .lines()
        .next()
        .unwrap()
        .split_once(':')
        .unwrap()
        .1
        .to_string();
    file += &format!("BadName:{alice_hash}\n");
    let path = dir.join("htpasswd");
    std::fs::write(&path, &file).unwrap();
    let out = run(
        dir,
        &["user", "import-htpasswd", path.to_str().unwrap()],
        None,
    );
    let stdout = ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "imported alice\nimported bob\n");
    for skipped in [
        "carol: not a bcrypt",
        "dave: not a bcrypt",
        "invalid name \"BadName\"",
    ] {
        assert!(
            stderr.contains(skipped),
            "{skipped:?} not reported: {stderr}"
        );
    }
    assert!(
        !stderr.contains("$apr1$") && !stderr.contains(&alice_hash),
        "hashes echoed: {stderr}"
    );
    assert!(can_log_in(dir, "alice", "alice-pw").await);
    assert!(can_log_in(dir, "bob", "bob-pw").await);
    assert!(!can_log_in(dir, "alice", "bob-pw").await);
    assert!(!can_log_in(dir, "carol", "carol-pw").await);
    // Importing again skips existing users.
    let out = run(
        dir,
        &["user", "import-htpasswd", path.to_str().unwrap()],
        None,
    );
    assert_eq!(ok(&out), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the name alice is taken"));
}

#[actix_web::test]
async fn user_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert_eq!(
        ok(&run(
            dir,
            &["user", "add", "alice", "--password-stdin"],
            Some("alice-pw\n")
        )),
        "created user alice\n"
    );
    assert!(can_log_in(dir, "alice", "alice-pw").await);
    let out = run(
        dir,
        &["user", "add", "alice", "--password-stdin"],
        Some("x"),
    );
    assert!(!out.status.success(), "duplicate user accepted");

    let printed = ok(&run(dir, &["user", "add", "root2", "--admin"], None));
    let generated = printed.trim().rsplit(' ').next().unwrap().to_string();
    assert!(printed.starts_with("created user root2 with password ") && generated.len() >= 20);
    assert!(can_log_in(dir, "root2", &generated).await);
    let index = open(dir);
    assert!(
        pier_index::services::users::find(&index, "root2")
            .await
            .unwrap()
            .is_admin
    );

    ok(&run(dir, &["user", "disable", "alice"], None));
    assert!(!can_log_in(dir, "alice", "alice-pw").await);
    ok(&run(dir, &["user", "enable", "alice"], None));
    assert!(can_log_in(dir, "alice", "alice-pw").await);
    let printed = ok(&run(dir, &["user", "reset-password", "alice"], None));
    let new = printed.trim().rsplit(' ').next().unwrap().to_string();
    assert!(!can_log_in(dir, "alice", "alice-pw").await);
    assert!(can_log_in(dir, "alice", &new).await);
    ok(&run(
        dir,
        &["user", "reset-password", "alice", "--password-stdin"],
        Some("chosen"),
    ));
    assert!(can_log_in(dir, "alice", "chosen").await);
    assert!(!run(dir, &["user", "disable", "ghost"], None)
        .status
        .success());
}

#[actix_web::test]
async fn repo_visibility_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&run(
        dir,
        &["user", "add", "alice", "--password-stdin"],
        Some("alice-pw"),
    ));
    {
        let index = open(dir);
        let alice =
            pier_index::services::tokens::authenticate(&index, &local(), "alice", "alice-pw")
                .await
                .unwrap();
        let req = pier_index::services::tokens::TokenRequest {
            service: "pier-registry".into(),
            scopes: vec!["repository:alice/app:push".parse().unwrap()],
            offline: None,
            rti: None,
        };
        pier_index::services::tokens::issue(&index, Some(alice), req)
            .await
            .unwrap();
    }
    assert_eq!(
        ok(&run(
            dir,
            &["repo", "visibility", "alice/app", "public"],
            None
        )),
        "alice/app is now public\n"
    );
    let index = open(dir);
    let repo = pier_index::services::repositories::get(&index, None, "alice/app")
        .await
        .unwrap();
    assert_eq!(repo.visibility, "public");
    assert!(
        !run(dir, &["repo", "visibility", "alice/none", "public"], None)
            .status
            .success()
    );
    assert!(
        !run(dir, &["repo", "visibility", "alice/app", "open"], None)
            .status
            .success()
    );
}

#[test]
fn check_config_redacts_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pier_index(tmp.path())
        .args(["check-config"])
        .env("PIER_INDEX_ADMIN_PASSWORD", "hunter2-hunter2")
        .output()
        .unwrap();
    let text = ok(&out);
    assert!(
        text.contains("[token]") && text.contains("<redacted>"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    let bad = pier_index(tmp.path())
        .args(["check-config"])
        .env("PIER_INDEX_TOKEN_LIFETIM", "1")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// Start `serve`, wait for "listening on", return (stdout so far, child).
fn serve_once(dir: &Path) -> String {
    let mut child = pier_index(dir)
        .env("PIER_INDEX_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let listening = stderr
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("pier-index listening on 127.0.0.1:"));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(listening, "never listened");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn first_start_prints_the_admin_password_once() {
    let tmp = tempfile::tempdir().unwrap();
    let first = serve_once(tmp.path());
    let line = first
        .lines()
        .find(|l| l.starts_with("pier-index: created user admin with password "));
    let password = line
        .unwrap_or_else(|| panic!("no password line in {first:?}"))
        .rsplit(' ')
        .next()
        .unwrap();
    assert!(password.len() >= 20);
    assert!(
        tmp.path().join("keys/key-encryption-key").exists(),
        "local key-encryption key made"
    );
    let second = serve_once(tmp.path());
    assert!(!second.contains("password"), "printed again: {second:?}");
}

#[actix_web::test]
async fn keys_rotate_and_list() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let listed = |dir: &Path| -> Vec<serde_json::Value> {
        serde_json::from_str(&ok(&run(dir, &["keys", "list", "--json"], None))).unwrap()
    };
    assert_eq!(
        listed(dir),
        Vec::<serde_json::Value>::new(),
        "list makes no key"
    );
    drop(open(dir)); // first start: one key
    let first = listed(dir);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["state"], "current");
    assert!(first[0]["retire_after"].is_null());
    let old = first[0]["kid"].as_str().unwrap().to_string();

    let out = run(dir, &["keys", "rotate", "--publish-seconds", "10"], None);
    assert!(!out.status.success(), "below the minimum publish delay");
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 330"));
    let out = ok(&run(dir, &["keys", "rotate"], None));
    assert!(out.contains("new signing key "), "{out}");
    let keys = listed(dir);
    assert_eq!(keys.len(), 2);
    assert_eq!(
        (keys[0]["kid"].as_str(), keys[0]["state"].as_str()),
        (Some(old.as_str()), Some("current"))
    );
    assert_eq!(keys[1]["state"], "next");
    let signs_from = keys[1]["signs_from"].as_i64().unwrap();
    assert!((signs_from - chrono::Utc::now().timestamp() - 600).abs() < 10);
    assert_eq!(
        keys[0]["retire_after"].as_i64(),
        Some(signs_from + 300 + 60)
    );
    assert!(out.contains(keys[1]["kid"].as_str().unwrap()));

    let table = ok(&run(dir, &["keys", "list"], None));
    assert!(table.starts_with("KID\tSTATE"), "{table}");
    assert!(table.contains(&format!("{old}\tcurrent\t")), "{table}");

    // Another KEK: rotate refuses to start, list still shows the rows (and their KEK id).
    let other_kek = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let with_kek = |args: &[&str]| {
        pier_index(dir)
            .env("PIER_INDEX_KEYS_ENCRYPTION_KEY", other_kek)
            .args(args)
            .output()
            .unwrap()
    };
    let out = with_kek(&["keys", "rotate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("cannot be decrypted"),
        "{stderr}"
    );
    assert!(!stderr.contains(other_kek));
    let table = ok(&with_kek(&["keys", "list"]));
    assert!(
        table.contains(keys[0]["kek_id"].as_str().unwrap()),
        "{table}"
    );

    // The served JWKS has both (read in-process from the same database and key dir).
    let index = open(dir);
    assert_eq!(index.keys.jwks()["keys"].as_array().unwrap().len(), 2);
    assert_eq!(index.keys.signing_kid(), Some(old));
}
