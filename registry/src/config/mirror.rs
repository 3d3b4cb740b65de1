//! `[mirror]`: the pull-through cache of other registries (docs/mirror.md).
//!
//! ```toml
//! [mirror]
//! default = "hub"                  # names no local namespace owns go to this upstream
//! max_bytes = 0                    # cache bound (least recently pulled images go first)
//!
//! [[mirror.upstreams]]
//! prefix = "hub"                   # local hub/<name> mirrors <url>/v2/<name>
//! url = "https://registry-1.docker.io"
//! ns = ["docker.io"]               # containerd's ?ns= values that pick this upstream
//! public = true                    # anonymous pulls allowed
//! ```

use pier_shared::config::Secret;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MirrorConfig {
    /// The upstream (by `prefix`) that names no local namespace owns are pulled from
    /// (docker's `registry-mirrors` sends `library/alpine`); empty: none.
    pub default: String,
    /// Bound on the bytes of cached content; beyond it, the least recently pulled cached
    /// images are dropped (their blobs then go with garbage collection). 0: no bound.
    pub max_bytes: u64,
    pub upstreams: Vec<UpstreamConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The first path component of the local repositories that mirror this upstream:
    /// `hub/library/alpine` is `<url>/v2/library/alpine`.
    pub prefix: String,
    /// The upstream registry's base URL (`https://registry-1.docker.io`).
    pub url: String,
    /// Credentials at the upstream (Basic, or for its token endpoint); empty: anonymous.
    pub username: String,
    pub password: Secret,
    /// A file holding the password (read at start), instead of `password`.
    pub password_file: String,
    /// How long a tag's answer is trusted before it is checked upstream again (a HEAD).
    pub tag_ttl_seconds: u64,
    /// containerd's `?ns=` values (the registry host a client meant) that pick this upstream.
    pub ns: Vec<String>,
    /// Anyone may pull, anonymous clients too (a mirror of public images). Token mode:
    /// the index applies it to the mirror's namespace.
    pub public: bool,
    /// PEM certificates trusted for an `https://` upstream (empty: the public web roots).
    pub ca_certificate: String,
    /// Time limit to connect and get an answer's headers, and for each pause in a body.
    pub timeout_seconds: u64,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            prefix: String::new(),
            url: String::new(),
            username: String::new(),
            password: Secret::default(),
            password_file: String::new(),
            tag_ttl_seconds: 300,
            ns: Vec::new(),
            public: false,
            ca_certificate: String::new(),
            timeout_seconds: 30,
        }
    }
}

impl MirrorConfig {
    pub fn enabled(&self) -> bool {
        !self.upstreams.is_empty()
    }

    /// The upstream whose prefix is `prefix`.
    pub fn upstream(&self, prefix: &str) -> Option<&UpstreamConfig> {
        self.upstreams.iter().find(|u| u.prefix == prefix)
    }

    pub fn validate(&self) -> Result<(), String> {
        let mut ns_seen = std::collections::BTreeSet::new();
        for (i, u) in self.upstreams.iter().enumerate() {
            let what = format!("mirror.upstreams[{i}]");
            let prefix_ok = !u.prefix.is_empty()
                && format!("{}/x", u.prefix)
                    .parse::<pier_shared::RepoName>()
                    .is_ok()
                && !u.prefix.contains('/');
            if !prefix_ok {
                return Err(format!(
                    "{what}.prefix {:?} must be one path component of a repository name \
                     (lowercase letters, digits, separators)",
                    u.prefix
                ));
            }
            if self.upstreams[..i].iter().any(|o| o.prefix == u.prefix) {
                return Err(format!("{what}.prefix {:?} is used twice", u.prefix));
            }
            let scheme_ok = u.url.starts_with("http://") || u.url.starts_with("https://");
            if !scheme_ok || u.url.parse::<actix_web::http::Uri>().is_err() {
                return Err(format!("{what}.url must be an http:// or https:// URL"));
            }
            if !u.password.is_empty() && !u.password_file.is_empty() {
                return Err(format!(
                    "{what}: password and password_file exclude each other"
                ));
            }
            if u.username.is_empty() && !(u.password.is_empty() && u.password_file.is_empty()) {
                return Err(format!("{what}: a password needs a username"));
            }
            if u.timeout_seconds == 0 {
                return Err(format!("{what}.timeout_seconds must be positive"));
            }
            for ns in &u.ns {
                if !ns_seen.insert(ns.as_str()) {
                    return Err(format!("{what}.ns {ns:?} picks two upstreams"));
                }
            }
        }
        if !self.default.is_empty() && self.upstream(&self.default).is_none() {
            return Err(format!(
                "mirror.default {:?} names no mirror.upstreams prefix",
                self.default
            ));
        }
        Ok(())
    }
}

impl UpstreamConfig {
    /// The password, from `password` or read from `password_file`.
    pub fn password(&self) -> Result<Secret, String> {
        if self.password_file.is_empty() {
            return Ok(self.password.clone());
        }
        let text = std::fs::read_to_string(&self.password_file)
            .map_err(|e| format!("mirror password_file {}: {e}", self.password_file))?;
        Ok(Secret::new(text.trim_end_matches(['\r', '\n'])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(prefix: &str) -> UpstreamConfig {
        UpstreamConfig {
            prefix: prefix.into(),
            url: "https://registry-1.docker.io".into(),
            ..Default::default()
        }
    }

    #[test]
    fn validation() {
        let mut c = MirrorConfig {
            default: "hub".into(),
            max_bytes: 0,
            upstreams: vec![upstream("hub"), upstream("quay")],
        };
        assert_eq!(c.validate(), Ok(()));
        c.default = "gcr".into();
        assert!(c.validate().unwrap_err().contains("mirror.default"));
        c.default.clear();
        c.upstreams[1].prefix = "hub".into();
        assert!(c.validate().unwrap_err().contains("used twice"));
        for bad in ["", "Hub", "a/b", "-x"] {
            c.upstreams[1].prefix = bad.into();
            assert!(c.validate().is_err(), "{bad:?}");
        }
        c.upstreams[1].prefix = "quay".into();
        c.upstreams[1].url = "ftp://x".into();
        assert!(c.validate().unwrap_err().contains("url"));
        c.upstreams[1].url = "https://quay.io".into();
        c.upstreams[0].ns = vec!["docker.io".into()];
        c.upstreams[1].ns = vec!["docker.io".into()];
        assert!(c.validate().unwrap_err().contains("two upstreams"));
        c.upstreams[1].ns = vec!["quay.io".into()];
        c.upstreams[1].password = Secret::new("p");
        assert!(c.validate().unwrap_err().contains("username"));
    }

    #[test]
    fn parses_the_documented_form() {
        let text = r#"
            [mirror]
            default = "hub"
            max_bytes = 0
            [[mirror.upstreams]]
            prefix = "hub"
            url = "https://registry-1.docker.io"
            username = ""
            tag_ttl_seconds = 300
            ns = ["docker.io"]
            public = true
        "#;
        #[derive(Deserialize)]
        struct File {
            mirror: MirrorConfig,
        }
        let f: File = toml::from_str(text).unwrap();
        assert_eq!(f.mirror.upstreams[0].ns, vec!["docker.io".to_string()]);
        assert!(f.mirror.upstreams[0].public);
        assert_eq!(f.mirror.validate(), Ok(()));
    }
}
