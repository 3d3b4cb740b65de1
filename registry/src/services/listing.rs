//! Tag lists, the catalog and referrers: read-only listings with keyset pagination.

use super::repo_id;
use crate::db;
use crate::error::{Error, Result};
use crate::state::Registry;
use pier_shared::{Digest, RepoName};
use serde::Serialize;

/// One page of names, and whether more follow.
pub struct Page {
    pub items: Vec<String>,
    pub more: bool,
}

fn page(mut items: Vec<String>, limit: usize) -> Page {
    let more = items.len() > limit;
    items.truncate(limit);
    Page { items, more }
}

/// Tags of a repository after `last`, at most `limit`.
pub async fn tags(
    reg: &Registry,
    name: &RepoName,
    last: Option<String>,
    limit: usize,
) -> Result<Page> {
    let name = name.clone();
    let items = reg
        .db
        .run(move |c| {
            let repo = repo_id(c, &name)?;
            Ok::<_, Error>(db::tags::list(c, repo, last.as_deref(), limit as i64 + 1)?)
        })
        .await?;
    Ok(page(items, limit))
}

/// Repository names after `last`, at most `limit`.
pub async fn catalog(reg: &Registry, last: Option<String>, limit: usize) -> Result<Page> {
    let items = reg
        .db
        .run(move |c| db::repositories::list_with_manifests(c, last.as_deref(), limit as i64 + 1))
        .await?;
    Ok(page(items, limit))
}

/// As [`catalog`], restricted to `names` (those the caller may pull).
pub async fn catalog_among(
    reg: &Registry,
    mut names: Vec<String>,
    last: Option<String>,
    limit: usize,
) -> Result<Page> {
    names.sort();
    names.dedup();
    if let Some(last) = &last {
        names.retain(|n| n > last);
    }
    let items = reg
        .db
        .run(move |c| {
            let mut found = Vec::new();
            for chunk in names.chunks(500) {
                found.extend(db::repositories::with_manifests_among(c, chunk)?);
                if found.len() > limit {
                    break;
                }
            }
            Ok::<_, Error>(found)
        })
        .await?;
    Ok(page(items, limit))
}

/// A descriptor in a referrers response.
#[derive(Serialize)]
pub struct ReferrerDescriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(rename = "artifactType", skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<serde_json::Value>,
}

/// Manifests in the repository whose subject is `subject`. An unknown repository or
/// subject yields an empty list, as the spec requires.
pub async fn referrers(
    reg: &Registry,
    name: &RepoName,
    subject: &Digest,
    artifact_type: Option<String>,
) -> Result<Vec<ReferrerDescriptor>> {
    let (name, subject) = (name.clone(), subject.to_string());
    let rows = reg
        .db
        .run(move |c| match db::repositories::find(c, name.as_str())? {
            Some(repo) => db::manifests::referrers(c, repo, &subject, artifact_type.as_deref()),
            None => Ok(Vec::new()),
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ReferrerDescriptor {
            media_type: r.media_type,
            digest: r.digest,
            size: r.size,
            artifact_type: r.artifact_type,
            annotations: r.annotations.and_then(|a| serde_json::from_str(&a).ok()),
        })
        .collect())
}
