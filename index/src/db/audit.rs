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

/// One page of events, newest first: those with an id below `before` (all if `None`),
/// by `actor` (anyone if `None`), whose action starts with `action_prefix` (all if empty).
pub fn page(
    conn: &mut Conn,
    actor: Option<&str>,
    action_prefix: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Event>, DbError> {
    let mut query = a::audit_events
        .order(a::id.desc())
        .limit(limit)
        .select(Event::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(a::id.lt(before));
    }
    if let Some(actor) = actor {
        query = query.filter(a::actor.eq(actor.to_string()));
    }
    if !action_prefix.is_empty() {
        let escaped = action_prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(a::action.like(format!("{escaped}%")).escape('\\'));
    }
    Ok(query.load(conn)?)
}

/// The most recent events whose detail starts with `jti=` (steps of token flows), by
/// `actor` (anyone if `None`).
pub fn recent_flow_steps(
    conn: &mut Conn,
    actor: Option<&str>,
    limit: i64,
) -> Result<Vec<Event>, DbError> {
    let mut query = a::audit_events
        .filter(a::detail.like("jti=%"))
        .order(a::id.desc())
        .limit(limit)
        .select(Event::as_select())
        .into_boxed();
    if let Some(actor) = actor {
        query = query.filter(a::actor.eq(actor.to_string()));
    }
    Ok(query.load(conn)?)
}
