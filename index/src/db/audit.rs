//! The `audit_events` table: append-only.

use super::schema::audit_events::dsl as a;
use super::{Conn, DbError};
use diesel::prelude::*;

/// One event to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = super::schema::audit_events)]
pub struct NewEvent {
    pub time: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::audit_events)]
pub struct Event {
    pub id: i64,
    pub time: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
}

/// Append a batch in the caller's transaction (one statement per event).
pub fn insert_all(conn: &mut Conn, events: &[NewEvent]) -> Result<(), DbError> {
    for e in events {
        diesel::insert_into(a::audit_events)
            .values(e)
            .execute(conn)?;
    }
    Ok(())
}

/// The most recent events with `action`, newest first.
pub fn recent(conn: &mut Conn, action: &str, limit: i64) -> Result<Vec<Event>, DbError> {
    Ok(a::audit_events
        .filter(a::action.eq(action))
        .order(a::id.desc())
        .limit(limit)
        .select(Event::as_select())
        .load(conn)?)
}
