//! What a repository holds, read from the registry over its own `/v2` API (the index keeps
//! no manifests), for the web UI; and deleting a tag there.
//!
//! Every request carries a token the index mints for the web user through the ordinary
//! grant (`tokens::issue`), so the registry confirms it at `/introspect` like any other and
//! the user never gets more than the policy gives them.
//!
//! ```text
//! GET  /v2/<name>/tags/list?n=&last=            one page of tags
//! GET  /v2/<name>/manifests/<tag>               digest, media type, config + layer sizes
//! GET  /v2/<name>/manifests/<child digest>      per platform of an index
//! GET  /v2/<name>/blobs/<config digest>         `created`
//! GET  /v2/<name>/referrers/<digest>            signatures, SBOMs…
//! DELETE /v2/<name>/manifests/<tag>             the tag only
//! ```

use super::policy::Subject;
use super::tokens::{self, TokenRequest};
use crate::error::{Error, Result};
use crate::state::Index;
use futures_util::future::join_all;
use pier_shared::{Action, RepoName, Scope, Tag};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Manifests and config blobs larger than this are not read.
const MAX_BODY: usize = 4 << 20;
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

#[derive(Debug, Clone, Default)]
pub struct Platform {
    /// `linux/amd64`, `linux/arm64/v8`…
    pub platform: String,
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Referrer {
    pub artifact_type: String,
    pub digest: String,
    pub size: u64,
}

/// One tag as the repository page shows it.
#[derive(Debug, Clone, Default)]
pub struct TagInfo {
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    /// Compressed: config and layers (every platform's, for an index).
    pub size: u64,
    pub platforms: Vec<Platform>,
    /// The image config's `created` (of the first platform, for an index).
    pub created: Option<String>,
    pub referrers: Vec<Referrer>,
}

/// One page of tags; `next`: the `last` of the following page.
#[derive(Debug, Clone, Default)]
pub struct TagPage {
    pub tags: Vec<TagInfo>,
    pub next: Option<String>,
}

/// The registry's base URL, or a clear error when `registry.url` is not set.
pub(crate) fn base(index: &Index) -> Result<String> {
    let url = index.config.registry.url.trim_end_matches('/');
    if url.is_empty() {
        return Err(Error::Conflict(
            "registry.url is not set: the index cannot read the registry".into(),
        ));
    }
    Ok(url.to_string())
}

/// A registry token for `subject` with exactly `scope` (else 403, saying `what`).
pub(crate) async fn token_for(
    index: &Index,
    subject: &Subject,
    scope: Scope,
    what: impl FnOnce() -> String,
) -> Result<String> {
    let wanted = scope.to_string();
    let request = TokenRequest {
        service: index.config.token.service.clone(),
        scopes: vec![scope],
        offline: None,
        rti: None,
    };
    let who = Some(subject.clone());
    let issued = tokens::issue_recorded(index, who, request, None, "web.token.issue").await?;
    if issued.scope != wanted {
        return Err(Error::Forbidden(format!("you may not {}", what())));
    }
    Ok(issued.token)
}

/// A registry token for `subject` with exactly `actions` on `name` (else 403).
async fn token(
    index: &Index,
    subject: &Subject,
    name: &RepoName,
    actions: &[Action],
) -> Result<String> {
    let scope = Scope::repository(name.as_str(), actions);
    token_for(index, subject, scope, || {
        let verbs: Vec<&str> = actions.iter().map(Action::as_str).collect();
        format!("{} {}", verbs.join("/"), name.as_str())
    })
    .await
}

struct Reader {
    client: awc::Client,
    base: String,
    name: String,
    bearer: String,
}

impl Reader {
    /// GET a JSON document: its `Docker-Content-Digest` (or computed) and the value.
    async fn json(&self, path: &str) -> Result<(String, Value)> {
        let url = format!("{}/v2/{}/{path}", self.base, self.name);
        let mut res = self
            .client
            .get(&url)
            .insert_header(("Authorization", self.bearer.as_str()))
            .insert_header(("Accept", ACCEPT))
            .send()
            .await
            .map_err(|e| Error::Internal(format!("registry {url}: {e}")))?;
        if res.status().as_u16() == 404 {
            return Err(Error::NotFound(format!("{} has no {path}", self.name)));
        }
        if !res.status().is_success() {
            return Err(Error::Internal(format!("registry {url}: {}", res.status())));
        }
        let header = res
            .headers()
            .get("Docker-Content-Digest")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let body = res
            .body()
            .limit(MAX_BODY)
            .await
            .map_err(|e| Error::Internal(format!("registry {url}: {e}")))?;
        let digest =
            header.unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(&body))));
        let value = serde_json::from_slice(&body)
            .map_err(|e| Error::Internal(format!("registry {url}: not JSON: {e}")))?;
        Ok((digest, value))
    }

    /// Config + layer sizes of an image manifest, and its config digest.
    fn image_size(manifest: &Value) -> (u64, Option<String>) {
        let size = |v: &Value| v.get("size").and_then(Value::as_u64).unwrap_or(0);
        let config = manifest.get("config");
        let layers = manifest.get("layers").and_then(Value::as_array);
        let total = config.map_or(0, size) + layers.map_or(0, |l| l.iter().map(size).sum());
        let digest = config.and_then(|c| c.get("digest")).and_then(Value::as_str);
        (total, digest.map(String::from))
    }

    async fn created(&self, config_digest: Option<String>) -> Option<String> {
        let (_, config) = self.json(&format!("blobs/{}", config_digest?)).await.ok()?;
        config
            .get("created")
            .and_then(Value::as_str)
            .map(String::from)
    }

    async fn referrers(&self, digest: &str) -> Vec<Referrer> {
        let Ok((_, index)) = self.json(&format!("referrers/{digest}")).await else {
            return Vec::new();
        };
        let list = index.get("manifests").and_then(Value::as_array);
        list.into_iter()
            .flatten()
            .map(|d| Referrer {
                artifact_type: text(d, "artifactType"),
                digest: text(d, "digest"),
                size: d.get("size").and_then(Value::as_u64).unwrap_or(0),
            })
            .collect()
    }

    async fn platform(&self, descriptor: &Value) -> (Platform, Option<String>) {
        let digest = text(descriptor, "digest");
        let p = descriptor.get("platform");
        let part = |k: &str| p.map(|p| text(p, k)).unwrap_or_default();
        let mut platform = format!("{}/{}", part("os"), part("architecture"));
        if !part("variant").is_empty() {
            platform = format!("{platform}/{}", part("variant"));
        }
        let (size, config) = match self.json(&format!("manifests/{digest}")).await {
            Ok((_, m)) => Self::image_size(&m),
            Err(_) => (0, None),
        };
        (
            Platform {
                platform,
                digest,
                size,
            },
            config,
        )
    }

    async fn tag(&self, tag: String) -> Result<TagInfo> {
        let (digest, manifest) = self.json(&format!("manifests/{tag}")).await?;
        let media_type = text(&manifest, "mediaType");
        let mut info = TagInfo {
            referrers: self.referrers(&digest).await,
            tag,
            digest,
            media_type,
            ..TagInfo::default()
        };
        if let Some(children) = manifest.get("manifests").and_then(Value::as_array) {
            let read = join_all(children.iter().map(|c| self.platform(c))).await;
            let first_config = read.first().and_then(|(_, c)| c.clone());
            info.platforms = read.into_iter().map(|(p, _)| p).collect();
            info.size = info.platforms.iter().map(|p| p.size).sum();
            info.created = self.created(first_config).await;
        } else {
            let (size, config) = Self::image_size(&manifest);
            info.size = size;
            info.created = self.created(config).await;
        }
        if info.created.is_none() {
            let annotations = manifest.get("annotations");
            info.created = annotations.map(|a| text(a, "org.opencontainers.image.created"));
            info.created = info.created.take().filter(|c| !c.is_empty());
        }
        Ok(info)
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish()
}

/// One page of `name`'s tags (`per_page` of them, after `last`), each read in full.
pub async fn tags(
    index: &Index,
    subject: &Subject,
    name: &RepoName,
    last: Option<&Tag>,
    per_page: usize,
) -> Result<TagPage> {
    let reader = Reader {
        base: base(index)?,
        bearer: format!(
            "Bearer {}",
            token(index, subject, name, &[Action::Pull]).await?
        ),
        client: client(),
        name: name.as_str().to_string(),
    };
    let mut path = format!("tags/list?n={}", per_page + 1);
    if let Some(last) = last {
        path.push_str(&format!("&last={}", last.as_str()));
    }
    let mut names: Vec<String> = match reader.json(&path).await {
        Ok((_, list)) => list
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        // A repository allocated at the index that nobody has pushed to yet.
        Err(Error::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let next = (names.len() > per_page).then(|| {
        names.truncate(per_page);
        names.last().cloned().unwrap_or_default()
    });
    let read = join_all(names.into_iter().map(|t| reader.tag(t))).await;
    let tags = read.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(TagPage { tags, next })
}

/// Delete the tag `tag` of `name` at the registry (the manifest stays, by digest).
pub async fn delete_tag(
    index: &Index,
    subject: &Subject,
    name: &RepoName,
    tag: &Tag,
) -> Result<()> {
    let base = base(index)?;
    let token = token(index, subject, name, &[Action::Delete]).await?;
    let url = format!("{base}/v2/{}/manifests/{}", name.as_str(), tag.as_str());
    let res = client()
        .delete(&url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .map_err(|e| Error::Internal(format!("registry {url}: {e}")))?;
    match res.status().as_u16() {
        202 | 200 => {}
        404 => {
            return Err(Error::NotFound(format!(
                "no tag {} in {}",
                tag.as_str(),
                name.as_str()
            )))
        }
        s => return Err(Error::Internal(format!("registry {url}: answered {s}"))),
    }
    let target = format!("{}:{}", name.as_str(), tag.as_str());
    index
        .audit
        .record(&index.db, &subject.name, "tag.delete", &target, None);
    Ok(())
}
