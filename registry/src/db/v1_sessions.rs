//! The `v1_sessions` table: legacy v1 grants carried by a cookie, shared by replicas.
//! Rows are keyed by the SHA-256 of the cookie value; the value itself is never stored.

use super::schema::v1_sessions::dsl as s;
use super::{now, Conn, DbError};
use diesel::prelude::*;

#[derive(Queryable, Debug, Clone)]
pub struct Row {
    pub repository: String,
    pub access: String,
    /// One image id per line.
    pub images: String,
}

/// The live session with this key hash.
pub fn find(conn: &mut Conn, id_hash: &str) -> Result<Option<Row>, DbError> {
    Ok(s::v1_sessions
        .filter(s::id_hash.eq(id_hash))
        .filter(s::expires_at.gt(now()))
        .select((s::repository, s::access, s::images))
        .first(conn)
        .optional()?)
}

/// Open a session unless `max` live ones exist already (expired ones are dropped first).
/// False when full.
pub fn insert(
    conn: &mut Conn,
    id_hash: &str,
    row: &Row,
    expires_at: i64,
    max: i64,
) -> Result<bool, DbError> {
    let live = |c: &mut Conn| -> Result<i64, DbError> {
        Ok(s::v1_sessions
            .filter(s::expires_at.gt(now()))
            .count()
            .get_result(c)?)
    };
    if live(conn)? >= max {
        diesel::delete(s::v1_sessions.filter(s::expires_at.le(now()))).execute(conn)?;
        if live(conn)? >= max {
            return Ok(false);
        }
    }
    diesel::insert_into(s::v1_sessions)
        .values((
            s::id_hash.eq(id_hash),
            s::repository.eq(&row.repository),
            s::access.eq(&row.access),
            s::images.eq(&row.images),
            s::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Drop expired sessions; how many went.
pub fn expire(conn: &mut Conn) -> Result<usize, DbError> {
    Ok(diesel::delete(s::v1_sessions.filter(s::expires_at.le(now()))).execute(conn)?)
}
