//! An uncached blob is streamed to the client while the upstream sends it: with the
//! upstream throttled (the flaky proxy's `Slow`), the client's first bytes arrive long
//! before the upstream has finished, and the whole body is the upstream's.

use super::{get_manifest, start_pier, upstream_with};
use pier_integration_tests::mirror::{FlakyProxy, Format, Image, MirrorToml, Mode, UpstreamToml};
use std::io::Read;
use std::time::{Duration, Instant};

/// 8 MiB at 2 MiB/s: the upstream needs at least 4 s to send the layer.
const LAYER: usize = 8 << 20;
const RATE: u64 = 2 << 20;

#[test]
fn the_first_bytes_of_an_uncached_blob_reach_the_client_before_the_upstream_has_sent_it() {
    let tmp = tempfile::tempdir().unwrap();
    let image = Image::new(80, &[LAYER], Format::Docker);
    let up = upstream_with(&tmp.path().join("up"), &[("library/slow", "1", &image)]);
    let proxy = FlakyProxy::start(up.addr.parse().unwrap());
    let hub = UpstreamToml::new("hub", &proxy.url());
    let pier = start_pier(&tmp.path().join("pier"), &MirrorToml::one(hub, false));
    let base = format!("http://{}", pier.addr);
    assert_eq!(
        get_manifest(&base, "hub/library/slow", "1").body,
        image.manifest
    );

    let layer = image.amd64_manifest()["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let want = &image.blobs[&layer];
    proxy.set(Mode::Slow {
        bytes_per_second: RATE,
    });
    let start = Instant::now();
    let resp = ureq::get(&format!("{base}/v2/hub/library/slow/blobs/{layer}"))
        .timeout(Duration::from_secs(120))
        .call()
        .unwrap_or_else(|e| panic!("GET the layer through Pier: {e}"));
    let mut reader = resp.into_reader();
    let mut got = vec![0u8; 64 * 1024];
    reader.read_exact(&mut got).unwrap();
    let first = start.elapsed();
    reader.read_to_end(&mut got).unwrap();
    let total = start.elapsed();
    eprintln!(
        "first 64 KiB after {first:?}, all {} bytes after {total:?}",
        got.len()
    );
    assert!(
        got == *want,
        "the streamed layer differs from the upstream's"
    );
    let upstream_time = Duration::from_secs_f64(LAYER as f64 / RATE as f64);
    assert!(
        total >= upstream_time.mul_f64(0.9),
        "the throttle did not hold ({total:?} for {LAYER} bytes at {RATE} B/s)"
    );
    assert!(
        first < upstream_time / 2,
        "the first bytes came after {first:?}, the upstream sends for {upstream_time:?}: \
         the blob was not streamed while it arrived"
    );
    assert_eq!(up.blob_gets("library/slow", &layer), 1);
}
