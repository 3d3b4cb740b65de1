//! Leases: a named, time-limited claim one process holds on some work (a garbage
//! collection run, a deletion job), so that of several replicas exactly one does it. The
//! table is in the database both claimants share (`leases`, in each service's
//! migrations); nothing is held in process memory. A holder that dies loses its lease when
//! it expires; a live holder renews it before then.

use super::{now, Conn, DbError};
use diesel::prelude::*;

diesel::table! {
    leases (name) {
        name -> Text,
        owner -> Text,
        expires_at -> BigInt,
    }
}

/// Take (or renew) the lease `name` for `owner` until `ttl_seconds` from now. True when
/// `owner` holds it afterwards: it was free, expired, or already `owner`'s.
pub fn try_acquire(
    conn: &mut Conn,
    name: &str,
    owner: &str,
    ttl_seconds: i64,
) -> Result<bool, DbError> {
    use leases::dsl as l;
    let t = now();
    let until = t.saturating_add(ttl_seconds);
    let row = (
        l::name.eq(name),
        l::owner.eq(owner),
        l::expires_at.eq(until),
    );
    let inserted = crate::on_backend!(conn, c => diesel::insert_into(l::leases)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 1 {
        return Ok(true);
    }
    let taken = diesel::update(
        l::leases
            .filter(l::name.eq(name))
            .filter(l::expires_at.lt(t).or(l::owner.eq(owner))),
    )
    .set((l::owner.eq(owner), l::expires_at.eq(until)))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Give the lease up, if `owner` still holds it.
pub fn release(conn: &mut Conn, name: &str, owner: &str) -> Result<(), DbError> {
    use leases::dsl as l;
    diesel::delete(
        l::leases
            .filter(l::name.eq(name))
            .filter(l::owner.eq(owner)),
    )
    .execute(conn)?;
    Ok(())
}

/// Who holds `name` now, if anyone.
pub fn holder(conn: &mut Conn, name: &str) -> Result<Option<String>, DbError> {
    use leases::dsl as l;
    Ok(l::leases
        .filter(l::name.eq(name))
        .filter(l::expires_at.ge(now()))
        .select(l::owner)
        .first(conn)
        .optional()?)
}
