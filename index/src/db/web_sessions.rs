//! The `web_sessions` table: browser sessions, by the SHA-256 of the cookie's token.

use super::schema::web_sessions::dsl as s;
use super::{Conn, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::web_sessions)]
pub struct WebSession {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn insert(conn: &mut Conn, row: &WebSession) -> Result<(), DbError> {
    diesel::insert_into(s::web_sessions)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The session with this token hash, if it has not expired at `at`.
pub fn find_live(
    conn: &mut Conn,
    token_hash: &str,
    at: i64,
) -> Result<Option<WebSession>, DbError> {
    Ok(s::web_sessions
        .find(token_hash)
        .filter(s::expires_at.gt(at))
        .select(WebSession::as_select())
        .first(conn)
        .optional()?)
}

pub fn delete(conn: &mut Conn, token_hash: &str) -> Result<(), DbError> {
    diesel::delete(s::web_sessions.find(token_hash)).execute(conn)?;
    Ok(())
}

/// Drop every session that expired before `at`.
pub fn delete_expired(conn: &mut Conn, at: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(s::web_sessions.filter(s::expires_at.le(at))).execute(conn)?)
}
