//! 20 clients pull one uncached 64 MiB image through Pier at the same moment: the upstream
//! sends each blob once (counted in its access log), and all 20 get the same bytes.
//! Five of them are skopeo, fifteen a plain HTTP client here that hashes what it streams.

use super::{assert_pulled, blob_gets, skopeo_pull, start_pier, tail, upstream_with};
use pier_integration_tests::mirror::images::DOCKER_MANIFEST;
use pier_integration_tests::mirror::{Format, Image, MirrorToml, UpstreamToml};
use pier_integration_tests::require_tool;
use std::io::Read;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const CLIENTS: usize = 20;
const SKOPEO_CLIENTS: usize = 5;
/// 64 MiB in four random (incompressible) layers of 16 MiB.
const LAYERS: [usize; 4] = [16 << 20; 4];

/// GET the manifest of `name:tag` and every blob it names, comparing each byte streamed
/// with `image`'s (cheaper than hashing 64 MiB per client in a debug build, and stricter).
fn pull_and_compare(base: &str, name: &str, tag: &str, image: &Image) -> Result<(), String> {
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
    if manifest != image.manifest {
        return Err(format!(
            "another manifest: {}",
            String::from_utf8_lossy(&manifest)
        ));
    }
    let m = image.amd64_manifest();
    let digests = std::iter::once(&m["config"])
        .chain(m["layers"].as_array().unwrap())
        .map(|d| d["digest"].as_str().unwrap().to_string());
    for d in digests {
        let want = &image.blobs[&d];
        let mut reader = get(&format!("/v2/{name}/blobs/{d}"), None)?.into_reader();
        let mut buf = vec![0u8; 256 * 1024];
        let mut at = 0;
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| format!("reading {d} at {at}: {e}"))?;
            if n == 0 {
                break;
            }
            if at + n > want.len() || buf[..n] != want[at..at + n] {
                return Err(format!("{d}: bytes differ in {at}..{}", at + n));
            }
            at += n;
        }
        if at != want.len() {
            return Err(format!("{d}: {at} bytes of {}", want.len()));
        }
    }
    Ok(())
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

    let big = Arc::new(big);
    let start = Arc::new(Barrier::new(CLIENTS));
    let pulled = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let start = Arc::clone(&start);
            let base = base.clone();
            let big = Arc::clone(&big);
            let out = tmp.path().join(format!("skopeo-{i}"));
            let src = format!("docker://{}/hub/library/big:1", pier.addr);
            std::thread::spawn(move || -> Result<(), String> {
                start.wait();
                if i < SKOPEO_CLIENTS {
                    let r = skopeo_pull(&src, &out, false, None);
                    r.status.success().then_some(()).ok_or_else(|| {
                        format!("skopeo {i}: {}", String::from_utf8_lossy(&r.stderr))
                    })
                } else {
                    pull_and_compare(&base, "hub/library/big", "1", &big)
                        .map_err(|e| format!("client {i}: {e}"))
                }
            })
        })
        .collect();
    let errors: Vec<String> = threads
        .into_iter()
        .filter_map(|t| t.join().unwrap().err())
        .collect();
    eprintln!("{CLIENTS} concurrent pulls done in {:?}", pulled.elapsed());
    assert!(
        errors.is_empty(),
        "{} of {CLIENTS} pulls failed: {errors:#?}\nPier's log (end):\n{}",
        errors.len(),
        tail(&pier.log(), 40)
    );
    for i in 0..SKOPEO_CLIENTS {
        assert_pulled(&tmp.path().join(format!("skopeo-{i}")), &big, false);
    }

    let gets = blob_gets(&up, "library/big", &big);
    eprintln!(
        "upstream GETs per blob: {gets:?}; manifest GETs by tag: {}",
        up.requests("GET", "/v2/library/big/manifests/1")
    );
    let config = big.config_digest();
    let twice: Vec<String> = gets
        .iter()
        .filter(|(_, n)| *n != 1)
        .map(|(digest, n)| {
            let role = if *digest == config { "config" } else { "layer" };
            let lines = |log: &str| {
                log.lines()
                    .filter(|l| l.contains(digest.as_str()))
                    .take(30)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            format!(
                "{role} {digest}: {n} upstream GETs\nupstream:\n{}\nPier:\n{}",
                lines(&up.log()),
                lines(&pier.log())
            )
        })
        .collect();
    assert!(
        twice.is_empty(),
        "{CLIENTS} concurrent pulls, not one upstream GET per blob:\n{}",
        twice.join("\n\n")
    );
}
