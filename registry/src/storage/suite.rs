//! The behaviour every storage driver must show. Each driver's tests call [`run`].

use super::fs::read_all;
use super::{layout, Storage, StorageError};
use bytes::Bytes;
use pier_shared::Algorithm;
use uuid::Uuid;

pub async fn run(s: &dyn Storage) {
    let id = Uuid::new_v4();
    let up = layout::upload(&id);
    assert_eq!(s.stat(&up).await.unwrap(), None);
    assert!(matches!(
        s.read(&up, 0, None).await,
        Err(StorageError::NotFound(_))
    ));

    // Append in two writers; the second starts where the first committed.
    let mut w = s.writer(&up, 0).await.unwrap();
    w.write(Bytes::from_static(b"hello ")).await.unwrap();
    assert_eq!(w.commit().await.unwrap(), 6);
    let mut w = s.writer(&up, 6).await.unwrap();
    w.write(Bytes::from_static(b"world")).await.unwrap();
    assert_eq!(w.size(), 11);
    w.commit().await.unwrap();
    assert_eq!(s.stat(&up).await.unwrap(), Some(11));

    // A failed write past the recorded offset is cut off by the next writer.
    let mut w = s.writer(&up, 11).await.unwrap();
    w.write(Bytes::from_static(b"GARBAGE")).await.unwrap();
    w.cancel().await.unwrap();
    let mut w = s.writer(&up, 11).await.unwrap();
    w.write(Bytes::from_static(b"!")).await.unwrap();
    w.commit().await.unwrap();

    // A writer cannot start past the end.
    assert!(s.writer(&up, 100).await.is_err());

    // Ranged reads.
    let all = read_all(s.read(&up, 0, None).await.unwrap()).await.unwrap();
    assert_eq!(all, b"hello world!");
    let part = read_all(s.read(&up, 6, Some(5)).await.unwrap())
        .await
        .unwrap();
    assert_eq!(part, b"world");

    // Rename into place, list, delete.
    let blob = layout::blob(&Algorithm::Sha256.digest_of(&all));
    s.rename(&up, &blob).await.unwrap();
    assert_eq!(s.stat(&up).await.unwrap(), None);
    assert_eq!(s.stat(&blob).await.unwrap(), Some(12));
    assert_eq!(
        s.list(&layout::blobs_root()).await.unwrap(),
        vec![blob.clone()]
    );
    assert!(s.list(&layout::uploads_root()).await.unwrap().is_empty());
    assert!(matches!(
        s.rename(&up, &blob).await,
        Err(StorageError::NotFound(_))
    ));
    s.delete(&blob).await.unwrap();
    s.delete(&blob).await.unwrap();
    assert_eq!(s.stat(&blob).await.unwrap(), None);

    // Renaming over an existing object replaces it; listing is recursive; deleting a
    // prefix removes everything under it.
    let (a, b) = (
        layout::upload(&Uuid::new_v4()),
        layout::upload(&Uuid::new_v4()),
    );
    for (p, data) in [(&a, &b"aa"[..]), (&b, &b"bbb"[..])] {
        let mut w = s.writer(p, 0).await.unwrap();
        w.write(Bytes::copy_from_slice(data)).await.unwrap();
        w.commit().await.unwrap();
    }
    let target = layout::blob(&Algorithm::Sha256.digest_of(b"x"));
    s.rename(&a, &target).await.unwrap();
    s.rename(&b, &target).await.unwrap();
    assert_eq!(s.stat(&target).await.unwrap(), Some(3));
    let other = layout::blob(&Algorithm::Sha512.digest_of(b"x"));
    let mut w = s.writer(&other, 0).await.unwrap();
    w.write(Bytes::from_static(b"y")).await.unwrap();
    w.commit().await.unwrap();
    assert_eq!(s.list(&layout::blobs_root()).await.unwrap().len(), 2);
    s.delete(&layout::blobs_root()).await.unwrap();
    assert!(s.list(&layout::blobs_root()).await.unwrap().is_empty());
    assert_eq!(s.stat(&other).await.unwrap(), None);
}
