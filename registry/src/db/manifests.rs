//! The `manifests` and `manifest_references` tables.

use super::schema::manifest_references::dsl as mr;
use super::schema::manifests::dsl as m;
use super::{now, Conn, DbError};
use diesel::prelude::*;

/// A manifest to store, with what it references.
pub struct NewManifest<'a> {
    pub repository_id: i64,
    pub digest: &'a str,
    pub media_type: &'a str,
    pub artifact_type: Option<&'a str>,
    pub content: &'a [u8],
    pub subject: Option<&'a str>,
    pub annotations: Option<&'a str>,
    /// Blob digests (config, layers) the manifest needs.
    pub blobs: &'a [String],
    /// Child manifest digests (index entries) the manifest needs.
    pub children: &'a [String],
}

/// Store a manifest unless the repository already has it (same digest ⇒ same bytes).
pub fn insert(conn: &mut Conn, new: &NewManifest<'_>) -> Result<(), DbError> {
    let inserted = pier_shared::on_backend!(conn, c => diesel::insert_into(m::manifests)
        .values((
            m::repository_id.eq(new.repository_id),
            m::digest.eq(new.digest),
            m::media_type.eq(new.media_type),
            m::artifact_type.eq(new.artifact_type),
            m::size.eq(new.content.len() as i64),
            m::content.eq(new.content),
            m::subject.eq(new.subject),
            m::annotations.eq(new.annotations),
            m::created_at.eq(now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 0 {
        return Ok(());
    }
    let id: i64 = m::manifests
        .filter(m::repository_id.eq(new.repository_id))
        .filter(m::digest.eq(new.digest))
        .select(m::id)
        .first(conn)?;
    let refs: Vec<_> = new
        .blobs
        .iter()
        .map(|d| (d.as_str(), "blob"))
        .chain(new.children.iter().map(|d| (d.as_str(), "manifest")))
        .map(|(d, kind)| (mr::manifest_id.eq(id), mr::digest.eq(d), mr::kind.eq(kind)))
        .collect();
    for chunk in refs.chunks(200) {
        pier_shared::on_backend!(conn, c => diesel::insert_into(mr::manifest_references)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// A stored manifest.
#[derive(Queryable, Debug, Clone)]
pub struct StoredManifest {
    pub digest: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

pub fn get(
    conn: &mut Conn,
    repository_id: i64,
    digest: &str,
) -> Result<Option<StoredManifest>, DbError> {
    Ok(m::manifests
        .filter(m::repository_id.eq(repository_id))
        .filter(m::digest.eq(digest))
        .select((m::digest, m::media_type, m::content))
        .first(conn)
        .optional()?)
}

/// Media type and size, without the content (for HEAD).
pub fn head(
    conn: &mut Conn,
    repository_id: i64,
    digest: &str,
) -> Result<Option<(String, i64)>, DbError> {
    Ok(m::manifests
        .filter(m::repository_id.eq(repository_id))
        .filter(m::digest.eq(digest))
        .select((m::media_type, m::size))
        .first(conn)
        .optional()?)
}

/// Which of `digests` are manifests in the repository.
pub fn existing_among(
    conn: &mut Conn,
    repository_id: i64,
    digests: &[String],
) -> Result<Vec<String>, DbError> {
    Ok(m::manifests
        .filter(m::repository_id.eq(repository_id))
        .filter(m::digest.eq_any(digests))
        .select(m::digest)
        .load(conn)?)
}

/// Delete a manifest (its tags and references go with it); false if absent.
pub fn delete(conn: &mut Conn, repository_id: i64, digest: &str) -> Result<bool, DbError> {
    let n = diesel::delete(
        m::manifests
            .filter(m::repository_id.eq(repository_id))
            .filter(m::digest.eq(digest)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// A manifest whose `subject` is a given digest, as the referrers API lists it.
#[derive(Queryable, Debug, Clone)]
pub struct Referrer {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub artifact_type: Option<String>,
    pub annotations: Option<String>,
}

pub fn referrers(
    conn: &mut Conn,
    repository_id: i64,
    subject: &str,
    artifact_type: Option<&str>,
) -> Result<Vec<Referrer>, DbError> {
    let mut q = m::manifests
        .filter(m::repository_id.eq(repository_id))
        .filter(m::subject.eq(subject))
        .select((
            m::digest,
            m::media_type,
            m::size,
            m::artifact_type,
            m::annotations,
        ))
        .order(m::digest.asc())
        .into_boxed();
    if let Some(at) = artifact_type {
        q = q.filter(m::artifact_type.eq(at.to_string()));
    }
    Ok(q.load(conn)?)
}
