//! The disk fills up: storage and the SQLite database on a small tmpfs, as `pier up` keeps
//! both in one directory. Needs root (mount); run-tests.sh runs as root in CI.

use super::*;
use pier_integration_tests::{run_ok, Registry};
use std::path::{Path, PathBuf};

/// A tmpfs of `mib` MiB mounted at `at`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, mib: u32) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "the disk-full test mounts a small tmpfs and needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Write zeros into `path` until the file system refuses; the bytes written.
fn fill(path: &Path) -> u64 {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut n = 0;
    while f.write_all(&chunk).is_ok() {
        n += chunk.len() as u64;
    }
    let _ = f.sync_all();
    n
}

fn assert_clean_5xx(r: &Reply, what: &str) {
    println!("figure: {what}: {} {}", r.status, oci_code(r));
    assert!(
        (500..600).contains(&r.status),
        "{what}: status {} (want 5xx)",
        r.status
    );
    let code = oci_code(r);
    assert!(
        !code.starts_with('<'),
        "{what}: a 5xx with an OCI error body, got {code}"
    );
}

#[test]
fn a_full_disk_is_a_clean_5xx_and_pushes_work_once_space_is_freed() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(&tmp.path().join("disk"), 24);
    let url = format!("sqlite://{}", disk.0.join("metadata.db").display());
    let storage = disk.0.join("storage");
    // Logs stay off the small disk; storage and metadata are on it (filesystem driver in
    // every pass: this is the filesystem's failure).
    let registry = Registry::start_with(
        &tmp.path().join("logs"),
        &[
            ("PIER_REGISTRY_DATABASE_URL", &url),
            ("PIER_REGISTRY_STORAGE_DRIVER", "filesystem"),
            ("PIER_REGISTRY_STORAGE_ROOT", storage.to_str().unwrap()),
        ],
    );
    let mut c = Client::new(&registry.url(""), None);
    let small = b"an image stored before the disk filled".to_vec();
    push_image(&mut c, "app", "v1", &small).unwrap_or_else(|r| panic!("push: {}", r.status));

    // A blob larger than the disk, in one request and in chunks.
    let big: Vec<u8> = (0..40u32 << 20).map(|i| (i % 251) as u8).collect();
    let r = push_blob(&mut c, "app", &big).unwrap();
    assert_clean_5xx(&r, "monolithic push of 40 MiB onto 24 MiB");
    let r = c
        .send("POST", "/v2/app/blobs/uploads/", "", &[], None, Keep::Body)
        .unwrap();
    assert_eq!(r.status, 202, "an upload session; log:\n{}", registry.log());
    let location = r.header("location").unwrap().to_string();
    let body = Body {
        head: &big,
        tail: &[],
    };
    let r = c
        .send(
            "PATCH",
            &location,
            "",
            &[("Content-Type", "application/octet-stream")],
            Some(&body),
            Keep::Body,
        )
        .unwrap();
    assert_clean_5xx(&r, "a 40 MiB chunk onto 24 MiB");
    let d = sha256(&big);
    let r = c
        .send(
            "HEAD",
            &format!("/v2/app/blobs/{d}"),
            "",
            &[],
            None,
            Keep::Count,
        )
        .unwrap();
    assert_eq!(r.status, 404, "no part of the refused blob is visible");
    assert_image_intact(&mut c, "app", "v1", &small);

    // Fill the disk to the last byte with something else: small pushes fail cleanly too.
    let filler = disk.0.join("filler");
    fill(&filler);
    let layer = b"pushed while the disk is full".to_vec();
    match push_image(&mut c, "app", "v2", &layer) {
        Ok(()) => panic!("a push onto a full disk was acknowledged"),
        Err(r) => assert_clean_5xx(&r, "a small push onto a full disk"),
    }
    assert_image_intact(&mut c, "app", "v1", &small);

    // Space is freed: pushes work again, without a restart.
    std::fs::remove_file(&filler).unwrap();
    push_image(&mut c, "app", "v2", &layer).unwrap_or_else(|r| {
        panic!(
            "push after freeing space: {} {}; log:\n{}",
            r.status,
            String::from_utf8_lossy(&r.body),
            registry.log()
        )
    });
    assert_image_intact(&mut c, "app", "v2", &layer);
    assert_image_intact(&mut c, "app", "v1", &small);
    let free = run_ok("df", &["--output=avail", "-B1", disk.0.to_str().unwrap()]);
    let avail: u64 = free
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        avail > 20 << 20,
        "the refused uploads left nothing behind: {avail} bytes free of 24 MiB"
    );
    drop(registry);
}
