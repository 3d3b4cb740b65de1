//! Storing, resolving and deleting manifests and tags.

use super::repo_id;
use crate::db;
use crate::error::{Error, Result};
use crate::manifest::{self, Parsed};
use crate::notifications::{events, Origin};
use crate::state::Registry;
use bytes::Bytes;
use pier_shared::{Algorithm, Digest, ErrorCode, OciError, Reference, RepoName, Tag};

/// A stored manifest as served.
pub struct Manifest {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    /// `None` for HEAD.
    pub content: Option<Vec<u8>>,
}

/// What a successful PUT reports back.
pub struct Pushed {
    pub digest: Digest,
    pub subject: Option<Digest>,
    pub tags: Vec<Tag>,
}

fn unknown(name: &RepoName, reference: &Reference) -> Error {
    Error::oci(
        ErrorCode::ManifestUnknown,
        format!("manifest {reference} unknown in {name}"),
    )
}

fn missing(what: &str, digest: &str) -> Error {
    Error::Oci(
        OciError::with_message(
            ErrorCode::ManifestBlobUnknown,
            format!("manifest references {what} {digest}, which is not in this repository"),
        )
        .detail(serde_json::json!({ "digest": digest })),
    )
}

/// Store verified, parsed manifest bytes in a repository (what it references with it),
/// unless the repository already holds that digest. The caller checks references first
/// (a push) or not (a mirror's cache fetches them later).
pub(crate) fn insert(
    c: &mut db::Conn,
    repo: i64,
    digest: &str,
    parsed: &Parsed,
    body: &[u8],
) -> std::result::Result<(), db::DbError> {
    let subject = parsed.subject.as_ref().map(|s| s.to_string());
    db::manifests::insert(
        c,
        &db::manifests::NewManifest {
            repository_id: repo,
            digest,
            media_type: &parsed.media_type,
            artifact_type: parsed.artifact_type.as_deref(),
            content: body,
            subject: subject.as_deref(),
            annotations: parsed.annotations.as_deref(),
            blobs: &parsed.blobs,
            children: &parsed.children,
        },
    )
}

/// Verify, check references and store a manifest pushed at `reference`, also tagging it
/// with `extra_tags` (`?tag=`). Bytes are stored exactly as received; the `push` events
/// are queued in the same transaction.
pub async fn put(
    reg: &Registry,
    origin: &Origin,
    name: &RepoName,
    reference: &Reference,
    extra_tags: Vec<Tag>,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<Pushed> {
    let parsed: Parsed = manifest::parse(content_type, &body)?;
    let digest = match reference {
        Reference::Digest(claimed) => {
            let actual = claimed.algorithm().digest_of(&body);
            if &actual != claimed {
                return Err(Error::Oci(
                    OciError::with_message(
                        ErrorCode::DigestInvalid,
                        format!("manifest has digest {actual}, not {claimed}"),
                    )
                    .detail(serde_json::json!({ "digest": claimed.to_string() })),
                ));
            }
            actual
        }
        Reference::Tag(_) => Algorithm::Sha256.digest_of(&body),
    };
    let mut tags: Vec<Tag> = Vec::new();
    let path_tag = match reference {
        Reference::Tag(t) => Some(t.clone()),
        Reference::Digest(_) => None,
    };
    for t in path_tag.into_iter().chain(extra_tags) {
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let (name, d, tags_db) = (name.clone(), digest.to_string(), tags.clone());
    let subject = parsed.subject.clone();
    let (notifier, origin) = (reg.notifier.clone(), origin.clone());
    reg.db
        .transaction(move |c| {
            let repo = db::repositories::find_or_create(c, name.as_str())?;
            let have = db::blobs::linked_among(c, repo, &parsed.blobs)?;
            if let Some(m) = parsed.blobs.iter().find(|b| !have.contains(b)) {
                return Err(missing("blob", m));
            }
            let have = db::manifests::existing_among(c, repo, &parsed.children)?;
            if let Some(m) = parsed.children.iter().find(|b| !have.contains(b)) {
                return Err(missing("manifest", m));
            }
            insert(c, repo, &d, &parsed, &body)?;
            for t in &tags_db {
                db::tags::set(c, repo, t.as_str(), &d)?;
            }
            let m = events::ManifestRef {
                repository: name.as_str(),
                digest: &d,
                media_type: &parsed.media_type,
                size: body.len() as u64,
            };
            events::manifest_pushed(c, &notifier, &origin, &m, &tags_db)?;
            Ok(())
        })
        .await?;
    Ok(Pushed {
        digest,
        subject,
        tags,
    })
}

/// Resolve and load a manifest; without `with_content` only its head (for HEAD requests).
/// A GET (with content) is a pull: its event is queued in a small transaction of its own.
pub async fn get(
    reg: &Registry,
    origin: &Origin,
    name: &RepoName,
    reference: &Reference,
    with_content: bool,
) -> Result<Manifest> {
    let (n, r) = (name.clone(), reference.clone());
    let found = reg
        .db
        .run(move |c| {
            let repo = repo_id(c, &n)?;
            let digest = match &r {
                Reference::Digest(d) => d.to_string(),
                Reference::Tag(t) => match db::tags::resolve(c, repo, t.as_str())? {
                    Some(d) => d,
                    None => return Ok(None),
                },
            };
            if with_content {
                Ok::<_, Error>(db::manifests::get(c, repo, &digest)?.map(|m| {
                    (
                        m.digest,
                        m.media_type,
                        m.content.len() as i64,
                        Some(m.content),
                    )
                }))
            } else {
                Ok(db::manifests::head(c, repo, &digest)?
                    .map(|(mt, size)| (digest, mt, size, None)))
            }
        })
        .await?;
    let (digest, media_type, size, content) = found.ok_or_else(|| unknown(name, reference))?;
    let digest: Digest = digest.parse().map_err(|_| {
        log::error!("stored manifest digest {digest:?} does not parse");
        Error::from(ErrorCode::Unknown)
    })?;
    if with_content {
        let m = events::ManifestRef {
            repository: name.as_str(),
            digest: &digest.to_string(),
            media_type: &media_type,
            size: size as u64,
        };
        events::manifest_pulled(reg, origin, &m, reference).await?;
    }
    Ok(Manifest {
        digest,
        media_type,
        size: size as u64,
        content,
    })
}

/// Delete a tag (the manifest stays reachable by digest), or a manifest by digest (with
/// every tag pointing at it); the `delete` event is queued in the same transaction.
pub async fn delete(
    reg: &Registry,
    origin: &Origin,
    name: &RepoName,
    reference: &Reference,
) -> Result<()> {
    let (n, r) = (name.clone(), reference.clone());
    let (notifier, origin) = (reg.notifier.clone(), origin.clone());
    let removed = reg
        .db
        .transaction(move |c| {
            let repo = repo_id(c, &n)?;
            let removed = match &r {
                Reference::Tag(t) => db::tags::delete(c, repo, t.as_str())?,
                Reference::Digest(d) => db::manifests::delete(c, repo, &d.to_string())?,
            };
            if removed {
                events::deleted(c, &notifier, &origin, n.as_str(), &r)?;
            }
            Ok::<_, Error>(removed)
        })
        .await?;
    if removed {
        Ok(())
    } else {
        Err(unknown(name, reference))
    }
}
