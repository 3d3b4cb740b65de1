//! The `blobs` and `repository_blobs` tables.

use super::schema::blobs::dsl as b;
use super::schema::repository_blobs::dsl as rb;
use super::{now, Conn, DbError};
use diesel::prelude::*;

/// Record that a blob's bytes are in storage (idempotent).
pub fn insert(conn: &mut Conn, digest: &str, size: i64) -> Result<(), DbError> {
    pier_shared::on_backend!(conn, c => diesel::insert_into(b::blobs)
        .values((
            b::digest.eq(digest),
            b::size.eq(size),
            b::created_at.eq(now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Size of a blob whose bytes are in storage, in any repository.
pub fn size(conn: &mut Conn, digest: &str) -> Result<Option<i64>, DbError> {
    Ok(b::blobs
        .filter(b::digest.eq(digest))
        .select(b::size)
        .first(conn)
        .optional()?)
}

/// Make a stored blob visible in a repository (idempotent; an existing link is renewed).
/// Fails (foreign key) if the `blobs` row is gone: garbage collection deleted it, and the
/// caller must not make the blob visible. Clears the blob's `unreferenced_since`.
pub fn link(conn: &mut Conn, repository_id: i64, digest: &str) -> Result<(), DbError> {
    let t = now();
    pier_shared::on_backend!(conn, c => diesel::insert_into(rb::repository_blobs)
        .values((
            rb::repository_id.eq(repository_id),
            rb::digest.eq(digest),
            rb::created_at.eq(t),
        ))
        .on_conflict((rb::repository_id, rb::digest))
        .do_update()
        .set(rb::created_at.eq(t))
        .execute(c))?;
    diesel::update(b::blobs.filter(b::digest.eq(digest)))
        .set(b::unreferenced_since.eq(None::<i64>))
        .execute(conn)?;
    Ok(())
}

/// Start the grace period of a blob nothing links yet (an upload finished for a session
/// that was cancelled meanwhile): garbage collection may take it after the grace.
pub fn mark_unreferenced(conn: &mut Conn, digest: &str) -> Result<(), DbError> {
    diesel::update(
        b::blobs
            .filter(b::digest.eq(digest))
            .filter(b::unreferenced_since.is_null()),
    )
    .set(b::unreferenced_since.eq(now()))
    .execute(conn)?;
    Ok(())
}

/// Size of a blob if the repository may serve it.
pub fn linked_size(
    conn: &mut Conn,
    repository_id: i64,
    digest: &str,
) -> Result<Option<i64>, DbError> {
    Ok(rb::repository_blobs
        .inner_join(b::blobs)
        .filter(rb::repository_id.eq(repository_id))
        .filter(rb::digest.eq(digest))
        .select(b::size)
        .first(conn)
        .optional()?)
}

/// Which of `digests` the repository may serve.
pub fn linked_among(
    conn: &mut Conn,
    repository_id: i64,
    digests: &[String],
) -> Result<Vec<String>, DbError> {
    Ok(rb::repository_blobs
        .filter(rb::repository_id.eq(repository_id))
        .filter(rb::digest.eq_any(digests))
        .select(rb::digest)
        .load(conn)?)
}

/// Remove a repository's link to a blob; false if there was none. The bytes stay.
pub fn unlink(conn: &mut Conn, repository_id: i64, digest: &str) -> Result<bool, DbError> {
    let n = diesel::delete(
        rb::repository_blobs
            .filter(rb::repository_id.eq(repository_id))
            .filter(rb::digest.eq(digest)),
    )
    .execute(conn)?;
    Ok(n > 0)
}
