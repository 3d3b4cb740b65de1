//! The `repositories` table.

use super::schema::repositories::dsl as r;
use super::{now, Conn, DbError};
use diesel::prelude::*;

/// The id of `name`, if the repository exists.
pub fn find(conn: &mut Conn, name: &str) -> Result<Option<i64>, DbError> {
    Ok(r::repositories
        .filter(r::name.eq(name))
        .select(r::id)
        .first(conn)
        .optional()?)
}

/// The id of `name`, creating the repository if needed.
pub fn find_or_create(conn: &mut Conn, name: &str) -> Result<i64, DbError> {
    if let Some(id) = find(conn, name)? {
        return Ok(id);
    }
    pier_shared::on_backend!(conn, c => diesel::insert_into(r::repositories)
        .values((r::name.eq(name), r::created_at.eq(now())))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(r::repositories
        .filter(r::name.eq(name))
        .select(r::id)
        .first(conn)?)
}

/// Names of repositories that hold at least one manifest, in order, after `last`.
pub fn list_with_manifests(
    conn: &mut Conn,
    last: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, DbError> {
    use super::schema::manifests::dsl as m;
    let mut q = r::repositories
        .filter(diesel::dsl::exists(
            m::manifests.filter(m::repository_id.eq(r::id)),
        ))
        .select(r::name)
        .order(r::name.asc())
        .limit(limit)
        .into_boxed();
    if let Some(last) = last {
        q = q.filter(r::name.gt(last.to_string()));
    }
    Ok(q.load(conn)?)
}

/// Which of `names` (sorted) hold at least one manifest, in order.
pub fn with_manifests_among(conn: &mut Conn, names: &[String]) -> Result<Vec<String>, DbError> {
    use super::schema::manifests::dsl as m;
    Ok(r::repositories
        .filter(r::name.eq_any(names))
        .filter(diesel::dsl::exists(
            m::manifests.filter(m::repository_id.eq(r::id)),
        ))
        .select(r::name)
        .order(r::name.asc())
        .load(conn)?)
}

/// Delete a repository by id: its links, manifests (with their references and tags) and
/// upload rows go with it (cascades). False if it was already gone.
pub fn delete(conn: &mut Conn, id: i64) -> Result<bool, DbError> {
    Ok(diesel::delete(r::repositories.filter(r::id.eq(id))).execute(conn)? > 0)
}
