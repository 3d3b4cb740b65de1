//! Garbage collection keeps the layers of legacy v1 images (docs/legacy-v1.md): a v1
//! layer is a blob no manifest references, so without the v1 reference GC would take it.
//! Once the repository is deleted, its images and then their layers go.

use crate::common::*;
use actix_web::web::Bytes;
use futures_util::StreamExt;
use pier_registry::config::UntaggedPolicy;
use pier_registry::gc;
use pier_registry::services::uploads::Body;
use pier_registry::services::v1::images;
use pier_shared::v1::ImageId;
use pier_shared::RepoName;
use std::sync::Arc;

fn body(data: Vec<u8>) -> Body {
    Box::pin(futures_util::stream::once(
        async move { Ok(Bytes::from(data)) },
    ))
}

#[actix_web::test]
async fn gc_keeps_v1_layers_until_their_repository_is_deleted() {
    let (_env, api) = start().await;
    let mut reg = api.reg.clone();
    let mut config = (*reg.config).clone();
    config.gc.grace_seconds = 0;
    config.gc.untagged = UntaggedPolicy::DeleteAfter;
    config.gc.untagged_age_seconds = 0;
    reg.config = Arc::new(config);

    let repo: RepoName = "legacy/app".parse().unwrap();
    let id: ImageId = "ab".repeat(32).parse().unwrap();
    let json = format!(r#"{{"id":"{id}"}}"#).into_bytes();
    let layer = bytes(50_000, 3);
    images::put_json(&reg, &repo, &id, &json).await.unwrap();
    images::put_layer(&reg, &repo, &id, body(layer.clone()))
        .await
        .unwrap();
    let mut payload = json.clone();
    payload.push(b'\n');
    payload.extend_from_slice(&layer);
    images::put_checksum(&reg, &id, Some(&sha256(&payload)))
        .await
        .unwrap();
    let hex = sha256(&layer).trim_start_matches("sha256:").to_string();
    let storage = reg.storage.clone();
    let stored = || {
        let (storage, hex) = (storage.clone(), hex.clone());
        async move {
            let blobs = pier_registry::storage::layout::blobs_root();
            let listed = storage.list(&blobs).await.expect("list blobs");
            listed.iter().any(|p| p.as_str().ends_with(&hex))
        }
    };
    assert!(stored().await);

    // No manifest references the layer and the untagged policy deletes unused links:
    // only the v1 image keeps it.
    gc::run(&reg, false).await.unwrap();
    gc::run(&reg, false).await.unwrap();
    assert!(stored().await, "GC deleted a v1 layer");
    let image = images::get(&reg, &id).await.unwrap();
    let mut stream = images::open_layer(&reg, &image, 0, image.size)
        .await
        .unwrap();
    let mut back = Vec::new();
    while let Some(chunk) = stream.next().await {
        back.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(back, layer);

    // The repository deleted: its image goes, and then its layer.
    pier_registry::services::repositories::delete(&reg, &Default::default(), &repo)
        .await
        .unwrap();
    let r = gc::run(&reg, false).await.unwrap();
    assert_eq!(r.blobs_deleted, 1, "{r:?}");
    assert!(!stored().await);
    assert!(images::get(&reg, &id).await.is_err());
}
