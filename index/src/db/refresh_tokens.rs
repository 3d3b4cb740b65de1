//! The `refresh_tokens` table: only the SHA-256 of each token is stored.

use super::schema::refresh_tokens::dsl as t;
use super::{now, Conn, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::refresh_tokens)]
pub struct RefreshToken {
    /// Public id: the `rti` claim of tokens issued from this refresh token.
    pub id: String,
    pub token_hash: String,
    pub user_id: i64,
    pub client_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl RefreshToken {
    /// Not revoked and not expired at `at`.
    pub fn is_valid_at(&self, at: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > at
    }
}

pub fn insert(
    conn: &mut Conn,
    id: &str,
    token_hash: &str,
    user_id: i64,
    client_id: &str,
    expires_at: i64,
) -> Result<(), DbError> {
    diesel::insert_into(t::refresh_tokens)
        .values((
            t::id.eq(id),
            t::token_hash.eq(token_hash),
            t::user_id.eq(user_id),
            t::client_id.eq(client_id),
            t::created_at.eq(now()),
            t::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_by_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<RefreshToken>, DbError> {
    Ok(t::refresh_tokens
        .filter(t::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut Conn, id: &str) -> Result<Option<RefreshToken>, DbError> {
    Ok(t::refresh_tokens
        .find(id)
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_for_user(conn: &mut Conn, user_id: i64) -> Result<Vec<RefreshToken>, DbError> {
    Ok(t::refresh_tokens
        .filter(t::user_id.eq(user_id))
        .order(t::created_at.desc())
        .select(RefreshToken::as_select())
        .load(conn)?)
}

/// Returns whether a not-yet-revoked token was revoked.
pub fn revoke(conn: &mut Conn, id: &str) -> Result<bool, DbError> {
    let n = diesel::update(t::refresh_tokens.find(id).filter(t::revoked_at.is_null()))
        .set(t::revoked_at.eq(now()))
        .execute(conn)?;
    Ok(n > 0)
}
