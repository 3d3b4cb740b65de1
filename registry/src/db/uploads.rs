//! The `uploads` table: upload sessions, their durable size and hash state.
//!
//! A session is written by one request at a time: [`acquire`] takes a short lease
//! (`busy_until`) with a conditional update, so two replicas cannot append to one upload
//! at once; [`advance`] records the new size and hash state and releases the lease.

use super::schema::uploads::dsl as u;
use super::{now, Conn, DbError};
use diesel::prelude::*;

/// How long a request may hold an upload before another may take it over.
pub const LEASE_SECONDS: i64 = 15 * 60;

#[derive(Queryable, Debug, Clone)]
pub struct Upload {
    pub id: String,
    pub repository_id: i64,
    pub size: i64,
    pub algorithm: String,
    pub hash_state: Option<Vec<u8>>,
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
        ))
        .first(conn)
        .optional()?)
}

/// Take the write lease on an upload. `None` if it does not exist or is busy.
pub fn acquire(conn: &mut Conn, repository_id: i64, id: &str) -> Result<Option<Upload>, DbError> {
    let t = now();
    let n = diesel::update(
        u::uploads
            .filter(u::id.eq(id))
            .filter(u::repository_id.eq(repository_id))
            .filter(u::busy_until.is_null().or(u::busy_until.lt(t))),
    )
    .set(u::busy_until.eq(t + LEASE_SECONDS))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    get(conn, repository_id, id)
}

/// Is the upload currently leased by a request?
pub fn is_busy(conn: &mut Conn, id: &str) -> Result<bool, DbError> {
    let busy: Option<Option<i64>> = u::uploads
        .filter(u::id.eq(id))
        .select(u::busy_until)
        .first(conn)
        .optional()?;
    Ok(matches!(busy, Some(Some(b)) if b >= now()))
}

/// Record progress (new durable size and hash state) and release the lease.
pub fn advance(conn: &mut Conn, id: &str, size: i64, hash_state: &[u8]) -> Result<(), DbError> {
    diesel::update(u::uploads.filter(u::id.eq(id)))
        .set((
            u::size.eq(size),
            u::hash_state.eq(Some(hash_state)),
            u::busy_until.eq(None::<i64>),
            u::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Release the lease without progress (the request failed).
pub fn release(conn: &mut Conn, id: &str) -> Result<(), DbError> {
    diesel::update(u::uploads.filter(u::id.eq(id)))
        .set(u::busy_until.eq(None::<i64>))
        .execute(conn)?;
    Ok(())
}

/// End a session (finished or cancelled); false if it did not exist.
pub fn delete(conn: &mut Conn, id: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(u::uploads.filter(u::id.eq(id))).execute(conn)? > 0)
}
