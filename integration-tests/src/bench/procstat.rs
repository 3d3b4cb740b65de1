//! A server's cost from `/proc/<pid>`: CPU seconds (`stat` utime + stime), peak and current
//! resident memory (`status` VmHWM / VmRSS) and bytes sent to storage (`io` write_bytes).
//! The peak is reset before each workload (`clear_refs` 5), so VmHWM is that workload's.

/// Linux reports `stat` times in USER_HZ, which is 100 on every architecture Pier runs on.
const USER_HZ: f64 = 100.0;

#[derive(Clone, Copy, Default, Debug)]
pub struct Sample {
    pub cpu_s: f64,
    pub hwm_kib: u64,
    pub rss_kib: u64,
    pub write_bytes: u64,
}

/// Read the counters of `pid` (all zero if it is not readable).
pub fn sample(pid: u32) -> Sample {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15 (1-based).
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    Sample {
        cpu_s: (ticks(11) + ticks(12)) as f64 / USER_HZ,
        hwm_kib: field(&status, "VmHWM:"),
        rss_kib: field(&status, "VmRSS:"),
        write_bytes: field(&io, "write_bytes:"),
    }
}

fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Reset the peak RSS of `pid` to its current RSS (Linux ≥ 4.0; ignored when refused).
pub fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// What a workload cost the server: `after` minus `before`, peak and RSS as of `after`.
pub fn delta(before: Sample, after: Sample) -> Sample {
    Sample {
        cpu_s: after.cpu_s - before.cpu_s,
        hwm_kib: after.hwm_kib,
        rss_kib: after.rss_kib,
        write_bytes: after.write_bytes.saturating_sub(before.write_bytes),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_its_own_process() {
        let s = super::sample(std::process::id());
        assert!(s.hwm_kib > 0 && s.rss_kib > 0);
    }
}
