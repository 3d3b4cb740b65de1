//! The behaviour every storage driver must show. Each driver's tests call [`run`].

use super::fs::read_all;
use super::{layout, Storage, StorageError, StoragePath, UploadState, UploadWriter};
use bytes::Bytes;
use pier_shared::Algorithm;
use uuid::Uuid;

pub async fn run(s: &dyn Storage) {
    objects(s).await;
    uploads(s).await;
    large_uploads(s).await;
}

async fn put(s: &dyn Storage, p: &StoragePath, data: &[u8]) {
    let mut w = s.put(p).await.unwrap();
    w.write(Bytes::copy_from_slice(data)).await.unwrap();
    assert_eq!(w.commit().await.unwrap(), data.len() as u64);
}

async fn get(s: &dyn Storage, p: &StoragePath, offset: u64, len: Option<u64>) -> Vec<u8> {
    read_all(s.read(p, offset, len).await.unwrap())
        .await
        .unwrap()
}

fn other_missing() -> StoragePath {
    layout::blob(&Algorithm::Sha256.digest_of(b"never written"))
}

/// Whole objects: put, ranged reads, copy, list, delete.
async fn objects(s: &dyn Storage) {
    let blob = layout::blob(&Algorithm::Sha256.digest_of(b"hello world!"));
    assert_eq!(s.stat(&blob).await.unwrap(), None);
    assert!(matches!(
        s.read(&blob, 0, None).await,
        Err(StorageError::NotFound(_))
    ));

    // Nothing is visible before commit, nothing at all after cancel.
    let mut w = s.put(&blob).await.unwrap();
    w.write(Bytes::from_static(b"hello ")).await.unwrap();
    w.write(Bytes::from_static(b"world!")).await.unwrap();
    assert_eq!(w.size(), 12);
    assert_eq!(s.stat(&blob).await.unwrap(), None);
    w.commit().await.unwrap();
    assert_eq!(s.stat(&blob).await.unwrap(), Some(12));
    // When it was written: now, give or take clock skew with an object store.
    let written = s.modified(&blob).await.unwrap().expect("modified");
    let skew = std::time::Duration::from_secs(300);
    let now = std::time::SystemTime::now();
    assert!(
        written <= now + skew && written + skew >= now,
        "{written:?}"
    );
    assert_eq!(s.modified(&other_missing()).await.unwrap(), None);
    let other = layout::blob(&Algorithm::Sha512.digest_of(b"x"));
    let mut w = s.put(&other).await.unwrap();
    w.write(Bytes::from_static(b"never")).await.unwrap();
    w.cancel().await.unwrap();
    assert_eq!(s.stat(&other).await.unwrap(), None);

    // Ranged reads.
    assert_eq!(get(s, &blob, 0, None).await, b"hello world!");
    assert_eq!(get(s, &blob, 6, Some(5)).await, b"world");
    assert_eq!(get(s, &blob, 6, None).await, b"world!");
    assert!(get(s, &blob, 3, Some(0)).await.is_empty());

    // Copy replaces the target; copying nothing is NotFound.
    put(s, &other, b"old").await;
    s.copy(&blob, &other).await.unwrap();
    assert_eq!(get(s, &other, 0, None).await, b"hello world!");
    let missing = layout::blob(&Algorithm::Sha256.digest_of(b"missing"));
    assert!(matches!(
        s.copy(&missing, &other).await,
        Err(StorageError::NotFound(_))
    ));

    // Listing is recursive and sorted; deleting twice is fine; deleting a prefix removes
    // everything under it.
    let mut both = vec![blob.clone(), other.clone()];
    both.sort();
    assert_eq!(s.list(&layout::blobs_root()).await.unwrap(), both);
    assert!(s.list(&layout::uploads_root()).await.unwrap().is_empty());
    s.delete(&blob).await.unwrap();
    s.delete(&blob).await.unwrap();
    assert_eq!(s.stat(&blob).await.unwrap(), None);
    put(s, &blob, b"again").await;
    s.delete(&layout::blobs_root()).await.unwrap();
    assert!(s.list(&layout::blobs_root()).await.unwrap().is_empty());
    assert_eq!(s.stat(&other).await.unwrap(), None);
}

async fn write(w: &mut Box<dyn UploadWriter>, data: &[u8]) {
    w.write(Bytes::copy_from_slice(data)).await.unwrap();
}

/// Small uploads: appends from recorded states, a cancelled writer, seal, publish, discard.
async fn uploads(s: &dyn Storage) {
    let id = Uuid::new_v4();
    let mut w = s.append(&id, &UploadState::default(), None).await.unwrap();
    write(&mut w, b"hello ").await;
    let s1 = w.commit().await.unwrap();
    assert_eq!(s1.size, 6);
    let mut w = s.append(&id, &s1, None).await.unwrap();
    write(&mut w, b"world").await;
    assert_eq!(w.size(), 11);
    let s2 = w.commit().await.unwrap();
    s.forget(&id, &s1, &s2).await.unwrap();

    // A failed request's bytes past the recorded state do not count.
    let mut w = s.append(&id, &s2, None).await.unwrap();
    write(&mut w, b"GARBAGE").await;
    let _ignored = w.commit().await.unwrap();
    let mut w = s.append(&id, &s2, None).await.unwrap();
    write(&mut w, b"!").await;
    let mut sealed = w.seal().await.unwrap();
    assert_eq!(sealed.size(), 12);
    assert_eq!(
        read_all(sealed.read().await.unwrap()).await.unwrap(),
        b"hello world!"
    );
    let blob = layout::blob(&Algorithm::Sha256.digest_of(b"hello world!"));
    assert_eq!(s.stat(&blob).await.unwrap(), None);
    sealed.publish(&blob).await.unwrap();
    assert_eq!(get(s, &blob, 0, None).await, b"hello world!");
    assert_eq!(s.list(&layout::uploads_root()).await.unwrap(), vec![]);

    // An upload whose recorded bytes are gone cannot be continued.
    let gone = UploadState {
        size: 100,
        ..UploadState::default()
    };
    assert!(s.append(&Uuid::new_v4(), &gone, None).await.is_err());

    // Discarding a sealed upload or an upload in progress leaves nothing.
    let id = Uuid::new_v4();
    let mut w = s.append(&id, &UploadState::default(), None).await.unwrap();
    write(&mut w, b"abc").await;
    let st = w.commit().await.unwrap();
    let mut w = s.append(&id, &st, None).await.unwrap();
    write(&mut w, b"def").await;
    w.seal().await.unwrap().discard().await.unwrap();
    s.discard(&id, st.multipart.as_ref()).await.unwrap();
    assert_eq!(s.list(&layout::uploads_root()).await.unwrap(), vec![]);
    s.delete(&layout::blobs_root()).await.unwrap();
}

fn pattern(n: usize, seed: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + seed) % 251) as u8).collect()
}

/// Uploads larger than several S3 parts, in odd chunk sizes, across requests (each from the
/// state the previous one recorded), and a monolithic one written towards its blob key.
async fn large_uploads(s: &dyn Storage) {
    const MIB: usize = 1024 * 1024;
    let data = pattern(21 * MIB + 12_345, 7);
    let cuts = [0, 9 * MIB + 1, 9 * MIB + 2, 16 * MIB + 3, data.len()];
    let id = Uuid::new_v4();
    let mut state = UploadState::default();
    for w in cuts.windows(2).take(cuts.len() - 2) {
        let mut up = s.append(&id, &state, None).await.unwrap();
        for piece in data[w[0]..w[1]].chunks(65_537) {
            write(&mut up, piece).await;
        }
        let next = up.commit().await.unwrap();
        assert_eq!(next.size, w[1] as u64);
        s.forget(&id, &state, &next).await.unwrap();
        state = next;
    }
    let digest = Algorithm::Sha256.digest_of(&data);
    let blob = layout::blob(&digest);
    let mut up = s.append(&id, &state, Some(&blob)).await.unwrap();
    write(&mut up, &data[cuts[3]..]).await;
    let sealed = up.seal().await.unwrap();
    assert_eq!(sealed.size(), data.len() as u64);
    assert_eq!(s.stat(&blob).await.unwrap(), None);
    sealed.publish(&blob).await.unwrap();
    assert!(
        get(s, &blob, 0, None).await == data,
        "chunked upload bytes differ"
    );
    assert_eq!(
        get(s, &blob, 8 * MIB as u64 - 3, Some(6)).await,
        &data[8 * MIB - 3..8 * MIB + 3]
    );
    assert_eq!(s.list(&layout::uploads_root()).await.unwrap(), vec![]);

    // Monolithic, towards the blob key: invisible until published, gone when discarded.
    let data = pattern(17 * MIB + 5, 3);
    let blob = layout::blob(&Algorithm::Sha256.digest_of(&data));
    for publish in [false, true] {
        let id = Uuid::new_v4();
        let mut up = s
            .append(&id, &UploadState::default(), Some(&blob))
            .await
            .unwrap();
        for piece in data.chunks(1_000_003) {
            write(&mut up, piece).await;
        }
        let sealed = up.seal().await.unwrap();
        assert_eq!(s.stat(&blob).await.unwrap(), None);
        if publish {
            sealed.publish(&blob).await.unwrap();
            assert_eq!(s.stat(&blob).await.unwrap(), Some(data.len() as u64));
        } else {
            sealed.discard().await.unwrap();
            s.discard(&id, None).await.unwrap();
            assert_eq!(s.stat(&blob).await.unwrap(), None);
        }
        assert_eq!(s.list(&layout::uploads_root()).await.unwrap(), vec![]);
    }
    s.delete(&layout::blobs_root()).await.unwrap();
}
