//! Online garbage collection (`pier_registry::gc`): grace period, shared blobs, the
//! untagged policy with index children, stale uploads, dry runs. Bytes are measured in
//! the storage directory, not taken from the report.

use crate::common::*;
use pier_registry::config::{GcConfig, UntaggedPolicy};
use pier_registry::gc::{self, Report};
use serde_json::json;
use std::sync::Arc;

/// One GC run over the registry behind `api`, with `set` applied to the `[gc]` config.
async fn run_gc(api: &Api, dry_run: bool, set: impl FnOnce(&mut GcConfig)) -> Report {
    let mut reg = api.reg.clone();
    let mut config = (*reg.config).clone();
    config.gc.grace_seconds = 0;
    set(&mut config.gc);
    reg.config = Arc::new(config);
    gc::run(&reg, dry_run).await.expect("gc run")
}

/// The blob objects in storage.
async fn blob_files(api: &Api) -> Vec<String> {
    api.stored("blobs").await
}

async fn has_blob(api: &Api, data: &[u8]) -> bool {
    let hex = sha256(data).trim_start_matches("sha256:").to_string();
    blob_files(api).await.iter().any(|f| f.ends_with(&hex))
}

#[actix_web::test]
async fn repository_delete_frees_unshared_bytes_after_the_grace_period() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "only-a").await;
    push_image(&api, "shared", "v1", "both").await;
    push_image(&api, "a", "v2", "both").await;
    let (_, ca, la) = image("only-a");
    let (_, cb, lb) = image("both");
    assert_eq!(blob_files(&api).await.len(), 4);
    api.delete("/pier/v1/repositories/a").await.expect(202);

    // Within the grace period nothing goes.
    let r = run_gc(&api, false, |g| g.grace_seconds = 3600).await;
    assert_eq!((r.blobs_marked, r.blobs_deleted), (0, 0));
    assert_eq!(blob_files(&api).await.len(), 4);

    // A dry run with no grace says what would go and changes nothing.
    let r = run_gc(&api, true, |_| {}).await;
    assert!(r.dry_run);
    assert_eq!((r.blobs_marked, r.blobs_deleted), (2, 2));
    assert_eq!(r.bytes_freed, (ca.len() + la.len()) as u64);
    assert_eq!(blob_files(&api).await.len(), 4);

    let r = run_gc(&api, false, |_| {}).await;
    assert_eq!((r.blobs_marked, r.blobs_deleted), (2, 2));
    assert_eq!(r.bytes_freed, (ca.len() + la.len()) as u64);
    assert!(!has_blob(&api, &ca).await && !has_blob(&api, &la).await);
    assert!(has_blob(&api, &cb).await && has_blob(&api, &lb).await);
    let res = api.get(&format!("/v2/shared/blobs/{}", sha256(&lb))).await;
    res.expect(200);
    assert_eq!(res.body.as_ref(), lb.as_slice());

    // Nothing left to do; a push of the deleted content works again.
    let r = run_gc(&api, false, |_| {}).await;
    assert_eq!((r.blobs_marked, r.blobs_deleted), (0, 0));
    push_image(&api, "a", "v1", "only-a").await;
    assert!(has_blob(&api, &la).await);
    let res = api.get(&format!("/v2/a/blobs/{}", sha256(&la))).await;
    assert_eq!(res.body.as_ref(), la.as_slice());
}

#[actix_web::test]
async fn blob_delete_unlinks_and_gc_frees_only_what_no_manifest_needs() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "x").await;
    let loose = bytes(1000, 7);
    push_blob(&api, "a", &loose).await;
    api.delete(&format!("/v2/a/blobs/{}", sha256(&loose)))
        .await
        .expect(202);
    // The layer is unlinked too, but the manifest still references it: it stays.
    let (_, _, layer) = image("x");
    api.delete(&format!("/v2/a/blobs/{}", sha256(&layer)))
        .await
        .expect(202);
    let r = run_gc(&api, false, |_| {}).await;
    assert_eq!(r.blobs_deleted, 1);
    assert!(!has_blob(&api, &loose).await);
    assert!(has_blob(&api, &layer).await);
}

#[actix_web::test]
async fn untagged_policy_keeps_index_children_and_referrers() {
    let (_env, api) = start().await;
    let keep = |g: &mut GcConfig| g.untagged = UntaggedPolicy::Keep;
    let delete_after = |g: &mut GcConfig| {
        g.untagged = UntaggedPolicy::DeleteAfter;
        g.untagged_age_seconds = 0;
    };
    let c1 = push_image(&api, "a", "c1-tag", "child1").await;
    let c2 = push_image(&api, "a", "c2-tag", "child2").await;
    for t in ["c1-tag", "c2-tag"] {
        api.delete(&format!("/v2/a/manifests/{t}"))
            .await
            .expect(202);
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": c1.digest, "size": c1.bytes.len()},
            {"mediaType": OCI_MANIFEST, "digest": c2.digest, "size": c2.bytes.len()},
        ],
    }))
    .unwrap();
    let idx = push_manifest(&api, "a", "multi", OCI_INDEX, &index).await;
    let lonely = push_image(&api, "a", "gone", "lonely").await;
    api.delete("/v2/a/manifests/gone").await.expect(202);
    let (_, _, lonely_layer) = image("lonely");

    let r = run_gc(&api, false, keep).await;
    assert_eq!((r.manifests_deleted, r.blobs_deleted), (0, 0));

    let r = run_gc(&api, false, delete_after).await;
    assert_eq!(r.manifests_deleted, 1);
    let get = |d: &str| format!("/v2/a/manifests/{d}");
    api.get(&get(&lonely.digest))
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    assert!(!has_blob(&api, &lonely_layer).await);
    for d in [&c1.digest, &c2.digest, &idx] {
        api.get(&get(d)).await.expect(200);
    }
    let (_, _, l1) = image("child1");
    assert!(has_blob(&api, &l1).await);

    // Untag the index: it goes, and its children with it, in one run.
    api.delete("/v2/a/manifests/multi").await.expect(202);
    let r = run_gc(&api, false, delete_after).await;
    assert_eq!(r.manifests_deleted, 3);
    assert!(!has_blob(&api, &l1).await);
    assert!(blob_files(&api).await.is_empty());
}

#[actix_web::test]
async fn stale_upload_sessions_expire_with_their_bytes() {
    let (_env, api) = start().await;
    let loc = start_upload(&api, "a").await;
    api.patch(&loc, bytes(5000, 1)).await.expect(202);
    assert_eq!(api.stored_uploads().await.len(), 1);

    let r = run_gc(&api, false, |g| g.upload_max_age_seconds = 3600).await;
    assert_eq!(r.uploads_expired, 0);
    let r = run_gc(&api, true, |g| g.upload_max_age_seconds = 0).await;
    assert_eq!(r.uploads_expired, 1);
    api.get(&loc).await.expect(204);

    let r = run_gc(&api, false, |g| g.upload_max_age_seconds = 0).await;
    assert_eq!(r.uploads_expired, 1);
    assert!(api.stored_uploads().await.is_empty());
    api.get(&loc).await.expect_error(404, "BLOB_UPLOAD_UNKNOWN");
}

#[actix_web::test]
async fn one_replica_at_a_time_collects() {
    let (_env, api) = start().await;
    push_image(&api, "a", "v1", "only-a").await;
    api.delete("/pier/v1/repositories/a").await.expect(202);
    // Another replica (a second process on the same database) holds the lease.
    api.reg
        .db
        .run(|c| pier_shared::db::lease::try_acquire(c, gc::LEASE, "replica-b", 60))
        .await
        .unwrap();
    let r = run_gc(&api, false, |_| {}).await;
    assert!(r.skipped);
    assert_eq!((r.blobs_marked, r.blobs_deleted), (0, 0));
    assert_eq!(blob_files(&api).await.len(), 2);
    // Once it is released (or expires), this one collects, and releases it after.
    api.reg
        .db
        .run(|c| pier_shared::db::lease::release(c, gc::LEASE, "replica-b"))
        .await
        .unwrap();
    let r = run_gc(&api, false, |_| {}).await;
    assert!(!r.skipped);
    assert_eq!(r.blobs_deleted, 2);
    let holder = api
        .reg
        .db
        .run(|c| pier_shared::db::lease::holder(c, gc::LEASE))
        .await
        .unwrap();
    assert_eq!(holder, None);
}

#[actix_web::test]
async fn marking_goes_batch_by_batch_over_every_blob() {
    let (_env, api) = start().await;
    // More loose blobs than one batch (500) marks, and one that a manifest keeps.
    for i in 0..1_100u32 {
        push_blob(&api, "a", format!("loose-{i}").as_bytes()).await;
    }
    push_image(&api, "a", "v1", "kept").await;
    let (_, config, layer) = image("kept");
    let r = run_gc(&api, false, |g| {
        g.untagged = UntaggedPolicy::DeleteAfter;
        g.untagged_age_seconds = 0;
    })
    .await;
    assert_eq!(r.blobs_deleted, 1_100);
    assert_eq!(blob_files(&api).await.len(), 2);
    assert!(has_blob(&api, &config).await && has_blob(&api, &layer).await);
}
