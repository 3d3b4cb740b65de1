//! token-bench: closed-loop load on a Docker token endpoint (pier-index or any other).
//!
//! ```text
//! token-bench --url http://127.0.0.1:5001/token --user alice --password pw \
//!             [--refresh-token T] [-c 8] [--seconds 5] [--scope repository:alice/app:pull]
//! ```
//! With `--refresh-token` it POSTs `grant_type=refresh_token` (docker's identity token);
//! otherwise it GETs with Basic credentials. Each of `-c` threads keeps one keep-alive
//! connection and sends requests back to back for `--seconds`; the run is bounded. Prints
//! one JSON line: name, unit, value (requests per second), p50/p90/p99/max (ms), errors.

use std::time::{Duration, Instant};

struct Args {
    url: String,
    user: String,
    password: String,
    refresh: Option<String>,
    concurrency: usize,
    seconds: u64,
    scope: String,
    service: String,
}

fn parse() -> Args {
    let mut a = Args {
        url: String::new(),
        user: String::new(),
        password: String::new(),
        refresh: None,
        concurrency: 8,
        seconds: 5,
        scope: String::new(),
        service: "pier-registry".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = val(),
            "--user" => a.user = val(),
            "--password" => a.password = val(),
            "--refresh-token" => a.refresh = Some(val()),
            "-c" => a.concurrency = val().parse().expect("-c N"),
            "--seconds" => a.seconds = val().parse::<u64>().expect("--seconds N").min(600),
            "--scope" => a.scope = val(),
            "--service" => a.service = val(),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!a.url.is_empty(), "--url is required");
    a
}

fn one(agent: &ureq::Agent, a: &Args, auth: &str) -> bool {
    let r = match &a.refresh {
        Some(t) => agent.post(&a.url).send_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", t),
            ("service", &a.service),
            ("client_id", "token-bench"),
            ("scope", &a.scope),
        ]),
        None => {
            let mut req = agent
                .get(&a.url)
                .query("service", &a.service)
                .set("Authorization", auth);
            if !a.scope.is_empty() {
                req = req.query("scope", &a.scope);
            }
            req.call()
        }
    };
    // A token endpoint must answer a token; any other URL (the peer's /v2/) just 2xx.
    let want_token = a.url.ends_with("/token");
    match r {
        Ok(resp) => resp
            .into_string()
            .map(|b| !want_token || b.contains("\"token\""))
            .unwrap_or(false),
        Err(_) => false,
    }
}

fn main() {
    let a = parse();
    let auth = pier_integration_tests::basic_auth(&a.user, &a.password);
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let results: Vec<(Vec<Duration>, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.concurrency)
            .map(|_| {
                s.spawn(|| {
                    let agent = ureq::AgentBuilder::new().max_idle_connections(1).build();
                    let (mut lat, mut errors) = (Vec::new(), 0u64);
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        if one(&agent, &a, &auth) {
                            lat.push(t.elapsed());
                        } else {
                            errors += 1;
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut lat: Vec<Duration> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
    let errors: u64 = results.iter().map(|r| r.1).sum();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    let name = if a.refresh.is_some() {
        "token_refresh_grant"
    } else {
        "token_basic"
    };
    println!(
        "{{\"name\":\"{name}\",\"unit\":\"req/s\",\"value\":{:.0},\"p50\":{:.2},\"p90\":{:.2},\"p99\":{:.2},\"max\":{:.2},\"errors\":{errors},\"concurrency\":{}}}",
        lat.len() as f64 / a.seconds as f64,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
        a.concurrency
    );
}
