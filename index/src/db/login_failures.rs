//! The `login_failures` table: failed logins per (account, client address) and per client
//! address (account `""`), in a fixed window. One upsert per failure, two primary-key reads
//! per login, a delete when a pair that had failures logs in; [`prune`] drops rows whose
//! window and block are over.

use super::schema::login_failures::dsl as f;
use super::{Conn, DbError};
use diesel::prelude::*;

/// The account of the per-address row.
pub const ANY_ACCOUNT: &str = "";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = super::schema::login_failures)]
pub struct Failures {
    pub account: String,
    pub address: String,
    pub window_start: i64,
    pub failures: i64,
    pub last_failure: i64,
}

/// The rows of `address` alone and of (`account`, `address`).
pub fn find(conn: &mut Conn, address: &str, account: &str) -> Result<Vec<Failures>, DbError> {
    Ok(f::login_failures
        .filter(f::address.eq(address))
        .filter(f::account.eq_any([ANY_ACCOUNT, account]))
        .select(Failures::as_select())
        .load(conn)?)
}

/// Count one failure of (`account`, `address`) at `now`: a row whose window started at or
/// before `window_over` (now minus the window) starts again at 1.
pub fn record(
    conn: &mut Conn,
    address: &str,
    account: &str,
    now: i64,
    window_over: i64,
) -> Result<(), DbError> {
    use diesel::sql_types::{BigInt, Text};
    pier_shared::db::sql(
        conn,
        "INSERT INTO login_failures (account, address, window_start, failures, last_failure) \
         VALUES (?, ?, ?, 1, ?) \
         ON CONFLICT (address, account) DO UPDATE SET \
         failures = CASE WHEN login_failures.window_start <= ? THEN 1 \
                    ELSE login_failures.failures + 1 END, \
         window_start = CASE WHEN login_failures.window_start <= ? THEN excluded.window_start \
                        ELSE login_failures.window_start END, \
         last_failure = excluded.last_failure",
    )
    .bind::<Text, _>(account)
    .bind::<Text, _>(address)
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(window_over)
    .bind::<BigInt, _>(window_over)
    .execute(conn)?;
    Ok(())
}

/// Forget the failures of (`account`, `address`) (a successful login from there).
pub fn clear(conn: &mut Conn, address: &str, account: &str) -> Result<(), DbError> {
    diesel::delete(f::login_failures.find((address, account))).execute(conn)?;
    Ok(())
}

/// Delete rows whose last failure is before `before`. Returns how many.
pub fn prune(conn: &mut Conn, before: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(f::login_failures.filter(f::last_failure.lt(before))).execute(conn)?)
}
