//! The `[mirror]` section of a pier-registry TOML file, written exactly with the names of
//! the mirror's contract (docs/mirror.md), so that the tests read as configuration a user
//! would write:
//!
//! ```toml
//! [mirror]
//! default = "hub"
//! max_bytes = 0
//!
//! [[mirror.upstreams]]
//! prefix = "hub"
//! url = "http://127.0.0.1:41234"
//! tag_ttl_seconds = 300
//! ns = ["docker.io"]
//! public = true
//! timeout_seconds = 30
//! ```

use std::path::{Path, PathBuf};

/// `[mirror]`.
#[derive(Clone, Debug, Default)]
pub struct MirrorToml {
    /// `default`: names no local namespace owns go to this upstream (`""`: none).
    pub default: String,
    pub max_bytes: u64,
    pub upstreams: Vec<UpstreamToml>,
}

/// One `[[mirror.upstreams]]`.
#[derive(Clone, Debug)]
pub struct UpstreamToml {
    pub prefix: String,
    pub url: String,
    pub username: String,
    pub password: String,
    pub tag_ttl_seconds: u64,
    pub ns: Vec<String>,
    pub public: bool,
    pub timeout_seconds: u64,
}

impl UpstreamToml {
    /// `prefix` mirroring `url`: anonymous, public, no `ns`, the contract's default TTL
    /// (300 s) and a 10 s timeout (tests with a dead upstream must not wait 30 s per try).
    pub fn new(prefix: &str, url: &str) -> UpstreamToml {
        UpstreamToml {
            prefix: prefix.to_string(),
            url: url.to_string(),
            username: String::new(),
            password: String::new(),
            tag_ttl_seconds: 300,
            ns: Vec::new(),
            public: true,
            timeout_seconds: 10,
        }
    }

    pub fn ns(mut self, ns: &[&str]) -> Self {
        self.ns = ns.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn ttl(mut self, seconds: u64) -> Self {
        self.tag_ttl_seconds = seconds;
        self
    }

    pub fn credentials(mut self, username: &str, password: &str) -> Self {
        self.username = username.to_string();
        self.password = password.to_string();
        self
    }

    pub fn public(mut self, public: bool) -> Self {
        self.public = public;
        self
    }
}

impl MirrorToml {
    /// One upstream, `default` set to it or not.
    pub fn one(upstream: UpstreamToml, default: bool) -> MirrorToml {
        MirrorToml {
            default: if default {
                upstream.prefix.clone()
            } else {
                String::new()
            },
            max_bytes: 0,
            upstreams: vec![upstream],
        }
    }

    /// The TOML text.
    pub fn to_toml(&self) -> String {
        let mut t = format!(
            "[mirror]\ndefault = {}\nmax_bytes = {}\n",
            quote(&self.default),
            self.max_bytes
        );
        for u in &self.upstreams {
            t.push_str("\n[[mirror.upstreams]]\n");
            t.push_str(&format!("prefix = {}\n", quote(&u.prefix)));
            t.push_str(&format!("url = {}\n", quote(&u.url)));
            if !u.username.is_empty() {
                t.push_str(&format!("username = {}\n", quote(&u.username)));
                t.push_str(&format!("password = {}\n", quote(&u.password)));
            }
            t.push_str(&format!("tag_ttl_seconds = {}\n", u.tag_ttl_seconds));
            let ns: Vec<String> = u.ns.iter().map(|n| quote(n)).collect();
            t.push_str(&format!("ns = [{}]\n", ns.join(", ")));
            t.push_str(&format!("public = {}\n", u.public));
            t.push_str(&format!("timeout_seconds = {}\n", u.timeout_seconds));
        }
        t
    }

    /// Write `dir/registry.toml`; its path (for `PIER_REGISTRY_CONFIG` / `--config`).
    pub fn write(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("registry.toml");
        std::fs::write(&path, self.to_toml()).unwrap();
        path
    }
}

/// A TOML basic string (JSON's escapes are a subset of TOML's).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_contract_names() {
        let m = MirrorToml {
            default: "hub".into(),
            max_bytes: 0,
            upstreams: vec![
                UpstreamToml::new("hub", "http://127.0.0.1:1")
                    .ns(&["docker.io"])
                    .ttl(1),
                UpstreamToml::new("up", "http://127.0.0.1:2")
                    .credentials("ursula", "pw\"x")
                    .public(false),
            ],
        };
        assert_eq!(
            m.to_toml(),
            r#"[mirror]
default = "hub"
max_bytes = 0

[[mirror.upstreams]]
prefix = "hub"
url = "http://127.0.0.1:1"
tag_ttl_seconds = 1
ns = ["docker.io"]
public = true
timeout_seconds = 10

[[mirror.upstreams]]
prefix = "up"
url = "http://127.0.0.1:2"
username = "ursula"
password = "pw\"x"
tag_ttl_seconds = 300
ns = []
public = false
timeout_seconds = 10
"#
        );
    }
}
