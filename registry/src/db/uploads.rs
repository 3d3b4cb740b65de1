//! The `uploads` table: upload sessions, their durable size and hash state.
//!
//! A session is written by one request at a time. [`acquire`] takes a lease for an owner
//! (a random id per request) with a conditional update, so two requests — on one replica
//! or several — cannot append to one upload at once. The lease is short and renewed while
//! the request streams ([`renew`]), so the lease of a crashed process expires soon.
//! [`advance`] records progress only while the caller still owns the lease.
//!
//! Drivers without append (S3) also keep where the bytes are: the multipart upload, its
//! parts (`upload_parts`, numbered from 1, with their ETags) and the tail object. The
//! filesystem driver leaves those empty.

use super::schema::uploads::dsl as u;
use super::{now, Conn, DbError};
use diesel::prelude::*;

/// How long a lease lasts without renewal.
pub const LEASE_SECONDS: i64 = 60;

#[derive(Queryable, Debug, Clone)]
pub struct Upload {
    pub id: String,
    pub repository_id: i64,
    pub size: i64,
    pub algorithm: String,
    pub hash_state: Option<Vec<u8>>,
    pub multipart_id: Option<String>,
    pub multipart_key: Option<String>,
    pub tail_id: Option<String>,
    pub tail_size: i64,
}

/// One uploaded part of a multipart upload.
#[derive(Queryable, Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    pub number: i32,
    pub etag: String,
    pub size: i64,
}

/// What a request stored, recorded by [`advance`].
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub size: i64,
    pub hash_state: Vec<u8>,
    pub multipart_id: Option<String>,
    pub multipart_key: Option<String>,
    pub tail_id: Option<String>,
    pub tail_size: i64,
    /// Parts uploaded by this request (numbers after the recorded ones).
    pub new_parts: Vec<PartRow>,
}

pub fn create(
    conn: &mut Conn,
    id: &str,
    repository_id: i64,
    algorithm: &str,
    hash_state: &[u8],
) -> Result<(), DbError> {
    let t = now();
    diesel::insert_into(u::uploads)
        .values((
            u::id.eq(id),
            u::repository_id.eq(repository_id),
            u::size.eq(0i64),
            u::algorithm.eq(algorithm),
            u::hash_state.eq(Some(hash_state)),
            u::created_at.eq(t),
            u::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// The session `id` of repository `repository_id`.
pub fn get(conn: &mut Conn, repository_id: i64, id: &str) -> Result<Option<Upload>, DbError> {
    Ok(u::uploads
        .filter(u::id.eq(id))
        .filter(u::repository_id.eq(repository_id))
        .select((
            u::id,
            u::repository_id,
            u::size,
            u::algorithm,
            u::hash_state,
            u::multipart_id,
            u::multipart_key,
            u::tail_id,
            u::tail_size,
        ))
        .first(conn)
        .optional()?)
}

/// Take the lease on an upload for `owner`. `None` if it does not exist or is busy.
pub fn acquire(
    conn: &mut Conn,
    repository_id: i64,
    id: &str,
    owner: &str,
) -> Result<Option<Upload>, DbError> {
    let t = now();
    let n = diesel::update(
        u::uploads
            .filter(u::id.eq(id))
            .filter(u::repository_id.eq(repository_id))
            .filter(u::busy_until.is_null().or(u::busy_until.lt(t))),
    )
    .set((
        u::busy_until.eq(t + LEASE_SECONDS),
        u::lease_owner.eq(owner),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    get(conn, repository_id, id)
}

/// Is the upload leased by some request right now?
pub fn is_busy(conn: &mut Conn, repository_id: i64, id: &str) -> Result<bool, DbError> {
    let busy: Option<Option<i64>> = u::uploads
        .filter(u::id.eq(id))
        .filter(u::repository_id.eq(repository_id))
        .select(u::busy_until)
        .first(conn)
        .optional()?;
    Ok(matches!(busy, Some(Some(b)) if b >= now()))
}

/// Extend `owner`'s lease; false if it no longer holds it.
pub fn renew(conn: &mut Conn, id: &str, owner: &str) -> Result<bool, DbError> {
    let n = diesel::update(
        u::uploads
            .filter(u::id.eq(id))
            .filter(u::lease_owner.eq(owner)),
    )
    .set(u::busy_until.eq(now() + LEASE_SECONDS))
    .execute(conn)?;
    Ok(n > 0)
}

/// The recorded parts of upload `id`, in order.
pub fn parts(conn: &mut Conn, id: &str) -> Result<Vec<PartRow>, DbError> {
    use super::schema::upload_parts::dsl as p;
    Ok(p::upload_parts
        .filter(p::upload_id.eq(id))
        .order(p::number.asc())
        .select((p::number, p::etag, p::size))
        .load(conn)?)
}

/// Record progress and release the lease; false if `owner` no longer held it (nothing
/// is recorded then). Run it in a transaction: the row and its new parts go together.
pub fn advance(conn: &mut Conn, id: &str, owner: &str, p: &Progress) -> Result<bool, DbError> {
    use super::schema::upload_parts::dsl as up;
    let n = diesel::update(
        u::uploads
            .filter(u::id.eq(id))
            .filter(u::lease_owner.eq(owner)),
    )
    .set((
        u::size.eq(p.size),
        u::hash_state.eq(Some(&p.hash_state)),
        u::multipart_id.eq(&p.multipart_id),
        u::multipart_key.eq(&p.multipart_key),
        u::tail_id.eq(&p.tail_id),
        u::tail_size.eq(p.tail_size),
        u::busy_until.eq(None::<i64>),
        u::lease_owner.eq(None::<String>),
        u::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    for part in &p.new_parts {
        diesel::insert_into(up::upload_parts)
            .values((
                up::upload_id.eq(id),
                up::number.eq(part.number),
                up::etag.eq(&part.etag),
                up::size.eq(part.size),
            ))
            .execute(conn)?;
    }
    Ok(true)
}

/// The multipart uploads (`(id, multipart id, key)`) of the given sessions, so that
/// storage can abort them once the rows are gone.
pub fn multiparts(
    conn: &mut Conn,
    ids: &[String],
) -> Result<Vec<(String, String, String)>, DbError> {
    let rows: Vec<(String, Option<String>, Option<String>)> = u::uploads
        .filter(u::id.eq_any(ids))
        .select((u::id, u::multipart_id, u::multipart_key))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, m, k)| Some((id, m?, k?)))
        .collect())
}

/// Ids of sessions [`super::gc::expire_uploads`] would expire now.
pub fn stale_ids(conn: &mut Conn, before: i64, now: i64) -> Result<Vec<String>, DbError> {
    Ok(u::uploads
        .filter(u::updated_at.le(before))
        .filter(u::busy_until.is_null().or(u::busy_until.lt(now)))
        .select(u::id)
        .load(conn)?)
}

/// Release `owner`'s lease without progress (the request failed).
pub fn release(conn: &mut Conn, id: &str, owner: &str) -> Result<(), DbError> {
    diesel::update(
        u::uploads
            .filter(u::id.eq(id))
            .filter(u::lease_owner.eq(owner)),
    )
    .set((
        u::busy_until.eq(None::<i64>),
        u::lease_owner.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(())
}

/// End a session held by `owner` (finished); false if it no longer held it.
pub fn delete_owned(conn: &mut Conn, id: &str, owner: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(
        u::uploads
            .filter(u::id.eq(id))
            .filter(u::lease_owner.eq(owner)),
    )
    .execute(conn)?
        > 0)
}

/// End a session whatever its lease (cancelled); false if it did not exist.
pub fn delete(conn: &mut Conn, id: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(u::uploads.filter(u::id.eq(id))).execute(conn)? > 0)
}

/// Claim `digest` for the session `owner` is finishing, and cancel a pending file delete
/// of that digest by garbage collection (docs/deletion.md, "The race"). From this commit
/// until the session row goes, GC neither marks the blob nor deletes its file, so the
/// caller may trust a blob file it finds in storage. False if `owner` lost the lease.
pub fn claim_digest(conn: &mut Conn, id: &str, owner: &str, digest: &str) -> Result<bool, DbError> {
    use super::schema::gc_deletions::dsl as g;
    let n = diesel::update(
        u::uploads
            .filter(u::id.eq(id))
            .filter(u::lease_owner.eq(owner)),
    )
    .set(u::digest.eq(digest))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::delete(g::gc_deletions.filter(g::digest.eq(digest))).execute(conn)?;
    Ok(true)
}

/// Ids of the repository's upload sessions.
pub fn ids_in(conn: &mut Conn, repository_id: i64) -> Result<Vec<String>, DbError> {
    Ok(u::uploads
        .filter(u::repository_id.eq(repository_id))
        .select(u::id)
        .load(conn)?)
}
