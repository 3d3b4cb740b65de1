//! Searching service logs for secrets (tests/secrets.rs): every line of every log against
//! every secret a test used or obtained, and for JWT-shaped strings.

use std::collections::BTreeMap;
use std::path::Path;

/// The secrets of one run, by what they are (for the failure message).
#[derive(Default)]
pub struct Secrets(Vec<(String, String)>);

impl Secrets {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, what: &str, value: &str) {
        assert!(
            value.len() >= 8,
            "{what}: {value:?} is too short to search for"
        );
        self.0.push((what.to_string(), value.to_string()));
    }

    /// A PEM file's body lines (each long enough to be unmistakable).
    pub fn add_pem(&mut self, what: &str, file: &Path) {
        let pem = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .collect();
        assert!(!lines.is_empty(), "{}", file.display());
        for l in lines {
            self.add(what, l);
        }
    }
}

/// A JWT-looking string (`eyJ….eyJ…`) in `line`?
pub fn has_jwt(line: &str) -> bool {
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    line.match_indices("eyJ").any(|(i, _)| {
        let rest = &line[i..];
        let head = rest.find(|c: char| !b64(c)).unwrap_or(rest.len());
        rest[head..].starts_with(".eyJ")
    })
}

/// What a search of logs found.
pub struct Scan {
    pub lines: usize,
    /// Lines the logger redacted something in.
    pub redacted: usize,
    /// `ERROR n, WARN n, …`
    pub levels: String,
    /// Lines per crate (the target's first segment).
    pub targets: BTreeMap<String, usize>,
    /// `service: what: line` for each secret found, and each JWT.
    pub leaks: Vec<String>,
}

impl Scan {
    /// Search each `(service, log)`; panics on a line that does not begin a record
    /// (`[`): a record printed over several lines would hide from a line search.
    pub fn of(logs: &[(&str, &str)], secrets: &Secrets) -> Scan {
        let mut scan = Scan {
            lines: 0,
            redacted: 0,
            levels: String::new(),
            targets: BTreeMap::new(),
            leaks: Vec::new(),
        };
        let mut levels = BTreeMap::<&str, usize>::new();
        for (service, log) in logs {
            for line in log.lines() {
                scan.lines += 1;
                assert!(
                    line.starts_with('['),
                    "{service}: a record over several lines: {line}"
                );
                let mut head = line
                    .split(']')
                    .next()
                    .unwrap_or_default()
                    .split_whitespace();
                if let (Some(level), Some(target)) = (head.nth(1), head.next()) {
                    *levels.entry(level).or_default() += 1;
                    let krate = target.split("::").next().unwrap_or(target);
                    *scan.targets.entry(krate.to_string()).or_default() += 1;
                }
                if line.contains("<redacted") {
                    scan.redacted += 1;
                    if scan.redacted <= 8 {
                        eprintln!("redacted: {}", &line[..line.len().min(300)]);
                    }
                }
                for (what, value) in &secrets.0 {
                    if line.contains(value.as_str()) {
                        scan.leaks.push(format!("{service}: {what}: {line}"));
                    }
                }
                if has_jwt(line) {
                    scan.leaks.push(format!("{service}: a JWT: {line}"));
                }
            }
        }
        scan.levels = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"]
            .iter()
            .map(|l| format!("{l} {}", levels.get(l).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ");
        scan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwt_search_finds_jwts() {
        assert!(has_jwt("x eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln y"));
        assert!(!has_jwt("eyJhbGciOiJFUzI1NiJ9 alone, eyJ.notjwt"));
    }

    #[test]
    fn a_secret_in_a_line_is_found() {
        let mut s = Secrets::default();
        s.add("pw", "hunter2hunter2");
        let log = "[t INFO  x] fine\n[t TRACE y::z] got hunter2hunter2\n";
        let scan = Scan::of(&[("svc", log)], &s);
        assert_eq!(scan.leaks.len(), 1);
        assert_eq!(scan.lines, 2);
        assert_eq!(scan.levels, "ERROR 0, WARN 0, INFO 1, DEBUG 0, TRACE 1");
    }
}
