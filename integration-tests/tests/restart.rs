//! A registry killed in the middle of a chunked upload continues it after restart.

use pier_integration_tests::image::pseudo_random;
use pier_integration_tests::{sha256, Registry};

fn header(resp: &ureq::Response, name: &str) -> String {
    resp.header(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_string()
}

#[test]
fn chunked_upload_survives_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("pier");
    let blob = pseudo_random(3 * 1024 * 1024 + 17, 42);
    let digest = sha256(&blob);
    let (first, second) = blob.split_at(2 * 1024 * 1024);

    let reg = Registry::start(&data_dir);
    let resp = ureq::post(&reg.url("/v2/crash/test/blobs/uploads/"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 202);
    let location = header(&resp, "Location");
    let resp = ureq::patch(&reg.url(&location))
        .set("Content-Type", "application/octet-stream")
        .set("Content-Range", &format!("0-{}", first.len() - 1))
        .send_bytes(first)
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(header(&resp, "Range"), format!("0-{}", first.len() - 1));
    reg.kill();

    let reg = Registry::start(&data_dir);
    let resp = ureq::get(&reg.url(&location)).call().unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "Range"), format!("0-{}", first.len() - 1));
    let resp = ureq::patch(&reg.url(&location))
        .set(
            "Content-Range",
            &format!("{}-{}", first.len(), blob.len() - 1),
        )
        .send_bytes(second)
        .unwrap();
    assert_eq!(resp.status(), 202);
    let resp = ureq::put(&reg.url(&format!("{location}?digest={digest}")))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(header(&resp, "Docker-Content-Digest"), digest);

    let mut got = Vec::new();
    ureq::get(&reg.url(&format!("/v2/crash/test/blobs/{digest}")))
        .call()
        .unwrap()
        .into_reader()
        .read_to_end(&mut got)
        .unwrap();
    assert_eq!(sha256(&got), digest, "blob differs after restart");
    // The upload's temporary bytes are gone once the blob is committed (either driver).
    let stored = pier_integration_tests::stored::Stored::of(&reg.data);
    assert_eq!(stored.upload_objects(), 0, "upload objects left behind");
    assert_eq!(stored.blob_size(&digest), Some(got.len() as u64));
}

use std::io::Read;
