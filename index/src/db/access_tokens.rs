//! The `access_tokens` table (personal access tokens): only the SHA-256 of each secret.

use super::schema::access_tokens::dsl as t;
use super::{now, Conn, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::access_tokens)]
pub struct AccessToken {
    pub id: String,
    pub user_id: i64,
    pub name: String,
    pub token_hash: String,
    /// Space-separated `namespace/repository` or `namespace/*`; empty: every repository.
    pub repositories: String,
    /// Comma-separated subset of `pull,push,delete`.
    pub actions: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl AccessToken {
    /// Not revoked and not expired at `at`.
    pub fn is_valid_at(&self, at: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > at)
    }
}

/// A token to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = super::schema::access_tokens)]
pub struct NewAccessToken<'a> {
    pub id: &'a str,
    pub user_id: i64,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub repositories: &'a str,
    pub actions: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

pub fn insert(conn: &mut Conn, row: &NewAccessToken) -> Result<(), DbError> {
    diesel::insert_into(t::access_tokens)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut Conn, id: &str) -> Result<Option<AccessToken>, DbError> {
    Ok(t::access_tokens
        .find(id)
        .select(AccessToken::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<AccessToken>, DbError> {
    Ok(t::access_tokens
        .filter(t::token_hash.eq(token_hash))
        .select(AccessToken::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_for_user(conn: &mut Conn, user_id: i64) -> Result<Vec<AccessToken>, DbError> {
    Ok(t::access_tokens
        .filter(t::user_id.eq(user_id))
        .order(t::created_at.desc())
        .select(AccessToken::as_select())
        .load(conn)?)
}

/// Returns whether a not-yet-revoked token was revoked.
pub fn revoke(conn: &mut Conn, id: &str) -> Result<bool, DbError> {
    let n = diesel::update(t::access_tokens.find(id).filter(t::revoked_at.is_null()))
        .set(t::revoked_at.eq(now()))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn touch(conn: &mut Conn, id: &str) -> Result<(), DbError> {
    diesel::update(t::access_tokens.find(id))
        .set(t::last_used_at.eq(now()))
        .execute(conn)?;
    Ok(())
}
