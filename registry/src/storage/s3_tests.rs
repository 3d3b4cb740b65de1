//! The S3 driver against a real engine (Garage in CI: `integration-tests/tools/garage.sh`).
//! Each test uses its own random key prefix. Without the `PIER_TEST_S3_*` variables these
//! tests fail when `PIER_TEST_STORAGE=s3` or `CI` is set; elsewhere they say so and pass.

use super::{test_config, tests_use_s3, S3Storage};
use crate::storage::fs::read_all;
use crate::storage::{layout, Storage};
use bytes::Bytes;
use pier_shared::Algorithm;

/// A driver under a fresh prefix, or `None` (with a note) when S3 is not asked for.
fn storage() -> Option<S3Storage> {
    let prefix = format!("test-{}", uuid::Uuid::new_v4());
    match test_config(&prefix) {
        Ok(c) => Some(S3Storage::new(&c).expect("S3 driver from the test settings")),
        Err(e) if tests_use_s3() || std::env::var_os("CI").is_some() => panic!("{e}"),
        Err(e) => {
            eprintln!("S3 driver tests not run here: {e}");
            None
        }
    }
}

#[actix_rt::test]
async fn s3_driver_passes_the_suite() {
    let Some(s) = storage() else { return };
    crate::storage::suite::run(&s).await;
}

#[actix_rt::test]
async fn presigned_urls_serve_the_object() {
    let Some(s) = storage() else { return };
    let blob = layout::blob(&Algorithm::Sha256.digest_of(b"presigned"));
    let mut w = s.put(&blob).await.unwrap();
    w.write(Bytes::from_static(b"presigned")).await.unwrap();
    w.commit().await.unwrap();
    assert_eq!(
        s.redirect_url(&blob).await.unwrap(),
        None,
        "redirect is off"
    );
    let mut c = test_config("unused").unwrap();
    c.prefix = s.inner.prefix.clone();
    c.redirect = true;
    let s = S3Storage::new(&c).unwrap();
    let url = s
        .redirect_url(&blob)
        .await
        .unwrap()
        .expect("a presigned URL");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let got = reqwest::get(&url).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(&got.bytes().await.unwrap()[..], b"presigned");
    s.delete(&layout::blobs_root()).await.unwrap();
}

/// A state naming a multipart upload that was completed meanwhile (a finishing request
/// that stopped before its row went) cannot be continued: `NotFound`, never other bytes.
#[actix_rt::test]
async fn a_completed_multipart_upload_cannot_be_continued() {
    use crate::storage::{StorageError, UploadState};
    let Some(s) = storage() else { return };
    // With a tail (its object is gone) and without one (the part upload is refused).
    for extra in [10, 0] {
        let id = uuid::Uuid::new_v4();
        let data = vec![7u8; super::PART_SIZE + extra];
        let mut w = s.append(&id, &UploadState::default(), None).await.unwrap();
        w.write(Bytes::from(data.clone())).await.unwrap();
        let state = w.commit().await.unwrap();
        assert!(state.multipart.is_some() && state.parts.len() == 1);
        let blob = layout::blob(&Algorithm::Sha256.digest_of(&data));
        let w = s.append(&id, &state, None).await.unwrap();
        w.seal().await.unwrap().publish(&blob).await.unwrap();
        let err = match s.append(&id, &state, None).await {
            Err(e) => e,
            Ok(mut w) => {
                let more = Bytes::from(vec![1u8; super::PART_SIZE]);
                w.write(more)
                    .await
                    .expect_err("a part for a completed upload")
            }
        };
        assert!(matches!(err, StorageError::NotFound(_)), "{extra}: {err:?}");
    }
    s.delete(&layout::blobs_root()).await.unwrap();
}

/// `AWS_*` variables set to nonsense change nothing: run in a child process of this test
/// binary (setting variables in this multi-threaded process would race other tests).
#[test]
fn ambient_aws_variables_change_nothing() {
    if storage().is_none() {
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "storage::s3::tests::ambient_child",
            "--exact",
            "--nocapture",
        ])
        .env("PIER_TEST_AMBIENT_CHILD", "1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIANONSENSE")
        .env("AWS_SECRET_ACCESS_KEY", "nonsense")
        .env("AWS_SESSION_TOKEN", "nonsense")
        .env("AWS_REGION", "mars-north-1")
        .env("AWS_DEFAULT_REGION", "mars-north-1")
        .env("AWS_CA_BUNDLE", "/nonexistent/ca.pem")
        .env("AWS_PROFILE", "nonsense")
        .env("AWS_S3_FORCE_PATH_STYLE", "false")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[actix_rt::test]
async fn ambient_child() {
    if std::env::var_os("PIER_TEST_AMBIENT_CHILD").is_none() {
        return;
    }
    let s = storage().expect("S3 settings in the child");
    let blob = layout::blob(&Algorithm::Sha256.digest_of(b"ambient"));
    let mut w = s.put(&blob).await.unwrap();
    w.write(Bytes::from_static(b"ambient")).await.unwrap();
    w.commit().await.unwrap();
    let back = read_all(s.read(&blob, 0, None).await.unwrap())
        .await
        .unwrap();
    assert_eq!(back, b"ambient");
    assert_eq!(s.list(&layout::blobs_root()).await.unwrap(), vec![blob]);
    s.delete(&layout::blobs_root()).await.unwrap();
}

/// The figures in docs/storage.md ("Costs measured"): resuming a 64 MiB chunked upload from
/// the saved hash state versus re-reading its bytes, and the finishing copy. Run by hand:
/// `cargo test -p pier-registry --release --lib measure_s3_costs -- --ignored --nocapture`.
#[actix_rt::test]
#[ignore]
async fn measure_s3_costs() {
    use crate::storage::UploadState;
    use std::time::Instant;
    const MIB: usize = 1024 * 1024;
    let s = storage().expect("S3 settings");
    let data: Vec<u8> = (0..64 * MIB).map(|i| (i * 131 % 251) as u8).collect();
    let id = uuid::Uuid::new_v4();
    let mut state = UploadState::default();
    let mut hasher = Algorithm::Sha256.hasher();
    let t = Instant::now();
    // 10 MiB chunks: every request but the first reads a 2-8 MiB tail back.
    let chunks: Vec<&[u8]> = data.chunks(10 * MIB).collect();
    let (last, rest) = chunks.split_last().unwrap();
    for c in rest {
        let mut w = s.append(&id, &state, None).await.unwrap();
        w.write(Bytes::copy_from_slice(c)).await.unwrap();
        hasher.update(c);
        let next = w.commit().await.unwrap();
        s.forget(&id, &state, &next).await.unwrap();
        state = next;
    }
    let mut w = s.append(&id, &state, None).await.unwrap();
    w.write(Bytes::copy_from_slice(last)).await.unwrap();
    hasher.update(last);
    let sealed = w.seal().await.unwrap();
    let pushed = t.elapsed();
    let saved = hasher.save_state();
    let t = Instant::now();
    for _ in 0..1000 {
        let h = pier_shared::Hasher::restore_state(Algorithm::Sha256, &saved).unwrap();
        std::hint::black_box(h);
    }
    let restore = t.elapsed() / 1000;
    let blob = layout::blob(&hasher.finish());
    let t = Instant::now();
    sealed.publish(&blob).await.unwrap();
    let publish = t.elapsed();
    let t = Instant::now();
    let mut h = Algorithm::Sha256.hasher();
    let mut st = s.read(&blob, 0, None).await.unwrap();
    while let Some(c) = futures_util::StreamExt::next(&mut st).await {
        h.update(&c.unwrap());
    }
    let reread = t.elapsed();
    let copy_to = layout::blob(&Algorithm::Sha256.digest_of(b"copy"));
    let t = Instant::now();
    s.copy(&blob, &copy_to).await.unwrap();
    let copy = t.elapsed();
    println!(
        "64 MiB chunked push in 7 requests: {pushed:?}; hash state {} bytes, restore {restore:?}; \
         re-read + sha256 of 64 MiB {reread:?}; publish (complete + copy + cleanup) {publish:?}; \
         CopyObject alone {copy:?}",
        saved.len()
    );
    s.delete(&layout::blobs_root()).await.unwrap();
}
