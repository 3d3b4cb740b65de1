//! `pier-registry fsck` as an operator runs it (docs/reliability.md, "Consistency check"):
//! the real binary beside a serving registry, its exit codes (0 clean, 1 problems, 2 could
//! not run), its `--json` document, and `--repair` removing an orphan only after the GC
//! grace period. The problem kinds one by one are in registry/tests/api/fsck.rs.

use pier_integration_tests::stored::Stored;
use pier_integration_tests::{sha256, Registry, Service};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// `pier-registry fsck ARGS` with the registry's environment and `extra`: exit code,
/// standard output, standard error.
fn fsck(data: &Path, args: &[&str], extra: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(pier_integration_tests::server::binary("pier-registry"))
        .arg("fsck")
        .args(args)
        .envs(Registry::env(data, extra))
        .output()
        .expect("run pier-registry fsck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fsck_json(data: &Path, args: &[&str], extra: &[(&str, &str)]) -> (i32, Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out, err) = fsck(data, &all, extra);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn kinds(report: &Value) -> Vec<String> {
    let problems = report["problems"].as_array().cloned().unwrap_or_default();
    problems
        .iter()
        .map(|p| p["kind"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// Push a config, a layer (chunked) and a manifest tagged `v1`; the layer's digest.
fn push_image(reg: &Service, repo: &str) -> String {
    let blob = |data: &[u8]| {
        let u = reg.url(&format!(
            "/v2/{repo}/blobs/uploads/?digest={}",
            sha256(data)
        ));
        let r = ureq::post(&u).send_bytes(data).expect("blob push");
        assert_eq!(r.status(), 201);
    };
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let layer = pier_integration_tests::image::pseudo_random(50_000, 4);
    blob(&config);
    blob(&layer);
    let desc = |m: &str, d: &[u8]| serde_json::json!({"mediaType": m, "digest": sha256(d), "size": d.len()});
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", &config),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", &layer)],
    });
    ureq::put(&reg.url(&format!("/v2/{repo}/manifests/v1")))
        .set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .send_bytes(manifest.to_string().as_bytes())
        .expect("manifest push");
    sha256(&layer)
}

#[test]
fn exit_0_when_clean_1_with_problems_beside_the_running_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("pier");
    let reg = Registry::start(&data);
    let layer = push_image(&reg, "team/app");

    let (code, report) = fsck_json(&data, &[], &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["problems"], serde_json::json!([]));
    assert_eq!(report["checked"]["manifests"], 1);
    assert_eq!(report["checked"]["blobs"], 2);
    let (code, text, _) = fsck(&data, &[], &[]);
    assert_eq!(code, 0);
    assert!(text.contains("clean: no problems"), "{text}");

    Stored::of(&data).delete_blob(&layer);
    let (code, report) = fsck_json(&data, &[], &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(kinds(&report), ["blob_missing"]);
    assert_eq!(report["problems"][0]["digest"], layer.as_str());
    // The registry still serves the manifest: fsck changed nothing.
    let r = ureq::get(&reg.url("/v2/team/app/manifests/v1"))
        .set("Accept", "application/vnd.oci.image.manifest.v1+json")
        .call();
    assert_eq!(r.map(|r| r.status()).ok(), Some(200));
}

#[test]
fn an_orphan_is_removed_only_with_repair_and_only_after_the_grace_period() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("pier");
    let reg = Registry::start(&data);
    push_image(&reg, "team/app");
    let stored = Stored::of(&data);
    let orphan = stored.put_unrecorded_blob(b"bytes no row records");

    // Default grace (an hour): not judged yet, even with --repair.
    let (code, report) = fsck_json(&data, &["--repair"], &[]);
    assert_eq!(
        (code, report["within_grace"].as_u64()),
        (0, Some(1)),
        "{report}"
    );
    assert!(stored.blob_size(&orphan).is_some());
    let no_grace = [("PIER_REGISTRY_GC_GRACE_SECONDS", "0")];
    // Past the grace, without --repair: reported, kept.
    let (code, report) = fsck_json(&data, &[], &no_grace);
    assert_eq!((code, kinds(&report)), (1, vec!["orphan_blob_file".into()]));
    assert!(stored.blob_size(&orphan).is_some());
    // With --repair: reported (exit 1) and deleted; the next run is clean.
    let (code, report) = fsck_json(&data, &["--repair"], &no_grace);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["repaired"][0]["action"], "deleted");
    assert!(stored.blob_size(&orphan).is_none());
    assert_eq!(fsck_json(&data, &[], &no_grace).0, 0);
}

#[test]
fn exit_2_when_the_database_or_the_storage_cannot_be_read() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("pier");
    let reg = Registry::start(&data);
    push_image(&reg, "team/app");
    drop(reg);

    // A PostgreSQL server that does not answer (a closed port), password in the URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let url = format!("postgres://pier:fsck-secret-pw@127.0.0.1:{port}/pier");
    let (code, out, err) = fsck(&data, &[], &[("PIER_REGISTRY_DATABASE_URL", &url)]);
    assert_eq!(code, 2, "{out} {err}");
    assert!(err.contains("could not run"), "{err}");
    assert!(
        !err.contains("fsck-secret-pw"),
        "password in the message: {err}"
    );
    assert!(out.is_empty(), "{out}");

    // A SQLite file that is not there (a wrong path) is not an empty, clean registry.
    let missing = format!("sqlite://{}", tmp.path().join("nowhere.db").display());
    let (code, _, err) = fsck(&data, &[], &[("PIER_REGISTRY_DATABASE_URL", &missing)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no SQLite database"), "{err}");
    assert!(!tmp.path().join("nowhere.db").exists(), "fsck created it");

    if std::env::var("PIER_TEST_STORAGE").as_deref() == Ok("s3") {
        // An S3 endpoint that does not answer.
        let endpoint = format!("http://127.0.0.1:{port}");
        let (code, _, err) = fsck(
            &data,
            &[],
            &[("PIER_REGISTRY_STORAGE_S3_ENDPOINT", &endpoint)],
        );
        assert_eq!(code, 2, "{err}");
        return;
    }
    // A storage root that is not a directory.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let root = [("PIER_REGISTRY_STORAGE_ROOT", file.to_str().unwrap())];
    let (code, _, err) = fsck(&data, &[], &root);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a directory"), "{err}");
    // Storage that fails while it is read: blobs/ replaced by a file.
    let blobs = data.join("storage").join("blobs");
    std::fs::rename(&blobs, data.join("storage").join("blobs.away")).unwrap();
    std::fs::write(&blobs, b"not a directory").unwrap();
    let (code, out, err) = fsck(&data, &["--json"], &[]);
    assert_eq!(code, 2, "{out} {err}");
    assert!(err.contains("could not run"), "{err}");
}
