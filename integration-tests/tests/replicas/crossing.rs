//! Requests of one job spread over replicas: a chunked upload whose every step goes to the
//! other registry, a token one index signed that the other registry verifies and the
//! other index confirms, a repository deleted through one index and gone for data written
//! through the other registry.

use crate::http::{self, req, send, token, PASSWORD, USER};
use crate::{cluster, wait_for};
use pier_integration_tests::image::pseudo_random;
use pier_integration_tests::{basic_auth, sha256};

const MIB: usize = 1024 * 1024;

#[test]
fn a_chunked_upload_alternates_registry_replicas() {
    let (_tmp, c) = cluster();
    let [a, b] = [c.registries[0].url(""), c.registries[1].url("")];
    let repo = "alice/chunked";
    let t = token(&c.index_url(""), &format!("repository:{repo}:pull,push"));
    let blob = pseudo_random(5 * MIB + 3, 11);
    let digest = sha256(&blob);

    let (status, r) = send(
        req("POST", &a, &format!("/v2/{repo}/blobs/uploads/"), &t),
        None,
    );
    assert_eq!(status, 202);
    let location = r.header("Location").expect("Location").to_string();
    let mut offset = 0;
    for (i, chunk) in blob.chunks(2 * MIB).enumerate() {
        let base = if i % 2 == 0 { &b } else { &a };
        let end = offset + chunk.len() - 1;
        let (status, r) = send(
            req("PATCH", base, &location, &t)
                .set("Content-Type", "application/octet-stream")
                .set("Content-Range", &format!("{offset}-{end}")),
            Some(chunk),
        );
        assert_eq!(status, 202, "chunk {i} at {base}: {}", c.logs());
        assert_eq!(r.header("Range"), Some(format!("0-{end}").as_str()));
        offset = end + 1;
        // The other replica sees the progress.
        let other = if i % 2 == 0 { &a } else { &b };
        let (status, r) = send(req("GET", other, &location, &t), None);
        assert_eq!(status, 204);
        assert_eq!(r.header("Range"), Some(format!("0-{end}").as_str()));
    }
    // Three chunks: B, A, B; the PUT goes to A.
    let sep = if location.contains('?') { '&' } else { '?' };
    let put = format!("{location}{sep}digest={digest}");
    let (status, r) = send(req("PUT", &a, &put, &t), None);
    assert_eq!(status, 201, "{}", r.into_string().unwrap_or_default());
    for base in [&a, &b, &c.registry_url("")] {
        let got = http::served_digest(base, &format!("/v2/{repo}/blobs/{digest}"), &t);
        assert_eq!(got.as_deref(), Ok(digest.as_str()), "served by {base}");
    }
}

/// Lines of a log naming the introspection endpoint.
fn introspections(log: &str) -> usize {
    log.lines().filter(|l| l.contains("/introspect")).count()
}

#[test]
fn a_token_from_index_a_is_verified_by_registry_b_and_confirmed_by_index_b() {
    let (_tmp, mut c) = cluster();
    let repo = "alice/crossed";
    let nginx_token = token(&c.index_url(""), &format!("repository:{repo}:pull,push"));
    http::push_image(
        &c.registry_url(""),
        repo,
        "v1",
        &nginx_token,
        &[pseudo_random(4096, 1)],
    );

    // Signed by index A; then index A is gone, so only index B can confirm it.
    let from_a = token(&c.indexes[0].url(""), &format!("repository:{repo}:pull"));
    c.indexes[0].kill();
    let b = &c.indexes[1];
    let before = introspections(&b.svc().log());
    let blobs = http::verify_repository(&c.registries[1].url(""), repo, &from_a);
    assert_eq!(blobs, 2);
    wait_for(5, "index B logs the confirmation", || {
        introspections(&b.svc().log()) > before
    });

    // And the other way round, index A back: a token from B, registry A, index A.
    c.indexes[0].restart();
    let from_b = token(&c.indexes[1].url(""), &format!("repository:{repo}:pull"));
    c.indexes[1].kill();
    let before = introspections(&c.indexes[0].svc().log());
    assert_eq!(
        http::verify_repository(&c.registries[0].url(""), repo, &from_b),
        2
    );
    let a = &c.indexes[0];
    wait_for(5, "index A logs the confirmation", || {
        introspections(&a.svc().log()) > before
    });
}

#[test]
fn a_repository_deleted_through_index_b_is_gone_for_data_written_through_registry_a() {
    let (_tmp, c) = cluster();
    let repo = "alice/doomed";
    let a = c.registries[0].url("");
    let t = token(&c.index_url(""), &format!("repository:{repo}:pull,push"));
    let layer = pseudo_random(300_000, 5);
    http::push_image(&a, repo, "v1", &t, std::slice::from_ref(&layer));
    assert_eq!(http::verify_repository(&a, repo, &t), 2);

    let (status, _) = send(
        ureq::delete(&c.indexes[1].url(&format!("/api/v1/repositories/{repo}")))
            .set("Authorization", &basic_auth(USER, PASSWORD)),
        None,
    );
    assert_eq!(status, 204);
    // The index's deletion job (either replica) deletes at the registry through nginx.
    wait_for(30, "the repository is deleted at the registry", || {
        let fresh = token(&c.index_url(""), &format!("repository:{repo}:pull"));
        let (status, r) = send(
            req("GET", &a, &format!("/v2/{repo}/manifests/v1"), &fresh),
            None,
        );
        status == 404 && r.into_string().unwrap_or_default().contains("NAME_UNKNOWN")
    });
    // The token issued before is refused everywhere (past the confirmation cache).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let layer_path = format!("/v2/{repo}/blobs/{}", sha256(&layer));
    for r in &c.registries {
        let (status, _) = send(req("GET", &r.url(""), &layer_path, &t), None);
        assert_eq!(status, 401, "old token at {}", r.svc().addr);
    }
}
