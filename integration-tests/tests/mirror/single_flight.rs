//! 20 clients pull one uncached 64 MiB image through Pier at the same moment: the upstream
//! sends each blob once (counted in its access log), and all 20 get the same bytes.
//! Five of them are skopeo, fifteen a plain HTTP client here that hashes what it streams.

use super::{assert_pulled, blob_gets, skopeo_pull, start_pier, tail, upstream_with};
use pier_integration_tests::mirror::images::DOCKER_MANIFEST;
use pier_integration_tests::mirror::{Format, Image, MirrorToml, UpstreamToml};
use pier_integration_tests::require_tool;
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const CLIENTS: usize = 20;
const SKOPEO_CLIENTS: usize = 5;
/// 64 MiB in four random (incompressible) layers of 16 MiB.
const LAYERS: [usize; 4] = [16 << 20; 4];

/// What a client got: the manifest's digest, and for each blob it asked, in the manifest's
/// order, `(digest asked, sha256 of the bytes received)`.
type Pulled = (String, Vec<(String, String)>);

/// GET the manifest of `name:tag`, then every blob it names, hashing each as it streams.
fn pull_and_hash(base: &str, name: &str, tag: &str) -> Result<Pulled, String> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(300))
        .build();
    let get = |path: &str, accept: Option<&str>| {
        let mut req = agent.get(&format!("{base}{path}"));
        if let Some(a) = accept {
            req = req.set("Accept", a);
        }
        req.call().map_err(|e| format!("GET {path}: {e}"))
    };
    let mut manifest = Vec::new();
    get(
        &format!("/v2/{name}/manifests/{tag}"),
        Some(DOCKER_MANIFEST),
    )?
    .into_reader()
    .read_to_end(&mut manifest)
    .map_err(|e| e.to_string())?;
    let m: serde_json::Value = serde_json::from_slice(&manifest).map_err(|e| e.to_string())?;
    let mut digests = vec![m["config"]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_string()];
    for l in m["layers"].as_array().into_iter().flatten() {
        digests.push(l["digest"].as_str().unwrap_or_default().to_string());
    }
    let mut got = Vec::new();
    for d in digests {
        let mut reader = get(&format!("/v2/{name}/blobs/{d}"), None)?.into_reader();
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| format!("reading {d}: {e}"))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        got.push((d, format!("sha256:{}", hex::encode(hasher.finalize()))));
    }
    Ok((pier_integration_tests::sha256(&manifest), got))
}

#[test]
fn twenty_concurrent_pulls_of_an_uncached_64_mib_image_fetch_each_blob_once() {
    require_tool("skopeo");
    let tmp = tempfile::tempdir().unwrap();
    let made = Instant::now();
    let big = Image::new(50, &LAYERS, Format::Docker);
    assert!(big.size() >= 64 << 20);
    let up = upstream_with(&tmp.path().join("up"), &[("library/big", "1", &big)]);
    eprintln!(
        "64 MiB image made and pushed upstream in {:?}",
        made.elapsed()
    );
    let hub = UpstreamToml::new("hub", &up.url());
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, false));
    let base = format!("http://{}", pier.addr);
    assert!(blob_gets(&up, "library/big", &big)
        .iter()
        .all(|(_, n)| *n == 0));

    let start = Arc::new(Barrier::new(CLIENTS));
    let pulled = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let start = Arc::clone(&start);
            let base = base.clone();
            let out = tmp.path().join(format!("skopeo-{i}"));
            let src = format!("docker://{}/hub/library/big:1", pier.addr);
            std::thread::spawn(move || -> Result<Option<Pulled>, String> {
                start.wait();
                if i < SKOPEO_CLIENTS {
                    let r = skopeo_pull(&src, &out, false, None);
                    if !r.status.success() {
                        return Err(format!(
                            "skopeo {i}: {}",
                            String::from_utf8_lossy(&r.stderr)
                        ));
                    }
                    Ok(None)
                } else {
                    pull_and_hash(&base, "hub/library/big", "1").map(Some)
                }
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    eprintln!("{CLIENTS} concurrent pulls done in {:?}", pulled.elapsed());
    let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        errors.is_empty(),
        "{} of {CLIENTS} pulls failed: {errors:#?}\nPier's log (end):\n{}",
        errors.len(),
        tail(&pier.log(), 40)
    );

    for i in 0..SKOPEO_CLIENTS {
        assert_pulled(&tmp.path().join(format!("skopeo-{i}")), &big, false);
    }
    let want: Vec<(String, String)> = std::iter::once(big.config_digest())
        .chain(
            big.amd64_manifest()["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["digest"].as_str().unwrap().to_string()),
        )
        .map(|d| (d.clone(), d))
        .collect();
    for r in results.iter().flatten().flatten() {
        assert_eq!(r.0, big.digest(), "a client got another manifest");
        assert_eq!(r.1, want, "a client got other bytes");
    }

    let gets = blob_gets(&up, "library/big", &big);
    eprintln!(
        "upstream GETs per blob: {gets:?}; manifest GETs by tag: {}",
        up.requests("GET", "/v2/library/big/manifests/1")
    );
    for (digest, n) in gets {
        assert_eq!(
            n, 1,
            "upstream GETs of {digest} for {CLIENTS} concurrent pulls"
        );
    }
}
