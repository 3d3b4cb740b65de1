//! The closed loop: `c` threads, each with its own keep-alive connection, send requests back
//! to back until the duration or the operation count runs out, whichever is first. Workers
//! are built (connections opened, tokens fetched) before the clock starts.

use super::procstat::{self, Sample};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

/// One operation of a worker: `Ok(bytes moved)` or what was wrong.
pub type Op<'a> = Box<dyn FnMut(u64) -> Result<u64, String> + 'a>;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Operations per second.
    Ops,
    /// Body bytes per second, in MiB.
    MiB,
}

pub struct Plan {
    pub name: String,
    pub unit: Unit,
    pub concurrency: usize,
    pub duration: Duration,
    pub max_ops: u64,
    /// Bytes moved are bytes pushed (for bytes written per byte pushed).
    pub pushes: bool,
}

/// Where results go and what else is measured.
pub struct Ctx {
    /// Server processes whose `/proc` counters are read around each workload.
    pub pids: Vec<u32>,
    /// Stop at the first error.
    pub strict: bool,
    pub out: Mutex<Box<dyn std::io::Write + Send>>,
    /// Extra fields for every line (target, mode, round).
    pub tags: serde_json::Map<String, serde_json::Value>,
}

struct Tally {
    hist: Histogram<u64>,
    bytes: u64,
    errors: u64,
    first_error: Option<String>,
}

/// Run `plan`, building one worker per thread with `make(thread)`; prints and returns the
/// JSON line. With `ctx.strict`, an error ends the program.
pub fn run<'a, F>(ctx: &Ctx, plan: &Plan, make: F) -> serde_json::Value
where
    F: Fn(usize) -> Result<Op<'a>, String> + Sync,
{
    let next = AtomicU64::new(0);
    let barrier = Barrier::new(plan.concurrency + 1);
    let mut before = Vec::new();
    let (tallies, elapsed) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..plan.concurrency)
            .map(|t| {
                let (make, next, barrier) = (&make, &next, &barrier);
                s.spawn(move || worker(plan, make(t), next, barrier))
            })
            .collect();
        // Twice: once when every worker is set up, then to start them together.
        barrier.wait();
        for &pid in &ctx.pids {
            procstat::reset_peak(pid);
            before.push(procstat::sample(pid));
        }
        barrier.wait();
        let start = Instant::now();
        let tallies: Vec<Tally> = handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect();
        (tallies, start.elapsed())
    });
    let after: Vec<Sample> = ctx.pids.iter().map(|&p| procstat::sample(p)).collect();
    let line = summarize(ctx, plan, tallies, elapsed, &before, &after);
    if let Ok(mut out) = ctx.out.lock() {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    if ctx.strict && line["errors"].as_u64() != Some(0) {
        eprintln!("pier-bench: {} failed: {}", plan.name, line["first_error"]);
        std::process::exit(1);
    }
    line
}

fn worker(plan: &Plan, op: Result<Op, String>, next: &AtomicU64, barrier: &Barrier) -> Tally {
    let mut tally = Tally {
        hist: Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds"),
        bytes: 0,
        errors: 0,
        first_error: None,
    };
    barrier.wait();
    barrier.wait();
    let mut op = match op {
        Ok(op) => op,
        Err(e) => {
            tally.errors += 1;
            tally.first_error = Some(format!("setup: {e}"));
            return tally;
        }
    };
    let deadline = Instant::now() + plan.duration;
    while Instant::now() < deadline {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= plan.max_ops {
            break;
        }
        let t = Instant::now();
        match op(i) {
            Ok(bytes) => {
                tally.bytes += bytes;
                let _ = tally.hist.record((t.elapsed().as_micros() as u64).max(1));
            }
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(e);
            }
        }
    }
    tally
}

fn summarize(
    ctx: &Ctx,
    plan: &Plan,
    tallies: Vec<Tally>,
    elapsed: Duration,
    before: &[Sample],
    after: &[Sample],
) -> serde_json::Value {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("bounds");
    let (mut bytes, mut errors, mut first_error) = (0, 0, None);
    for t in tallies {
        let _ = hist.add(&t.hist);
        bytes += t.bytes;
        errors += t.errors;
        first_error = first_error.or(t.first_error);
    }
    let secs = elapsed.as_secs_f64().max(1e-9);
    let value = match plan.unit {
        Unit::Ops => hist.len() as f64 / secs,
        Unit::MiB => bytes as f64 / secs / 1048576.0,
    };
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let mut line = serde_json::json!({
        "name": plan.name,
        "unit": if plan.unit == Unit::Ops { "req/s" } else { "MiB/s" },
        "value": round(value),
        "p50": ms(0.50), "p90": ms(0.90), "p99": ms(0.99),
        "max": hist.max() as f64 / 1000.0,
        "errors": errors,
        "ops": hist.len(),
        "bytes": bytes,
        "concurrency": plan.concurrency,
        "seconds": round(secs),
    });
    let m = line.as_object_mut().expect("object");
    if let Some(e) = first_error {
        m.insert("first_error".into(), e.into());
    }
    if !after.is_empty() {
        let d: Vec<Sample> = before
            .iter()
            .zip(after)
            .map(|(b, a)| procstat::delta(*b, *a))
            .collect();
        m.insert(
            "server_cpu_s".into(),
            round(d.iter().map(|s| s.cpu_s).sum()).into(),
        );
        m.insert(
            "server_hwm_kib".into(),
            d.iter().map(|s| s.hwm_kib).sum::<u64>().into(),
        );
        m.insert(
            "server_rss_kib".into(),
            d.iter().map(|s| s.rss_kib).sum::<u64>().into(),
        );
        let written: u64 = d.iter().map(|s| s.write_bytes).sum();
        m.insert("server_write_bytes".into(), written.into());
        if plan.pushes && bytes > 0 {
            m.insert(
                "written_per_pushed".into(),
                round(written as f64 / bytes as f64).into(),
            );
        }
    }
    for (k, v) in &ctx.tags {
        m.insert(k.clone(), v.clone());
    }
    line
}

/// Three significant decimals are plenty for a benchmark figure.
pub fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
