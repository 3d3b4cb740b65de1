//! The `teams` and `team_members` tables.

use super::schema::team_members::dsl as m;
use super::schema::teams::dsl as t;
use super::{now, Conn, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::teams)]
pub struct Team {
    pub id: i64,
    pub namespace_id: i64,
    pub name: String,
    /// `admin`, `write` or `read`.
    pub role: String,
    pub created_at: i64,
}

pub fn find(conn: &mut Conn, namespace_id: i64, name: &str) -> Result<Option<Team>, DbError> {
    Ok(t::teams
        .filter(t::namespace_id.eq(namespace_id))
        .filter(t::name.eq(name))
        .select(Team::as_select())
        .first(conn)
        .optional()?)
}

/// Insert a team; fails with a unique violation if the namespace has one of that name.
pub fn insert(conn: &mut Conn, namespace_id: i64, name: &str, role: &str) -> Result<Team, DbError> {
    diesel::insert_into(t::teams)
        .values((
            t::namespace_id.eq(namespace_id),
            t::name.eq(name),
            t::role.eq(role),
            t::created_at.eq(now()),
        ))
        .execute(conn)?;
    find(conn, namespace_id, name)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}

pub fn list(conn: &mut Conn, namespace_id: i64) -> Result<Vec<Team>, DbError> {
    Ok(t::teams
        .filter(t::namespace_id.eq(namespace_id))
        .order(t::name.asc())
        .select(Team::as_select())
        .load(conn)?)
}

pub fn add_member(conn: &mut Conn, team_id: i64, user_id: i64) -> Result<(), DbError> {
    pier_shared::on_backend!(conn, c => diesel::insert_into(m::team_members)
        .values((m::team_id.eq(team_id), m::user_id.eq(user_id)))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Returns whether the user was a member.
pub fn remove_member(conn: &mut Conn, team_id: i64, user_id: i64) -> Result<bool, DbError> {
    let n = diesel::delete(
        m::team_members
            .filter(m::team_id.eq(team_id))
            .filter(m::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

pub fn member_names(conn: &mut Conn, team_id: i64) -> Result<Vec<String>, DbError> {
    use super::schema::users::dsl as u;
    Ok(m::team_members
        .inner_join(u::users)
        .filter(m::team_id.eq(team_id))
        .select(u::name)
        .order(u::name.asc())
        .load(conn)?)
}

/// `(namespace_id, role)` of every team `user_id` belongs to.
pub fn roles_of(conn: &mut Conn, user_id: i64) -> Result<Vec<(i64, String)>, DbError> {
    Ok(m::team_members
        .inner_join(t::teams)
        .filter(m::user_id.eq(user_id))
        .select((t::namespace_id, t::role))
        .load(conn)?)
}

/// Roles of `user_id` in the teams of one namespace.
pub fn roles_in(conn: &mut Conn, namespace_id: i64, user_id: i64) -> Result<Vec<String>, DbError> {
    Ok(m::team_members
        .inner_join(t::teams)
        .filter(m::user_id.eq(user_id))
        .filter(t::namespace_id.eq(namespace_id))
        .select(t::role)
        .load(conn)?)
}
