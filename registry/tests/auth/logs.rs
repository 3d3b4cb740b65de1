//! Every log line any test wrote, so tests can assert no token or secret was logged.

use std::sync::{Mutex, Once};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INIT: Once = Once::new();

struct Recorder;

impl log::Log for Recorder {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        LINES
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("{} {}: {}", r.level(), r.target(), r.args()));
    }
    fn flush(&self) {}
}

/// Record every level from now on (idempotent).
pub fn capture() {
    INIT.call_once(|| {
        let _ = log::set_logger(&Recorder);
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// Assert no recorded line contains any of `needles`; returns how many lines there are.
#[track_caller]
pub fn assert_none_contains(needles: &[&str]) -> usize {
    let lines = LINES.lock().unwrap_or_else(|p| p.into_inner());
    for line in lines.iter() {
        for n in needles {
            assert!(!line.contains(n), "a log line holds a secret: {line}");
        }
    }
    lines.len()
}
