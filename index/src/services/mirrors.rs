//! Pull-through mirrors, as the registry registers them (docs/mirror.md): the set of
//! mirrors (replaced whole, idempotently: every registry replica sends the same at start),
//! the organization of each prefix, and the repositories the registry caches. What a
//! mirror allows is decided by `policy`; this module only keeps the records.

use super::users::validate_name;
use crate::db::mirrors::{self, Mirror};
use crate::db::{namespaces, now, repositories, users, Conn};
use crate::error::{Error, Result};
use crate::state::Index;
use pier_shared::RepoName;
use std::collections::BTreeSet;

/// Who the audit log says made the changes.
const ACTOR: &str = "registry";

/// One upstream as the registry sends it.
///
/// Unknown members are ignored, so that a newer registry can say more to an older index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Upstream {
    pub prefix: String,
    pub url: String,
    #[serde(default)]
    pub public: bool,
}

/// The body of `PUT /pier/v1/mirrors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct MirrorSet {
    /// The prefix names no local namespace owns go to; `""`, `null` or absent: none.
    #[serde(default, deserialize_with = "empty_if_null")]
    pub default: String,
    pub upstreams: Vec<Upstream>,
}

fn empty_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(<Option<String> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// A registered mirror, for the web UI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MirrorView {
    pub prefix: String,
    pub url: String,
    pub public: bool,
    pub is_default: bool,
}

impl From<Mirror> for MirrorView {
    fn from(m: Mirror) -> Self {
        MirrorView {
            prefix: m.prefix,
            url: m.url,
            public: m.public,
            is_default: m.is_default,
        }
    }
}

/// 400 unless every prefix is a valid namespace name, given once, with an http(s) URL,
/// and the default (if any) is one of them.
fn validate(set: &MirrorSet) -> Result<()> {
    let mut seen = BTreeSet::new();
    for u in &set.upstreams {
        validate_name(&u.prefix)?;
        if !seen.insert(u.prefix.as_str()) {
            return Err(Error::BadRequest(format!(
                "prefix {} given twice",
                u.prefix
            )));
        }
        let http = u.url.starts_with("http://") || u.url.starts_with("https://");
        if !http || u.url.len() > 2048 {
            return Err(Error::BadRequest(format!(
                "the url of {} is not an http(s) URL",
                u.prefix
            )));
        }
    }
    if !set.default.is_empty() && !seen.contains(set.default.as_str()) {
        return Err(Error::BadRequest(format!(
            "default {:?} is not one of the upstreams' prefixes",
            set.default
        )));
    }
    Ok(())
}

/// The organization namespace of `prefix`, created (without owner) if missing; 409 when
/// the name is a user's. Returns its id and whether it was created.
fn organization(conn: &mut Conn, prefix: &str) -> Result<(i64, bool)> {
    let taken = || Error::Conflict(format!("{prefix} is a user's namespace, not a mirror's"));
    match namespaces::find(conn, prefix)? {
        Some(ns) if ns.kind == namespaces::ORG => Ok((ns.id, false)),
        Some(_) => Err(taken()),
        None if users::find(conn, prefix)?.is_some() => Err(taken()),
        None => Ok((namespaces::insert(conn, prefix, namespaces::ORG)?.id, true)),
    }
}

/// What a registration changed, for the audit log.
struct Changes {
    created_orgs: Vec<String>,
    /// The set differs from the one registered before.
    replaced: bool,
}

/// Replace the registered mirrors with `set` (`PUT /pier/v1/mirrors`), creating the
/// organization of each new prefix. One transaction: a 409 changes nothing.
pub async fn register(index: &Index, set: MirrorSet) -> Result<()> {
    validate(&set)?;
    let detail = describe(&set);
    let changes = index
        .db
        .transaction(move |c| -> Result<Changes> {
            let before = mirrors::list(c)?;
            let mut rows = Vec::with_capacity(set.upstreams.len());
            let mut created_orgs = Vec::new();
            for u in &set.upstreams {
                let (namespace_id, created) = organization(c, &u.prefix)?;
                if created {
                    created_orgs.push(u.prefix.clone());
                }
                rows.push(Mirror {
                    prefix: u.prefix.clone(),
                    url: u.url.clone(),
                    public: u.public,
                    is_default: u.prefix == set.default,
                    namespace_id,
                    updated_at: now(),
                });
            }
            rows.sort_by(|a, b| a.prefix.cmp(&b.prefix));
            let same = |a: &Mirror, b: &Mirror| {
                (&a.prefix, &a.url, a.public, a.is_default, a.namespace_id)
                    == (&b.prefix, &b.url, b.public, b.is_default, b.namespace_id)
            };
            let replaced =
                before.len() != rows.len() || before.iter().zip(&rows).any(|(a, b)| !same(a, b));
            if replaced {
                mirrors::replace_all(c, &rows)?;
            }
            Ok(Changes {
                created_orgs,
                replaced,
            })
        })
        .await?;
    for org in &changes.created_orgs {
        let why = Some("mirror prefix".to_string());
        index.audit.record(&index.db, ACTOR, "org.create", org, why);
    }
    if changes.replaced {
        index.audit.record(
            &index.db,
            ACTOR,
            "mirrors.register",
            "mirrors",
            Some(detail),
        );
    }
    Ok(())
}

/// `default=hub hub=https://…(public) …`, the audit detail of a registration.
fn describe(set: &MirrorSet) -> String {
    let mut d = format!("default={}", set.default);
    for u in &set.upstreams {
        let public = if u.public { "(public)" } else { "" };
        d.push_str(&format!(" {}={}{public}", u.prefix, u.url));
    }
    d
}

/// Make sure the index has a live repository `name`, cached by the registry under a
/// registered mirror (`PUT /pier/v1/mirrors/repositories/<name>`): created in the mirror's
/// organization, public when the mirror is. 404 when `name` is not under a mirror prefix.
pub async fn register_repository(index: &Index, name: &str) -> Result<()> {
    let repo: RepoName = name
        .parse()
        .map_err(|_| Error::BadRequest(format!("invalid repository name {name:?}")))?;
    let owned = repo.clone();
    let created = index
        .db
        .transaction(move |c| -> Result<Option<String>> {
            let found = mirrors::list(c)?.into_iter().find(|m| {
                owned
                    .as_str()
                    .strip_prefix(m.prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
            });
            let Some(mirror) = found else {
                return Err(Error::NotFound(format!(
                    "{} is not under a registered mirror prefix",
                    owned.as_str()
                )));
            };
            let visibility = if mirror.public {
                repositories::PUBLIC
            } else {
                repositories::PRIVATE
            };
            let (_, created) =
                repositories::allocate_as(c, mirror.namespace_id, owned.as_str(), visibility)?;
            Ok(created.then_some(format!("mirror={} {visibility}", mirror.prefix)))
        })
        .await?;
    if let Some(detail) = created {
        index.audit.record(
            &index.db,
            ACTOR,
            "repository.register",
            repo.as_str(),
            Some(detail),
        );
    }
    Ok(())
}

/// The registered mirrors, by prefix.
pub async fn list(index: &Index) -> Result<Vec<MirrorView>> {
    index
        .db
        .run(|c| -> Result<Vec<MirrorView>> {
            Ok(mirrors::list(c)?.into_iter().map(Into::into).collect())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(default: &str, upstreams: &[(&str, &str)]) -> MirrorSet {
        MirrorSet {
            default: default.into(),
            upstreams: upstreams
                .iter()
                .map(|(p, u)| Upstream {
                    prefix: p.to_string(),
                    url: u.to_string(),
                    public: true,
                })
                .collect(),
        }
    }

    #[test]
    fn a_set_is_checked_before_anything_is_written() {
        let hub = ("hub", "https://registry-1.docker.io");
        assert!(validate(&set("hub", &[hub])).is_ok());
        assert!(validate(&set("", &[])).is_ok());
        assert!(validate(&set("quay", &[hub])).is_err());
        assert!(validate(&set("", &[hub, hub])).is_err());
        assert!(validate(&set("", &[("Hub", "https://x")])).is_err());
        assert!(validate(&set("", &[("a/b", "https://x")])).is_err());
        assert!(validate(&set("", &[("hub", "ftp://x")])).is_err());
    }

    #[test]
    fn no_default_may_be_said_with_an_empty_string_null_or_nothing() {
        for body in [
            r#"{"default": "", "upstreams": []}"#,
            r#"{"default": null, "upstreams": []}"#,
            r#"{"upstreams": []}"#,
        ] {
            let parsed: MirrorSet = serde_json::from_str(body).unwrap();
            assert_eq!(parsed, set("", &[]), "{body}");
        }
        let parsed: MirrorSet = serde_json::from_str(
            r#"{"default": "hub", "upstreams": [{"prefix": "hub", "url": "https://h", "public": true, "ns": ["docker.io"]}]}"#,
        )
        .unwrap();
        assert_eq!(parsed, set("hub", &[("hub", "https://h")]));
    }

    #[test]
    fn the_audit_detail_names_every_upstream() {
        let s = set("hub", &[("hub", "https://h"), ("quay", "https://q")]);
        assert_eq!(
            describe(&s),
            "default=hub hub=https://h(public) quay=https://q(public)"
        );
    }
}
