//! Which requests the mirror serves, and under which names (docs/mirror.md, "Names").
//!
//! ```text
//! hub/library/alpine               → upstream hub, library/alpine   (its prefix)
//! library/alpine?ns=docker.io      → upstream hub, library/alpine   (hub lists docker.io in ns)
//! library/alpine, default = "hub"  → upstream hub, library/alpine   (if `library` is not local)
//! ```
//!
//! The cache of every mirrored repository is the local repository `<prefix>/<upstream
//! name>`, however the request named it. Pure: the caller decides whether a namespace is
//! local (the index in token mode, the database otherwise).

use crate::config::MirrorConfig;
use pier_shared::RepoName;

/// A repository of an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// Index of the upstream in `mirror.upstreams`.
    pub upstream: usize,
    /// The repository's name at the upstream.
    pub remote: String,
    /// The local repository that caches it: `<prefix>/<remote>`.
    pub local: RepoName,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Not the mirror's: an ordinary repository.
    Local,
    /// The name starts with an upstream's prefix, or `?ns=` picked an upstream.
    Mirrored {
        mapped: Mapped,
        /// The name the request is authorized on: the name itself under a prefix, the
        /// local name for `?ns=` (the challenge names it, so the token covers it).
        auth: RepoName,
    },
    /// Through `mirror.default`, unless the name's namespace turns out to be local;
    /// authorized on the name as asked (docker's engine asks a token for `library/x`).
    Default(Mapped),
}

/// Where a request for `name` (with containerd's `?ns=` value, if any) goes.
pub fn target(config: &MirrorConfig, name: &RepoName, ns: Option<&str>) -> Target {
    if let Some((first, rest)) = name.as_str().split_once('/') {
        if let Some(i) = config.upstreams.iter().position(|u| u.prefix == first) {
            return Target::Mirrored {
                mapped: Mapped {
                    upstream: i,
                    remote: rest.to_string(),
                    local: name.clone(),
                },
                auth: name.clone(),
            };
        }
    }
    let under = |i: usize| -> Option<Mapped> {
        let local = format!("{}/{name}", config.upstreams[i].prefix)
            .parse()
            .ok()?;
        Some(Mapped {
            upstream: i,
            remote: name.to_string(),
            local,
        })
    };
    if let Some(ns) = ns.filter(|v| !v.is_empty()) {
        if let Some(i) = config
            .upstreams
            .iter()
            .position(|u| u.ns.iter().any(|n| n == ns))
        {
            if let Some(mapped) = under(i) {
                let auth = mapped.local.clone();
                return Target::Mirrored { mapped, auth };
            }
        }
    }
    if !config.default.is_empty() {
        if let Some(i) = config
            .upstreams
            .iter()
            .position(|u| u.prefix == config.default)
        {
            if let Some(mapped) = under(i) {
                return Target::Default(mapped);
            }
        }
    }
    Target::Local
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::UpstreamConfig;

    fn config(default: &str) -> MirrorConfig {
        MirrorConfig {
            default: default.into(),
            max_bytes: 0,
            upstreams: vec![
                UpstreamConfig {
                    prefix: "hub".into(),
                    url: "https://registry-1.docker.io".into(),
                    ns: vec!["docker.io".into()],
                    ..Default::default()
                },
                UpstreamConfig {
                    prefix: "quay".into(),
                    url: "https://quay.io".into(),
                    ns: vec!["quay.io".into()],
                    ..Default::default()
                },
            ],
        }
    }

    fn n(s: &str) -> RepoName {
        s.parse().unwrap()
    }

    #[test]
    fn prefix_ns_default_local() {
        let c = config("hub");
        let m = |up, remote: &str, local: &str| Mapped {
            upstream: up,
            remote: remote.into(),
            local: n(local),
        };
        assert_eq!(
            target(&c, &n("quay/coreos/etcd"), None),
            Target::Mirrored {
                mapped: m(1, "coreos/etcd", "quay/coreos/etcd"),
                auth: n("quay/coreos/etcd"),
            }
        );
        assert_eq!(
            target(&c, &n("coreos/etcd"), Some("quay.io")),
            Target::Mirrored {
                mapped: m(1, "coreos/etcd", "quay/coreos/etcd"),
                auth: n("quay/coreos/etcd"),
            }
        );
        assert_eq!(
            target(&c, &n("library/alpine"), None),
            Target::Default(m(0, "library/alpine", "hub/library/alpine"))
        );
        // An unknown ns falls through to the default.
        assert_eq!(
            target(&c, &n("library/alpine"), Some("ghcr.io")),
            Target::Default(m(0, "library/alpine", "hub/library/alpine"))
        );
        assert_eq!(
            target(&config(""), &n("library/alpine"), None),
            Target::Local
        );
        // A bare prefix is a local name (nothing to mirror).
        assert_eq!(target(&config(""), &n("hub"), None), Target::Local);
        assert_eq!(
            target(&MirrorConfig::default(), &n("a/b"), Some("docker.io")),
            Target::Local
        );
    }

    #[test]
    fn too_long_once_prefixed_is_local() {
        let long = format!("a/{}", "b".repeat(253));
        assert_eq!(target(&config("hub"), &n(&long), None), Target::Local);
    }
}
