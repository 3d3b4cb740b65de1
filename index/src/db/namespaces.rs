//! The `namespaces` and `namespace_owners` tables.

use super::schema::namespace_owners::dsl as o;
use super::schema::namespaces::dsl as n;
use super::{now, Conn, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::namespaces)]
pub struct Namespace {
    pub id: i64,
    pub name: String,
    /// `user` or `org`.
    pub kind: String,
    pub created_at: i64,
}

pub const USER: &str = "user";
pub const ORG: &str = "org";

pub fn find(conn: &mut Conn, name: &str) -> Result<Option<Namespace>, DbError> {
    Ok(n::namespaces
        .filter(n::name.eq(name))
        .select(Namespace::as_select())
        .first(conn)
        .optional()?)
}

/// Insert a namespace; fails with a unique violation if the name is taken.
pub fn insert(conn: &mut Conn, name: &str, kind: &str) -> Result<Namespace, DbError> {
    diesel::insert_into(n::namespaces)
        .values((n::name.eq(name), n::kind.eq(kind), n::created_at.eq(now())))
        .execute(conn)?;
    find(conn, name)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}

pub fn list(conn: &mut Conn, kind: &str) -> Result<Vec<Namespace>, DbError> {
    Ok(n::namespaces
        .filter(n::kind.eq(kind))
        .order(n::name.asc())
        .select(Namespace::as_select())
        .load(conn)?)
}

pub fn add_owner(conn: &mut Conn, namespace_id: i64, user_id: i64) -> Result<(), DbError> {
    pier_shared::on_backend!(conn, c => diesel::insert_into(o::namespace_owners)
        .values((o::namespace_id.eq(namespace_id), o::user_id.eq(user_id)))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

pub fn is_owner(conn: &mut Conn, namespace_id: i64, user_id: i64) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        o::namespace_owners
            .filter(o::namespace_id.eq(namespace_id))
            .filter(o::user_id.eq(user_id)),
    ))
    .get_result(conn)?)
}

/// Ids of the namespaces `user_id` owns as an organization owner.
pub fn owned_by(conn: &mut Conn, user_id: i64) -> Result<Vec<i64>, DbError> {
    Ok(o::namespace_owners
        .filter(o::user_id.eq(user_id))
        .select(o::namespace_id)
        .load(conn)?)
}

pub fn owner_names(conn: &mut Conn, namespace_id: i64) -> Result<Vec<String>, DbError> {
    use super::schema::users::dsl as u;
    Ok(o::namespace_owners
        .inner_join(u::users)
        .filter(o::namespace_id.eq(namespace_id))
        .select(u::name)
        .order(u::name.asc())
        .load(conn)?)
}
