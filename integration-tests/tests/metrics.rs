//! Prometheus metrics (docs/metrics.md) on the real binaries: each service serves
//! `GET /metrics` on `metrics.listen` only, in a format a Prometheus text parser reads, and
//! its counters move as requests are made; no label carries a repository name.

use pier_integration_tests::pier::{Pier, ADMIN_PASSWORD};
use pier_integration_tests::{basic_auth, sha256};
use prometheus_parse::{Sample, Scrape, Value};

const REPO: &str = "admin/metricsprobe";

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    l.local_addr().unwrap().to_string()
}

/// Scrape and parse `http://{addr}/metrics`.
fn scrape(addr: &str) -> Scrape {
    let res = ureq::get(&format!("http://{addr}/metrics"))
        .call()
        .expect("scrape");
    assert!(
        res.content_type().starts_with("text/plain"),
        "{}",
        res.content_type()
    );
    let text = res.into_string().unwrap();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses");
    // Every sample line became a sample (the parser skips lines it cannot read): bucket
    // lines fold into histograms, `_sum` and `_count` stay samples of their own.
    let lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter(|l| !l.contains("_bucket{"))
        .count();
    let plain = scrape
        .samples
        .iter()
        .filter(|s| !matches!(s.value, Value::Histogram(_)))
        .count();
    assert_eq!(plain, lines, "some lines did not parse:\n{text}");
    for s in &scrape.samples {
        for (k, v) in s.labels.iter() {
            assert!(
                !v.contains("metricsprobe") && !v.contains("admin/"),
                "label {k}={v} names a repository: {s:?}"
            );
        }
    }
    scrape
}

fn value(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == name)
        .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x: &Sample| match &x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(b) => b.last().map(|b| b.count).unwrap_or(0.0),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

fn token(pier: &Pier, scope: &str) -> String {
    let body: serde_json::Value = ureq::get(
        &pier
            .index
            .url(&format!("/token?service=pier-registry&scope={scope}")),
    )
    .set("Authorization", &basic_auth("admin", ADMIN_PASSWORD))
    .call()
    .expect("token")
    .into_json()
    .unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// Push one config blob and a manifest naming it.
fn push(pier: &Pier, bearer: &str) {
    let auth = format!("Bearer {bearer}");
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let digest = sha256(config);
    let res = ureq::post(&pier.registry.url(&format!("/v2/{REPO}/blobs/uploads/")))
        .set("Authorization", &auth)
        .call()
        .expect("start upload");
    assert_eq!(res.status(), 202);
    let location = res.header("Location").unwrap().to_string();
    let url = if location.starts_with("http") {
        location
    } else {
        pier.registry.url(&location)
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let res = ureq::put(&format!("{url}{sep}digest={digest}"))
        .set("Authorization", &auth)
        .set("Content-Type", "application/octet-stream")
        .send_bytes(config)
        .expect("finish upload");
    assert_eq!(res.status(), 201);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest, "size": config.len()},
        "layers": []
    });
    let res = ureq::put(&pier.registry.url(&format!("/v2/{REPO}/manifests/v1")))
        .set("Authorization", &auth)
        .set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .send_string(&manifest.to_string())
        .expect("put manifest");
    assert_eq!(res.status(), 201);
}

#[test]
fn counters_move_and_stay_off_the_public_ports() {
    let dir = tempfile::tempdir().unwrap();
    let (reg_metrics, index_metrics) = (free_port(), free_port());
    let pier = Pier::start_linked_env(
        dir.path(),
        30,
        &[("PIER_INDEX_METRICS_LISTEN", &index_metrics)],
        &[("PIER_REGISTRY_METRICS_LISTEN", &reg_metrics)],
    );

    // The public ports do not serve /metrics.
    for public in [pier.registry.url("/metrics"), pier.index.url("/metrics")] {
        match ureq::get(&public).call() {
            Err(ureq::Error::Status(404, _)) => {}
            other => panic!("{public}: {other:?}"),
        }
    }

    let (r0, i0) = (scrape(&reg_metrics), scrape(&index_metrics));
    let bearer = token(&pier, &format!("repository:{REPO}:pull,push"));
    push(&pier, &bearer);
    // A wrong password: a login failure and a refused token.
    let refused = ureq::get(&pier.index.url("/token?service=pier-registry"))
        .set("Authorization", &basic_auth("admin", "wrong"))
        .call();
    assert!(
        matches!(refused, Err(ureq::Error::Status(401, _))),
        "{refused:?}"
    );
    let (r1, i1) = (scrape(&reg_metrics), scrape(&index_metrics));

    let moved = |a: &Scrape, b: &Scrape, name: &str, labels: &[(&str, &str)]| {
        value(b, name, labels) - value(a, name, labels)
    };
    // Registry: the push.
    assert_eq!(
        moved(&r0, &r1, "pier_registry_blob_uploads_started_total", &[]),
        1.0
    );
    assert_eq!(
        moved(&r0, &r1, "pier_registry_blob_uploads_completed_total", &[]),
        1.0
    );
    assert_eq!(
        moved(&r0, &r1, "pier_registry_manifests_pushed_total", &[]),
        1.0
    );
    let manifests = [
        ("route", "/v2/<name>/manifests/<reference>"),
        ("method", "PUT"),
        ("status", "201"),
    ];
    assert_eq!(moved(&r0, &r1, "pier_http_requests_total", &manifests), 1.0);
    assert!(
        moved(
            &r0,
            &r1,
            "pier_http_request_duration_seconds",
            &[manifests[0], manifests[1]]
        ) >= 1.0
    );
    assert!(
        moved(
            &r0,
            &r1,
            "pier_http_received_bytes_total",
            &[("route", "/v2/<name>/blobs/uploads/<uuid>")]
        ) >= 37.0,
        "the config blob's bytes"
    );
    assert!(
        moved(
            &r0,
            &r1,
            "pier_registry_index_calls_total",
            &[("call", "introspect"), ("outcome", "ok")]
        ) >= 1.0
    );
    assert!(
        moved(
            &r0,
            &r1,
            "pier_registry_confirm_cache_total",
            &[("result", "miss")]
        ) >= 1.0
    );
    assert!(
        moved(
            &r0,
            &r1,
            "pier_registry_confirm_cache_total",
            &[("result", "hit")]
        ) >= 1.0
    );
    assert!(
        moved(
            &r0,
            &r1,
            "pier_registry_storage_operation_duration_seconds",
            &[]
        ) >= 1.0
    );
    assert!(value(&r1, "pier_db_pool_max", &[]) >= 1.0);

    // Index: the tokens, the introspections, the failed login.
    let issued = [("grant_type", "basic"), ("outcome", "issued")];
    assert_eq!(moved(&i0, &i1, "pier_index_tokens_total", &issued), 1.0);
    assert_eq!(
        moved(
            &i0,
            &i1,
            "pier_index_tokens_total",
            &[("grant_type", "basic"), ("outcome", "invalid_client")]
        ),
        1.0
    );
    assert!(
        moved(
            &i0,
            &i1,
            "pier_index_introspections_total",
            &[("outcome", "active")]
        ) >= 1.0
    );
    assert_eq!(
        moved(
            &i0,
            &i1,
            "pier_index_login_failures_total",
            &[("reason", "bad_credentials")]
        ),
        1.0
    );
    assert!(
        moved(
            &i0,
            &i1,
            "pier_http_requests_total",
            &[("route", "/token"), ("method", "GET"), ("status", "200")]
        ) >= 1.0
    );
}
