//! v1 repository tags (`{"<tag>": "<image id>"}`) and repository deletion.

use super::error::{V1Error, V1Result};
use crate::db;
use crate::error::Error;
use crate::state::Registry;
use pier_shared::v1::ImageId;
use pier_shared::{ErrorCode, RepoName};
use std::collections::BTreeMap;

fn repo_unknown(repo: &RepoName) -> V1Error {
    V1Error::NotFound(format!("Repository not found: {repo}"))
}

/// Every tag of the repository.
pub async fn list(reg: &Registry, repo: &RepoName) -> V1Result<BTreeMap<String, String>> {
    let name = repo.clone();
    let tags = reg
        .db
        .run(move |c| -> V1Result<_> {
            let Some(id) = db::repositories::find(c, name.as_str())? else {
                return Ok(None);
            };
            Ok(Some(db::v1::tags(c, id)?))
        })
        .await?;
    match tags {
        Some(t) if !t.is_empty() => Ok(t.into_iter().collect()),
        _ => Err(repo_unknown(repo)),
    }
}

/// The image a tag names.
pub async fn get(reg: &Registry, repo: &RepoName, tag: &str) -> V1Result<String> {
    let (name, t) = (repo.clone(), tag.to_string());
    let image = reg
        .db
        .run(move |c| -> V1Result<_> {
            match db::repositories::find(c, name.as_str())? {
                Some(id) => Ok(db::v1::tag(c, id, &t)?),
                None => Ok(None),
            }
        })
        .await?;
    image.ok_or_else(|| V1Error::NotFound(format!("Tag not found: {tag}")))
}

/// Point a tag at a complete image.
pub async fn put(reg: &Registry, repo: &RepoName, tag: &str, image: &ImageId) -> V1Result<()> {
    let (name, t, img) = (repo.clone(), tag.to_string(), image.to_string());
    reg.db
        .transaction(move |c| -> V1Result<()> {
            if !db::v1::find(c, &img)?.is_some_and(|i| i.complete) {
                return Err(V1Error::NotFound(format!("Image not found: {img}")));
            }
            let id = db::repositories::find_or_create(c, name.as_str())?;
            db::v1::link(c, id, &img)?;
            db::v1::set_tag(c, id, &t, &img)?;
            Ok(())
        })
        .await
}

pub async fn delete(reg: &Registry, repo: &RepoName, tag: &str) -> V1Result<()> {
    let (name, t) = (repo.clone(), tag.to_string());
    let deleted = reg
        .db
        .run(move |c| -> V1Result<_> {
            match db::repositories::find(c, name.as_str())? {
                Some(id) => Ok(db::v1::delete_tag(c, id, &t)?),
                None => Ok(false),
            }
        })
        .await?;
    if deleted {
        Ok(())
    } else {
        Err(V1Error::NotFound(format!("Tag not found: {tag}")))
    }
}

/// Delete the repository (v1 tags and image links, and any v2 content): the same
/// deletion as the index's deletion job. Images no repository uses any more, and their
/// layers, go at the next garbage collection.
pub async fn delete_repository(
    reg: &Registry,
    origin: &crate::notifications::Origin,
    repo: &RepoName,
) -> V1Result<()> {
    match crate::services::repositories::delete(reg, origin, repo).await {
        Ok(()) => Ok(()),
        Err(Error::Oci(o)) if o.code == ErrorCode::NameUnknown => Err(repo_unknown(repo)),
        Err(e) => Err(e.into()),
    }
}
