//! The services' logger: `env_logger` with the operator's filter (`PIER_INDEX_LOG`,
//! `PIER_REGISTRY_LOG`), made safe to turn up to `trace`.
//!
//! Two guards, so that no credential reaches a log line at any level:
//!
//! 1. **Dependencies stay at `info`.** The HTTP, TLS and storage crates below print
//!    request and response headers, frames or URLs at `debug`/`trace`. Whatever the
//!    filter asks for everything else, each of them logs at most at `info` (or less, if the
//!    filter says less) unless the filter names that crate itself (`h2=trace`): an explicit
//!    choice an operator makes for a debugging session.
//! 2. **Every line is redacted** before it is written: HTTP `Basic`/`Bearer` credentials,
//!    JWTs, the values of credential-named fields and headers (`password=`,
//!    `"refresh_token":`, `authorization:`, `cookie:` …), passwords in URLs
//!    (`postgres://user:…@`) and PEM private-key blocks become `<redacted>`.
//!
//! Two formats (`[log] format`, `PIER_REGISTRY_LOG_FORMAT` / `PIER_INDEX_LOG_FORMAT`, `pier
//! up`: `PIER_LOG_FORMAT`): `text` (the default), one line per record
//!
//! ```text
//! [2026-12-04T13:08:09Z INFO  pier_registry::server] "GET /v2/" 200 … req=3f2c…
//! ```
//!
//! and `json`, one JSON object per line, the same redaction applied to `message`:
//!
//! ```text
//! {"timestamp":"2026-12-04T13:08:09.123Z","level":"INFO","target":"pier_registry::server",
//!  "message":"\"GET /v2/\" 200 …","request_id":"3f2c…"}
//! ```
//!
//! Pier's own code never logs a secret in the first place (secrets are
//! [`Secret`](crate::config::Secret)s, request lines carry no query string); the redaction
//! is for what a dependency prints when explicitly turned up.

use log::LevelFilter;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;

/// How log records are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `[time LEVEL target] message req=<id>`, one line per record.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`, `request_id`.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("log format {s:?} is neither \"text\" nor \"json\"")),
        }
    }
}

/// `[log]` of both services' configuration (the filter stays in `PIER_…_LOG`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
}

static JSON: AtomicBool = AtomicBool::new(false);

/// Write records as `format` from now on (the configuration is read after [`init`]).
pub fn set_format(format: LogFormat) {
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
}

/// Crates that print headers, frames, bodies or signed URLs below `info`.
pub const CAPPED: &[&str] = &[
    "actix_http",
    "actix_server",
    "awc",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "rustls",
    "diesel",
    "object_store",
    "mio",
    "want",
];

/// Start logging with the filter in `env_var` (default `info`) and the format in
/// `<env_var>_FORMAT` if it is a valid one (the configuration, read next, refuses an
/// invalid one and may set the format again). Call once, first thing.
pub fn init(env_var: &str) {
    let spec = std::env::var(env_var).unwrap_or_else(|_| "info".into());
    if let Some(format) = std::env::var(format!("{env_var}_FORMAT"))
        .ok()
        .and_then(|f| f.parse().ok())
    {
        set_format(format);
    }
    builder(&spec).init();
}

/// The logger for filter `spec`: [`CAPPED`] crates capped, every line redacted.
pub fn builder(spec: &str) -> env_logger::Builder {
    let mut b = env_logger::Builder::new();
    b.parse_filters(spec);
    let directives = directives(spec);
    for krate in CAPPED {
        if directives
            .iter()
            .any(|(name, _)| name.as_deref() == Some(krate))
        {
            continue;
        }
        let level = effective(&directives, krate).min(LevelFilter::Info);
        b.filter_module(krate, level);
    }
    b.format(|buf, record| {
        // Inside a request (crate::request_id): its id goes with the record.
        let req = crate::request_id::current();
        let message = redact(&record.args().to_string());
        if JSON.load(Ordering::Relaxed) {
            let ts = buf.timestamp_millis().to_string();
            writeln!(buf, "{}", json_line(&ts, record, &message, req.as_deref()))
        } else {
            let req = req.map(|id| format!(" req={id}")).unwrap_or_default();
            writeln!(
                buf,
                "[{} {:<5} {}] {}{req}",
                buf.timestamp(),
                record.level(),
                record.target(),
                one_line(&message)
            )
        }
    });
    b
}

/// The services' access line (their `Logger` format,
/// `%a "%{method}xi %U" %s %b %Dms req=%{x-request-id}i`), written after the request's
/// task has ended, so its id is in the text.
static ACCESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(\S+) "(\S+) (\S+)" (\d{3}) (\d+|-) ([0-9.]+)ms req=(\S*)$"#).expect("regex")
});

/// One record as a JSON object (no line break: serde_json escapes those in strings). An
/// access line also gets `client`, `method`, `path`, `status`, `bytes`, `duration_ms`.
fn json_line(ts: &str, record: &log::Record, message: &str, req: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "timestamp": ts,
        "level": record.level().as_str(),
        "target": record.target(),
        "message": message,
    });
    let mut req = req.map(str::to_string);
    if record.target() == "actix_web::middleware::logger" {
        if let Some(c) = ACCESS.captures(message) {
            let number = |i: usize| c[i].parse::<serde_json::Number>().ok();
            v["client"] = c[1].into();
            v["method"] = c[2].into();
            v["path"] = c[3].into();
            v["status"] = number(4).into();
            v["bytes"] = number(5).into();
            v["duration_ms"] = number(6).into();
            if !c[7].is_empty() && &c[7] != "-" {
                req.get_or_insert_with(|| c[7].to_string());
            }
        }
    }
    if let Some(id) = req {
        v["request_id"] = id.into();
    }
    v.to_string()
}

/// One record, one line: line breaks inside a message (a dependency's pretty `{:#?}`, or
/// a value a client chose) are written as `\n`, so a line cannot be forged and a search
/// of the log sees every record whole.
fn one_line(message: &str) -> std::borrow::Cow<'_, str> {
    if message.contains(['\n', '\r']) {
        message.replace('\n', "\\n").replace('\r', "\\r").into()
    } else {
        message.into()
    }
}

/// `spec`'s directives as env_logger reads them: `(module, level)`, no module = global.
fn directives(spec: &str) -> Vec<(Option<String>, LevelFilter)> {
    let spec = spec.split('/').next().unwrap_or_default();
    spec.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter_map(|d| match d.split_once('=') {
            Some((name, level)) => {
                Some((Some(name.trim().to_string()), level.trim().parse().ok()?))
            }
            None => match d.parse::<LevelFilter>() {
                Ok(level) => Some((None, level)),
                Err(_) => Some((Some(d.to_string()), LevelFilter::Trace)),
            },
        })
        .collect()
}

/// The level `spec` gives `target`: the longest directive that is a prefix of it.
fn effective(directives: &[(Option<String>, LevelFilter)], target: &str) -> LevelFilter {
    directives
        .iter()
        .filter(|(name, _)| name.as_deref().is_none_or(|n| target.starts_with(n)))
        .max_by_key(|(name, _)| name.as_ref().map_or(0, |n| n.len() + 1))
        .map_or(LevelFilter::Off, |(_, level)| *level)
}

const R: &str = "<redacted>";

static PEM_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)",
    )
    .expect("regex")
});
static SCHEME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(basic|bearer)(\s+)[A-Za-z0-9._~+/=-]+").expect("regex"));
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)?").expect("regex")
});
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(://[^/\s:@]*:)[^@\s/]+@").expect("regex"));
static FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?i)(\b[\w-]*?(?:authorization|proxy-authorization|cookie|set-cookie|x-amz-security-token"#,
        r#"|password|passwd|secret|secret_access_key|client_secret|refresh_token"#,
        r#"|access_token|id_token|identitytoken|registrytoken|token)"?\s*[:=]\s*"?)"#,
        r#"[^"&\s,;}]+"#
    ))
    .expect("regex")
});

/// `line` with credentials replaced by `<redacted>` (see the module doc).
pub fn redact(line: &str) -> String {
    let s = PEM_KEY.replace_all(line, "<redacted private key>");
    let s = SCHEME.replace_all(&s, format!("${{1}}${{2}}{R}"));
    let s = JWT.replace_all(&s, R);
    let s = URL_PASSWORD.replace_all(&s, format!("${{1}}{R}@"));
    let s = FIELD.replace_all(&s, format!("${{1}}{R}"));
    s.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted() {
        let cases = [
            ("authorization: Basic YWxpY2U6cHc=", "YWxpY2U6cHc"),
            (r#"{"authorization": "Bearer abc.def.ghi"}"#, "abc.def"),
            ("token eyJhbGciOi.eyJzdWIiOi.c2ln issued", "eyJ"),
            ("grant_type=password&username=a&password=hunter2", "hunter2"),
            (r#"{"refresh_token":"r3fr3sh","x":1}"#, "r3fr3sh"),
            ("postgres://pier:pgpass@127.0.0.1:5432/pier", "pgpass"),
            ("cookie: pier_session=s3ss10n; other=1", "s3ss10n"),
            (
                "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----",
                "MIGHAgEA",
            ),
            ("x-amz-security-token: Zm9vYmFy", "Zm9vYmFy"),
            ("introspection_secret = \"sh4r3d\"", "sh4r3d"),
        ];
        for (line, secret) in cases {
            let out = redact(line);
            assert!(!out.contains(secret), "{line:?} → {out:?}");
            assert!(out.contains("<redacted"), "{line:?} → {out:?}");
        }
    }

    #[test]
    fn a_json_record_is_one_object_on_one_line() {
        let args = format_args!("x");
        let record = log::Record::builder()
            .args(args)
            .level(log::Level::Warn)
            .target("pier_registry::gc")
            .build();
        let line = json_line("2026-12-04T13:08:09.123Z", &record, "a\n\"b\"", Some("r1"));
        assert!(!line.contains('\n'), "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["target"], "pier_registry::gc");
        assert_eq!(v["message"], "a\n\"b\"");
        assert_eq!(v["request_id"], "r1");
        assert_eq!(v["timestamp"], "2026-12-04T13:08:09.123Z");
        let plain = json_line("t", &record, "m", None);
        assert!(!plain.contains("request_id"), "{plain}");
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        let access = log::Record::builder()
            .args(format_args!("x"))
            .level(log::Level::Info)
            .target("actix_web::middleware::logger")
            .build();
        let line = r#"127.0.0.1 "PUT /v2/a/b/manifests/v1" 201 0 3.5ms req=r9"#;
        let v: serde_json::Value =
            serde_json::from_str(&json_line("t", &access, line, None)).unwrap();
        assert_eq!(v["method"], "PUT");
        assert_eq!(v["path"], "/v2/a/b/manifests/v1");
        assert_eq!(v["status"], 201);
        assert_eq!(v["bytes"], 0);
        assert_eq!(v["duration_ms"], 3.5);
        assert_eq!(v["client"], "127.0.0.1");
        assert_eq!(v["request_id"], "r9");
        assert!("JSON".parse::<LogFormat>().is_err());
    }

    #[test]
    fn a_record_is_one_line() {
        assert_eq!(one_line("a\nb\r\nc"), "a\\nb\\r\\nc");
        assert_eq!(one_line("plain"), "plain");
    }

    #[test]
    fn ordinary_lines_are_kept() {
        for line in [
            r#"127.0.0.1 "GET /v2/library/app/manifests/v1" 200 512 3ms"#,
            "pier-index listening on 127.0.0.1:5001",
            "TLS: reloaded certificate /etc/pier/cert.pem and key /etc/pier/key.pem",
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn dependencies_are_capped_unless_named() {
        let d = directives("trace");
        assert_eq!(
            effective(&d, "h2").min(LevelFilter::Info),
            LevelFilter::Info
        );
        let d = directives("warn,pier_index=trace");
        assert_eq!(effective(&d, "h2"), LevelFilter::Warn);
        assert_eq!(effective(&d, "pier_index::routes"), LevelFilter::Trace);
        let d = directives("info,rustls=trace");
        assert!(d.iter().any(|(n, _)| n.as_deref() == Some("rustls")));
        let d = directives("pier_registry");
        assert_eq!(effective(&d, "pier_registry::x"), LevelFilter::Trace);
        assert_eq!(effective(&d, "awc"), LevelFilter::Off);
    }
}
