//! The `mirrors` table: the pull-through mirrors the registry registered, one row per
//! prefix (a handful of rows, read whole by the policy).

use super::schema::mirrors::dsl as m;
use super::{Conn, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::mirrors)]
pub struct Mirror {
    /// The organization namespace local repositories `<prefix>/<name>` live in.
    pub prefix: String,
    /// The upstream registry's base URL (shown in the web UI, never fetched by the index).
    pub url: String,
    /// Anyone, anonymous included, may pull under it.
    pub public: bool,
    /// Names no local namespace owns are decided as `<prefix>/<name>`.
    pub is_default: bool,
    pub namespace_id: i64,
    pub updated_at: i64,
}

/// Every mirror, by prefix.
pub fn list(conn: &mut Conn) -> Result<Vec<Mirror>, DbError> {
    Ok(m::mirrors
        .order(m::prefix.asc())
        .select(Mirror::as_select())
        .load(conn)?)
}

/// Make `mirrors` the whole set (in the caller's transaction).
pub fn replace_all(conn: &mut Conn, mirrors: &[Mirror]) -> Result<(), DbError> {
    diesel::delete(m::mirrors).execute(conn)?;
    for mirror in mirrors {
        diesel::insert_into(m::mirrors)
            .values(mirror)
            .execute(conn)?;
    }
    Ok(())
}
