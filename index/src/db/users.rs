//! The `users` table.

use super::schema::users::dsl as u;
use super::{now, Conn, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::users)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
}

pub fn find(conn: &mut Conn, name: &str) -> Result<Option<User>, DbError> {
    Ok(u::users
        .filter(u::name.eq(name))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_id(conn: &mut Conn, id: i64) -> Result<Option<User>, DbError> {
    Ok(u::users
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Insert a user; fails with a unique violation if the name is taken.
pub fn insert(
    conn: &mut Conn,
    name: &str,
    password_hash: &str,
    email: Option<&str>,
    is_admin: bool,
) -> Result<User, DbError> {
    diesel::insert_into(u::users)
        .values((
            u::name.eq(name),
            u::password_hash.eq(password_hash),
            u::email.eq(email),
            u::is_admin.eq(is_admin),
            u::disabled.eq(false),
            u::created_at.eq(now()),
        ))
        .execute(conn)?;
    find(conn, name)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}

pub fn list(conn: &mut Conn) -> Result<Vec<User>, DbError> {
    Ok(u::users
        .order(u::name.asc())
        .select(User::as_select())
        .load(conn)?)
}

/// Returns whether the user exists.
pub fn set_disabled(conn: &mut Conn, name: &str, disabled: bool) -> Result<bool, DbError> {
    let n = diesel::update(u::users.filter(u::name.eq(name)))
        .set(u::disabled.eq(disabled))
        .execute(conn)?;
    Ok(n > 0)
}

/// Returns whether the user exists.
pub fn set_password_hash(conn: &mut Conn, name: &str, hash: &str) -> Result<bool, DbError> {
    let n = diesel::update(u::users.filter(u::name.eq(name)))
        .set(u::password_hash.eq(hash))
        .execute(conn)?;
    Ok(n > 0)
}

/// Returns whether the user exists.
pub fn set_email(conn: &mut Conn, name: &str, email: &str) -> Result<bool, DbError> {
    let n = diesel::update(u::users.filter(u::name.eq(name)))
        .set(u::email.eq(email))
        .execute(conn)?;
    Ok(n > 0)
}
