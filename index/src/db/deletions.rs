//! The `repository_deletions` table: pending repository deletions at the registry.

use super::schema::repository_deletions::dsl as d;
use super::{Conn, DbError};
use diesel::prelude::*;

/// A pending deletion.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = super::schema::repository_deletions)]
pub struct Deletion {
    pub id: String,
    pub name: String,
    pub requested_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

pub fn insert(conn: &mut Conn, id: &str, name: &str, now: i64) -> Result<(), DbError> {
    diesel::insert_into(d::repository_deletions)
        .values((
            d::id.eq(id),
            d::name.eq(name),
            d::requested_at.eq(now),
            d::next_attempt_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A job first due at `next` (v1 deletes: the client deletes at the registry first).
pub fn insert_at(
    conn: &mut Conn,
    id: &str,
    name: &str,
    now: i64,
    next: i64,
) -> Result<(), DbError> {
    diesel::insert_into(d::repository_deletions)
        .values((
            d::id.eq(id),
            d::name.eq(name),
            d::requested_at.eq(now),
            d::next_attempt_at.eq(next),
        ))
        .execute(conn)?;
    Ok(())
}

/// Make the pending jobs for `name` due at `now`; returns how many there are.
pub fn due_now_for(conn: &mut Conn, name: &str, now: i64) -> Result<usize, DbError> {
    Ok(
        diesel::update(d::repository_deletions.filter(d::name.eq(name)))
            .set(d::next_attempt_at.eq(now))
            .execute(conn)?,
    )
}

pub fn find(conn: &mut Conn, id: &str) -> Result<Option<Deletion>, DbError> {
    Ok(d::repository_deletions
        .filter(d::id.eq(id))
        .select(Deletion::as_select())
        .first(conn)
        .optional()?)
}

/// Is a deletion of `name` still pending?
pub fn pending_for(conn: &mut Conn, name: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        d::repository_deletions.filter(d::name.eq(name)),
    ))
    .get_result(conn)?)
}

/// Deletions due at `now`, oldest first.
pub fn due(conn: &mut Conn, now: i64, limit: i64) -> Result<Vec<Deletion>, DbError> {
    Ok(d::repository_deletions
        .filter(d::next_attempt_at.le(now))
        .order(d::requested_at.asc())
        .limit(limit)
        .select(Deletion::as_select())
        .load(conn)?)
}

/// Every pending deletion.
pub fn all(conn: &mut Conn) -> Result<Vec<Deletion>, DbError> {
    Ok(d::repository_deletions
        .order(d::requested_at.asc())
        .select(Deletion::as_select())
        .load(conn)?)
}

/// Record a failed attempt and when to try again.
pub fn retry_at(conn: &mut Conn, id: &str, next: i64, error: &str) -> Result<(), DbError> {
    diesel::update(d::repository_deletions.filter(d::id.eq(id)))
        .set((
            d::attempts.eq(d::attempts + 1),
            d::next_attempt_at.eq(next),
            d::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// The registry has deleted it: the job is done.
pub fn done(conn: &mut Conn, id: &str) -> Result<(), DbError> {
    diesel::delete(d::repository_deletions.filter(d::id.eq(id))).execute(conn)?;
    Ok(())
}
