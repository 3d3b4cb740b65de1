//! The consistency check (`pier_registry::fsck`): one injected fault per problem kind,
//! what `--repair` does about it, and a clean result while pushes run beside the check.
//! Faults go through the registry's own storage driver and database, so the tests run
//! the same over the filesystem, S3, SQLite and PostgreSQL.

use crate::common::*;
use diesel::RunQueryDsl;
use pier_registry::db::Conn;
use pier_registry::fsck::{self, Kind, Report};
use pier_registry::storage::{layout, StoragePath};
use pier_shared::Digest;
use std::sync::Arc;

/// One fsck run over the registry behind `api` with the GC grace period `grace`.
async fn run(api: &Api, repair: bool, grace: u64) -> Report {
    let mut reg = api.reg.clone();
    let mut config = (*reg.config).clone();
    config.gc.grace_seconds = grace;
    reg.config = Arc::new(config);
    fsck::run(&reg, repair).await.expect("fsck run")
}

fn kinds(r: &Report) -> Vec<Kind> {
    let mut k: Vec<Kind> = r.problems.iter().map(|p| p.kind).collect();
    k.sort();
    k
}

fn blob_path(digest: &str) -> StoragePath {
    layout::blob(&digest.parse::<Digest>().unwrap())
}

/// Replace the object at `path` with `data` (or create it), through the driver.
async fn overwrite(api: &Api, path: &StoragePath, data: &[u8]) {
    let mut w = api.reg.storage.put(path).await.unwrap();
    w.write(data.to_vec().into()).await.unwrap();
    w.commit().await.unwrap();
}

/// Run `statements` on one connection with foreign keys unenforced (to make the rows a
/// hand-edited or partly restored database has).
fn unchecked_sql(api: &Api, statements: &[&str]) {
    let mut c = api.reg.db.conn().unwrap();
    let (off, on) = match &*c {
        Conn::Sqlite(_) => ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"),
        Conn::Pg(_) => (
            "SET session_replication_role = replica",
            "SET session_replication_role = DEFAULT",
        ),
    };
    pier_shared::db::sql(&c, off).execute(&mut *c).unwrap();
    for s in statements {
        pier_shared::db::sql(&c, s).execute(&mut *c).unwrap();
    }
    pier_shared::db::sql(&c, on).execute(&mut *c).unwrap();
}

#[actix_web::test]
async fn a_consistent_registry_is_clean_and_everything_is_counted() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "one").await;
    push_image(&api, "b", "v1", "two").await;
    start_upload(&api, "a").await;
    let r = run(&api, false, 0).await;
    assert!(r.clean(), "{:?}", r.problems);
    let c = &r.checked;
    assert_eq!((c.repositories, c.manifests, c.tags), (2, 2, 2));
    assert_eq!((c.references, c.links, c.blobs, c.uploads), (4, 4, 4, 1));
    assert_eq!(c.blob_files, 4);
    let (m, cfg, layer) = image("one");
    let (_, cfg2, layer2) = image("two");
    let _ = m;
    let hashed = cfg.len() + layer.len() + cfg2.len() + layer2.len();
    assert_eq!(c.blob_bytes, hashed as u64);
    assert!(r.human().contains("clean: no problems"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["problems"], serde_json::json!([]));
    assert!(json["duration_seconds"].is_number());
}

#[actix_web::test]
async fn a_missing_blob_is_reported_and_repair_stops_serving_it_until_pushed_again() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "one").await;
    let (manifest, _, layer) = image("one");
    let d = sha256(&layer);
    api.reg.storage.delete(&blob_path(&d)).await.unwrap();

    let r = run(&api, false, 3600).await;
    assert_eq!(kinds(&r), vec![Kind::BlobMissing]);
    assert_eq!(r.problems[0].digest.as_deref(), Some(d.as_str()));
    assert!(r.repaired.is_empty());
    // HEAD still claims it: clients would skip uploading it.
    api.head(&format!("/v2/a/blobs/{d}")).await.expect(200);

    let r = run(&api, true, 3600).await;
    assert_eq!(r.repaired.len(), 1, "{:?}", r.repaired);
    api.head(&format!("/v2/a/blobs/{d}")).await.expect(404);
    // The manifest now misses its layer: reported, never deleted.
    let r = run(&api, true, 3600).await;
    assert_eq!(kinds(&r), vec![Kind::ManifestReferenceMissing]);
    assert!(r.repaired.is_empty());
    api.get("/v2/a/manifests/v1").await.expect(200);

    // Pushing the blob again heals it.
    push_blob(&api, "a", &layer).await;
    push_manifest(&api, "a", "v1", OCI_MANIFEST, &manifest).await;
    let r = run(&api, false, 3600).await;
    assert!(r.clean(), "{:?}", r.problems);
}

#[actix_web::test]
async fn corrupt_bytes_are_quarantined_not_served_and_a_push_restores_them() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "one").await;
    let (_, _, layer) = image("one");
    let d = sha256(&layer);
    let mut bad = layer.clone();
    bad[0] ^= 0xff;
    overwrite(&api, &blob_path(&d), &bad).await;

    let r = run(&api, false, 3600).await;
    assert_eq!(kinds(&r), vec![Kind::BlobDigestMismatch]);
    let r = run(&api, true, 3600).await;
    assert_eq!(kinds(&r), vec![Kind::BlobDigestMismatch]);
    assert!(
        r.repaired[0].action.contains("quarantine/sha256/"),
        "{:?}",
        r.repaired
    );
    let hex = d.trim_start_matches("sha256:");
    assert_eq!(
        api.stored_bytes(&format!("quarantine/sha256/{hex}")).await,
        bad
    );
    api.get(&format!("/v2/a/blobs/{d}")).await.expect(404);

    push_blob(&api, "a", &layer).await;
    assert_eq!(api.get(&format!("/v2/a/blobs/{d}")).await.body, layer);
    let r = run(&api, false, 3600).await;
    assert!(r.clean(), "{:?}", r.problems);
}

#[actix_web::test]
async fn a_truncated_blob_is_a_size_mismatch() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "one").await;
    let (_, config, _) = image("one");
    let d = sha256(&config);
    overwrite(&api, &blob_path(&d), &config[..config.len() / 2]).await;
    let r = run(&api, false, 3600).await;
    assert_eq!(kinds(&r), vec![Kind::BlobSizeMismatch]);
    assert!(r.problems[0].detail.contains(&config.len().to_string()));
    let r = run(&api, true, 3600).await;
    assert_eq!(r.repaired.len(), 1);
    api.head(&format!("/v2/a/blobs/{d}")).await.expect(404);
}

#[actix_web::test]
async fn a_tag_whose_manifest_row_is_gone_and_orphan_rows() {
    let (_env, api) = start().await;
    let img = push_image(&api, "a", "v1", "one").await;
    unchecked_sql(
        &api,
        &[&format!(
            "DELETE FROM manifests WHERE digest = '{}'",
            img.digest
        )],
    );
    let r = run(&api, false, 3600).await;
    // The tag, and the manifest's two references, left behind.
    assert_eq!(
        kinds(&r),
        vec![Kind::TagManifestMissing, Kind::OrphanRow, Kind::OrphanRow]
    );
    let tag = &r.problems[0];
    assert_eq!(
        (tag.repository.as_deref(), tag.digest.as_deref()),
        (Some("a"), Some(img.digest.as_str()))
    );
    let r = run(&api, true, 3600).await;
    assert_eq!(r.repaired.len(), 1, "one table: {:?}", r.repaired);
    assert!(
        r.repaired[0].action.contains("deleted 2"),
        "{:?}",
        r.repaired
    );
    // The tag is the user's: reported again, not deleted.
    let r = run(&api, true, 3600).await;
    assert_eq!(kinds(&r), vec![Kind::TagManifestMissing]);
}

#[actix_web::test]
async fn an_orphan_blob_file_waits_for_the_grace_period_then_repair_deletes_it() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "one").await;
    let data = b"bytes nobody recorded".to_vec();
    let path = blob_path(&sha256(&data));
    overwrite(&api, &path, &data).await;

    let r = run(&api, true, 3600).await;
    assert!(r.clean(), "within the grace period: {:?}", r.problems);
    assert_eq!(r.within_grace, 1);
    assert!(api.stored_all().await.contains(&path.to_string()));

    let r = run(&api, false, 0).await;
    assert_eq!(kinds(&r), vec![Kind::OrphanBlobFile]);
    assert!(api.stored_all().await.contains(&path.to_string()));
    let r = run(&api, true, 0).await;
    assert_eq!(r.repaired[0].action, "deleted");
    assert!(!api.stored_all().await.contains(&path.to_string()));
    assert!(run(&api, false, 0).await.clean());
}

#[actix_web::test]
async fn upload_bytes_at_a_blob_key_are_reported_and_quarantined() {
    let (_env, api) = start().await;
    let whole = bytes(4096, 7);
    let d = sha256(&whole);
    // The first half of an upload, where the verified blob would go.
    overwrite(&api, &blob_path(&d), &whole[..2048]).await;
    let r = run(&api, false, 0).await;
    assert_eq!(kinds(&r), vec![Kind::UploadVisibleAsBlob]);
    let r = run(&api, true, 0).await;
    assert!(r.repaired[0].action.starts_with("moved to quarantine/"));
    assert!(api.stored("blobs").await.is_empty());
    // Now the real push stores the real bytes.
    push_blob(&api, "a", &whole).await;
    assert_eq!(api.get(&format!("/v2/a/blobs/{d}")).await.body, whole);
    assert!(run(&api, false, 0).await.clean());
}

#[actix_web::test]
async fn an_upload_file_without_its_session_is_an_orphan() {
    let (_env, api) = start().await;
    let location = start_upload(&api, "a").await;
    api.patch(&location, bytes(1000, 1)).await.expect(202);
    let id = upload_id(&location).to_string();
    assert_eq!(api.stored_uploads().await, vec![id.clone()]);
    assert!(run(&api, false, 0).await.clean(), "a live upload");
    unchecked_sql(&api, &[&format!("DELETE FROM uploads WHERE id = '{id}'")]);

    let r = run(&api, false, 3600).await;
    assert!(r.clean());
    assert_eq!(r.within_grace, 1);
    let r = run(&api, true, 0).await;
    assert_eq!(kinds(&r), vec![Kind::OrphanUploadFile]);
    assert_eq!(r.repaired.len(), 1);
    assert!(api.stored_uploads().await.is_empty());
}

#[actix_web::test]
async fn a_file_off_the_layout_is_stray_and_left_alone() {
    let (_env, api) = start().await;
    let path = StoragePath::from_listed("blobs/sha256/ab/not-a-digest").unwrap();
    overwrite(&api, &path, b"?").await;
    let r = run(&api, true, 0).await;
    assert_eq!(kinds(&r), vec![Kind::StrayFile]);
    assert!(r.repaired.is_empty());
    assert!(api.stored_all().await.contains(&path.to_string()));
}

#[actix_web::test]
async fn repair_waits_for_a_gc_run_holding_the_lease() {
    let (_env, api) = start().await;
    api.reg
        .db
        .run_sync(|c| pier_shared::db::lease::try_acquire(c, "gc", "someone-else", 60))
        .unwrap();
    let err = fsck::run(&api.reg, true).await.expect_err("refused");
    assert!(err.to_string().contains("gc lease"), "{err}");
    // A check without repair does not need it.
    assert!(fsck::run(&api.reg, false).await.unwrap().clean());
}

#[actix_web::test]
async fn fsck_is_clean_while_pushes_and_deletes_run_beside_it() {
    let (_env, api) = start().await;
    let pushes = async {
        for i in 0..40 {
            let img = push_image(&api, "busy", &format!("t{i}"), &format!("s{i}")).await;
            // Chunked: start, two PATCHes, finish.
            let data = bytes(3000, i as u8);
            let loc = start_upload(&api, "busy").await;
            let loc2 = api.patch(&loc, data[..1000].to_vec()).await.location();
            let loc3 = api.patch(&loc2, data[1000..].to_vec()).await.location();
            let sep = if loc3.contains('?') { '&' } else { '?' };
            api.put(&format!("{loc3}{sep}digest={}", sha256(&data)), "")
                .await
                .expect(201);
            if i % 3 == 0 {
                api.delete(&format!("/v2/busy/manifests/{}", img.digest))
                    .await
                    .expect(202);
            }
            if i % 5 == 0 {
                let loc = start_upload(&api, "busy").await;
                api.delete(&loc).await.expect(204);
            }
        }
    };
    let checks = async {
        let mut runs = 0;
        let mut problems = Vec::new();
        for _ in 0..15 {
            let r = run(&api, false, 0).await;
            problems.extend(r.problems);
            runs += 1;
        }
        (runs, problems)
    };
    let ((), (runs, problems)) = futures_util::join!(pushes, checks);
    assert_eq!(runs, 15);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(run(&api, false, 0).await.clean());
}
