//! The `tags` table.

use super::schema::tags::dsl as t;
use super::{now, Conn, DbError};
use diesel::prelude::*;

/// Point `name` at a manifest (create or move the tag).
pub fn set(conn: &mut Conn, repository_id: i64, name: &str, digest: &str) -> Result<(), DbError> {
    pier_shared::on_backend!(conn, c => diesel::insert_into(t::tags)
        .values((
            t::repository_id.eq(repository_id),
            t::name.eq(name),
            t::manifest_digest.eq(digest),
            t::updated_at.eq(now()),
        ))
        .on_conflict((t::repository_id, t::name))
        .do_update()
        .set((t::manifest_digest.eq(digest), t::updated_at.eq(now())))
        .execute(c))?;
    Ok(())
}

/// The manifest digest a tag points at.
pub fn resolve(conn: &mut Conn, repository_id: i64, name: &str) -> Result<Option<String>, DbError> {
    Ok(t::tags
        .filter(t::repository_id.eq(repository_id))
        .filter(t::name.eq(name))
        .select(t::manifest_digest)
        .first(conn)
        .optional()?)
}

/// Tag names in order after `last`, at most `limit`.
pub fn list(
    conn: &mut Conn,
    repository_id: i64,
    last: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, DbError> {
    let mut q = t::tags
        .filter(t::repository_id.eq(repository_id))
        .select(t::name)
        .order(t::name.asc())
        .limit(limit)
        .into_boxed();
    if let Some(last) = last {
        q = q.filter(t::name.gt(last.to_string()));
    }
    Ok(q.load(conn)?)
}

/// Delete a tag; false if it did not exist.
pub fn delete(conn: &mut Conn, repository_id: i64, name: &str) -> Result<bool, DbError> {
    let n = diesel::delete(
        t::tags
            .filter(t::repository_id.eq(repository_id))
            .filter(t::name.eq(name)),
    )
    .execute(conn)?;
    Ok(n > 0)
}
