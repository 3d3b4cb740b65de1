//! The `repositories` table. A row with `deleted_at` set is history: the name is free again.

use super::schema::repositories::dsl as r;
use super::{now, Conn, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::repositories)]
pub struct Repository {
    pub id: i64,
    pub namespace_id: i64,
    /// Full name, `namespace/rest`.
    pub name: String,
    /// `public` or `private`.
    pub visibility: String,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

pub const PUBLIC: &str = "public";
pub const PRIVATE: &str = "private";

/// Which live repositories a listing may show.
pub enum Visible {
    All,
    /// Public ones, and every one in these namespaces.
    PublicOr(Vec<i64>),
}

/// The live (not deleted) repository called `name`.
pub fn find_live(conn: &mut Conn, name: &str) -> Result<Option<Repository>, DbError> {
    Ok(r::repositories
        .filter(r::name.eq(name))
        .filter(r::deleted_at.is_null())
        .select(Repository::as_select())
        .first(conn)
        .optional()?)
}

/// When a repository called `name` was last deleted, if ever.
pub fn last_deleted_at(conn: &mut Conn, name: &str) -> Result<Option<i64>, DbError> {
    Ok(r::repositories
        .filter(r::name.eq(name))
        .select(diesel::dsl::max(r::deleted_at))
        .first::<Option<i64>>(conn)?)
}

/// Allocate `name` (private) unless a live repository has it; returns the live one.
pub fn allocate(conn: &mut Conn, namespace_id: i64, name: &str) -> Result<Repository, DbError> {
    Ok(allocate_as(conn, namespace_id, name, PRIVATE)?.0)
}

/// Allocate `name` with `visibility` unless a live repository has it; returns the live one
/// and whether it was created now.
pub fn allocate_as(
    conn: &mut Conn,
    namespace_id: i64,
    name: &str,
    visibility: &str,
) -> Result<(Repository, bool), DbError> {
    if let Some(existing) = find_live(conn, name)? {
        return Ok((existing, false));
    }
    diesel::insert_into(r::repositories)
        .values((
            r::namespace_id.eq(namespace_id),
            r::name.eq(name),
            r::visibility.eq(visibility),
            r::created_at.eq(now()),
        ))
        .execute(conn)?;
    let created = find_live(conn, name)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
    Ok((created, true))
}

/// Returns whether a live repository of that name exists.
pub fn set_visibility(conn: &mut Conn, name: &str, visibility: &str) -> Result<bool, DbError> {
    let n = diesel::update(
        r::repositories
            .filter(r::name.eq(name))
            .filter(r::deleted_at.is_null()),
    )
    .set(r::visibility.eq(visibility))
    .execute(conn)?;
    Ok(n > 0)
}

/// Returns whether a live repository of that name existed.
pub fn mark_deleted(conn: &mut Conn, name: &str) -> Result<bool, DbError> {
    let n = diesel::update(
        r::repositories
            .filter(r::name.eq(name))
            .filter(r::deleted_at.is_null()),
    )
    .set(r::deleted_at.eq(now()))
    .execute(conn)?;
    Ok(n > 0)
}

/// Live repositories `visible` allows whose name contains `q`, by name, one page.
pub fn list_live(
    conn: &mut Conn,
    visible: &Visible,
    q: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Repository>, DbError> {
    let mut query = r::repositories
        .filter(r::deleted_at.is_null())
        .select(Repository::as_select())
        .order(r::name.asc())
        .offset(offset)
        .limit(limit)
        .into_boxed();
    if let Visible::PublicOr(ids) = visible {
        query = query.filter(
            r::visibility
                .eq(PUBLIC)
                .or(r::namespace_id.eq_any(ids.clone())),
        );
    }
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        // Names are lowercase; lowering the query keeps SQLite's case-insensitive LIKE on
        // PostgreSQL, whose LIKE is case-sensitive.
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(r::name.like(format!("%{escaped}%")).escape('\\'));
    }
    Ok(query.load(conn)?)
}
