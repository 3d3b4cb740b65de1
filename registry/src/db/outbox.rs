//! The notification outbox (`notification_outbox`) and each endpoint's delivery state
//! (`notification_endpoints`); docs/notifications.md.
//!
//! [`insert`] runs inside the transaction of the change an event describes, so an event
//! exists exactly when its change does. The delivery task reads an endpoint's rows in id
//! order ([`pending`]) and deletes them once acknowledged ([`delivered`]).

use super::schema::notification_endpoints::dsl as ne;
use super::schema::notification_outbox::dsl as o;
use super::{now, Conn, DbError};
use diesel::prelude::*;

/// One queued event for one endpoint.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Row {
    pub id: i64,
    pub event_id: String,
    pub payload: String,
}

/// An endpoint's delivery state as stored (all zero / `None` before its first attempt).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub pending: i64,
    pub oldest_pending_at: Option<i64>,
    pub failures: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub delivered: i64,
}

/// Queue the event `event_id` (its JSON `payload`) for each of `endpoints`.
pub fn insert(
    conn: &mut Conn,
    endpoints: &[&str],
    event_id: &str,
    payload: &str,
) -> Result<(), DbError> {
    let t = now();
    // One statement per endpoint: diesel's MultiConnection has no batch insert, and
    // endpoints are a handful.
    for e in endpoints {
        diesel::insert_into(o::notification_outbox)
            .values((
                o::endpoint.eq(*e),
                o::event_id.eq(event_id),
                o::payload.eq(payload),
                o::created_at.eq(t),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The first `limit` events queued for `endpoint`, oldest first.
pub fn pending(conn: &mut Conn, endpoint: &str, limit: i64) -> Result<Vec<Row>, DbError> {
    Ok(o::notification_outbox
        .filter(o::endpoint.eq(endpoint))
        .order(o::id.asc())
        .limit(limit)
        .select((o::id, o::event_id, o::payload))
        .load(conn)?)
}

/// `endpoint` acknowledged its events up to id `last`: drop them, record the success.
pub fn delivered(conn: &mut Conn, endpoint: &str, last: i64) -> Result<(), DbError> {
    let n = diesel::delete(
        o::notification_outbox
            .filter(o::endpoint.eq(endpoint))
            .filter(o::id.le(last)),
    )
    .execute(conn)? as i64;
    upsert_row(conn, endpoint)?;
    diesel::update(ne::notification_endpoints.filter(ne::name.eq(endpoint)))
        .set((
            ne::failures.eq(0),
            ne::last_success_at.eq(now()),
            ne::delivered.eq(ne::delivered + n),
        ))
        .execute(conn)?;
    Ok(())
}

/// A delivery to `endpoint` failed with `error`; returns the consecutive failures so far.
pub fn failed(conn: &mut Conn, endpoint: &str, error: &str) -> Result<i64, DbError> {
    upsert_row(conn, endpoint)?;
    diesel::update(ne::notification_endpoints.filter(ne::name.eq(endpoint)))
        .set((
            ne::failures.eq(ne::failures + 1),
            ne::last_error.eq(error),
            ne::last_error_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(ne::notification_endpoints
        .filter(ne::name.eq(endpoint))
        .select(ne::failures)
        .first(conn)?)
}

fn upsert_row(conn: &mut Conn, endpoint: &str) -> Result<(), DbError> {
    pier_shared::on_backend!(conn, c => diesel::insert_into(ne::notification_endpoints)
        .values(ne::name.eq(endpoint))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// What `GET /pier/v1/notifications` shows of `endpoint`.
pub fn state(conn: &mut Conn, endpoint: &str) -> Result<State, DbError> {
    use diesel::dsl::{count_star, min};
    let (pending, oldest): (i64, Option<i64>) = o::notification_outbox
        .filter(o::endpoint.eq(endpoint))
        .select((count_star(), min(o::created_at)))
        .first(conn)?;
    type Stored = (i64, Option<String>, Option<i64>, Option<i64>, i64);
    let row: Option<Stored> = ne::notification_endpoints
        .filter(ne::name.eq(endpoint))
        .select((
            ne::failures,
            ne::last_error,
            ne::last_error_at,
            ne::last_success_at,
            ne::delivered,
        ))
        .first(conn)
        .optional()?;
    let (failures, last_error, last_error_at, last_success_at, delivered) = row.unwrap_or_default();
    Ok(State {
        pending,
        oldest_pending_at: oldest,
        failures,
        last_error,
        last_error_at,
        last_success_at,
        delivered,
    })
}

/// The queues (outbox rows or delivery state) whose names start with `prefix`.
pub fn queues_with_prefix(conn: &mut Conn, prefix: &str) -> Result<Vec<String>, DbError> {
    let pattern = format!("{prefix}%");
    let mut names: Vec<String> = o::notification_outbox
        .filter(o::endpoint.like(&pattern))
        .select(o::endpoint)
        .distinct()
        .load(conn)?;
    names.extend(
        ne::notification_endpoints
            .filter(ne::name.like(&pattern))
            .select(ne::name)
            .load::<String>(conn)?,
    );
    names.sort();
    names.dedup();
    Ok(names)
}

/// Drop the queue `endpoint`: its events written before `before` (Unix seconds) and its
/// delivery state unless it changed since. Returns the events dropped.
///
/// For webhooks the index no longer names: a webhook the index named at `before` cannot
/// be one of them, and rows or state written after `before` may be a new webhook's that
/// this replica has not heard of yet, so they stay.
pub fn drop_queue(conn: &mut Conn, endpoint: &str, before: i64) -> Result<usize, DbError> {
    let n = diesel::delete(
        o::notification_outbox
            .filter(o::endpoint.eq(endpoint))
            .filter(o::created_at.lt(before)),
    )
    .execute(conn)?;
    diesel::delete(
        ne::notification_endpoints
            .filter(ne::name.eq(endpoint))
            .filter(
                ne::last_success_at
                    .is_null()
                    .or(ne::last_success_at.lt(before)),
            )
            .filter(ne::last_error_at.is_null().or(ne::last_error_at.lt(before))),
    )
    .execute(conn)?;
    Ok(n)
}
