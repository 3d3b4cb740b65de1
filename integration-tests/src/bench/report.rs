//! The table of a side-by-side run: JSON lines tagged `target` (pier | peer), `mode` and
//! `round` become, per mode and workload, the medians over rounds, the Pier/peer ratio,
//! p99, server CPU-seconds, peak RSS, bytes written per byte pushed, and the figure as a
//! fraction of the machine limit it is bounded by.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "—".into())
}

/// Lines of one (mode, workload, target), in file order.
type Groups<'a> = BTreeMap<(String, String), BTreeMap<String, Vec<&'a Value>>>;

fn field(lines: &[&Value], key: &str) -> Option<f64> {
    median(lines.iter().filter_map(|l| l[key].as_f64()).collect())
}

/// The limit a workload is bounded by, by name and mode.
fn limit_for<'a>(
    name: &str,
    mode: &str,
    limits: &'a BTreeMap<String, f64>,
) -> Option<(&'a str, f64)> {
    let key = if name.starts_with("push_") {
        if mode == "tmpfs" {
            "limit_tmpfs_write"
        } else {
            "limit_disk_fdatasync"
        }
    } else if name.starts_with("pull_") {
        "limit_loopback_tcp"
    } else {
        return None;
    };
    limits.get_key_value(key).map(|(k, v)| (k.as_str(), *v))
}

/// Markdown for every line in `lines` (limits are the lines named `limit_*`).
pub fn markdown(lines: &[Value]) -> String {
    let mut limits = BTreeMap::new();
    let mut groups: Groups = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for l in lines {
        let name = l["name"].as_str().unwrap_or("").to_string();
        if name.starts_with("limit_") {
            limits.insert(name, l["value"].as_f64().unwrap_or(0.0));
            continue;
        }
        let mode = l["mode"].as_str().unwrap_or("-").to_string();
        let seeded = l["seeded"]
            .as_u64()
            .map(|n| format!(" @{n}"))
            .unwrap_or_default();
        let key = (mode, format!("{name}{seeded}"));
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        let target = l["target"].as_str().unwrap_or("pier").to_string();
        groups
            .entry(key)
            .or_default()
            .entry(target)
            .or_default()
            .push(l);
    }
    let mut out = String::new();
    if !limits.is_empty() {
        out.push_str("Machine limits (best of 3):\n\n| limit | MiB/s |\n|---|---|\n");
        for (k, v) in &limits {
            let _ = writeln!(out, "| {k} | {v:.0} |");
        }
        out.push('\n');
    }
    let mut mode_seen = String::new();
    for key in &order {
        let (mode, name) = key;
        if *mode != mode_seen {
            let _ = write!(
                out,
                "\nMode `{mode}` (medians over rounds; CPU = server CPU-seconds in the workload; RSS = server peak during it):\n\n\
                 | workload | unit | Pier | peer | Pier/peer | p99 ms Pier | p99 ms peer | CPU s Pier | CPU s peer | RSS MiB Pier | RSS MiB peer | written/pushed Pier | written/pushed peer | Pier of limit | errors |\n\
                 |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
            );
            mode_seen = mode.clone();
        }
        let g = &groups[key];
        let empty = Vec::new();
        let (p, q) = (
            g.get("pier").unwrap_or(&empty),
            g.get("peer").unwrap_or(&empty),
        );
        let unit = p
            .first()
            .or(q.first())
            .and_then(|l| l["unit"].as_str())
            .unwrap_or("");
        let (pv, qv) = (field(p, "value"), field(q, "value"));
        let ratio = match (pv, qv) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        };
        let mib = |l: &[&Value]| field(l, "server_hwm_kib").map(|k| k / 1024.0);
        let of_limit = match (limit_for(name, mode, &limits), pv) {
            (Some((k, lim)), Some(v)) if lim > 0.0 => format!("{:.0}% of {k}", 100.0 * v / lim),
            _ => "—".into(),
        };
        let errors: u64 = p
            .iter()
            .chain(q.iter())
            .filter_map(|l| l["errors"].as_u64())
            .sum();
        let _ = writeln!(
            out,
            "| {name} | {unit} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {of_limit} | {errors} |",
            num(pv, 1), num(qv, 1), num(ratio, 2),
            num(field(p, "p99"), 2), num(field(q, "p99"), 2),
            num(field(p, "server_cpu_s"), 2), num(field(q, "server_cpu_s"), 2),
            num(mib(p), 1), num(mib(q), 1),
            num(field(p, "written_per_pushed"), 2), num(field(q, "written_per_pushed"), 2),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn medians_and_ratio() {
        let mut lines = vec![json!({"name": "limit_disk_fdatasync", "value": 100.0})];
        for (t, v) in [
            ("pier", 10.0),
            ("peer", 5.0),
            ("pier", 30.0),
            ("peer", 5.0),
            ("pier", 20.0),
            ("peer", 4.0),
        ] {
            lines.push(json!({"name": "push_mono_1m", "unit": "MiB/s", "value": v, "target": t, "mode": "anonymous", "p99": 1.0, "errors": 0}));
        }
        let md = super::markdown(&lines);
        assert!(
            md.contains("| push_mono_1m | MiB/s | 20.0 | 5.0 | 4.00 |"),
            "{md}"
        );
        assert!(md.contains("20% of limit_disk_fdatasync"), "{md}");
    }
}
