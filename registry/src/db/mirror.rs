//! The pull-through mirror's tables: `mirror_repositories` (which repositories are caches
//! of an upstream, and their counts), `mirror_tags` (when a cached tag was last confirmed
//! upstream) and `mirror_manifests` (when a cached manifest was last pulled).

use super::schema::manifests::dsl as m;
use super::schema::mirror_manifests::dsl as mm;
use super::schema::mirror_repositories::dsl as mr;
use super::schema::mirror_tags::dsl as mt;
use super::schema::repositories::dsl as r;
use super::{Conn, DbError};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use pier_shared::db::sql;

/// Record that `repository_id` caches the upstream `prefix`. True if it was not recorded
/// before (a new cached repository: the index is to be told).
pub fn ensure(
    conn: &mut Conn,
    repository_id: i64,
    prefix: &str,
    now: i64,
) -> Result<bool, DbError> {
    let n = pier_shared::on_backend!(conn, c => diesel::insert_into(mr::mirror_repositories)
        .values((
            mr::repository_id.eq(repository_id),
            mr::prefix.eq(prefix),
            mr::hits.eq(0i64),
            mr::misses.eq(0i64),
            mr::last_pulled.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n > 0)
}

/// Is `repository_id` a cache of an upstream?
pub fn is_mirrored(conn: &mut Conn, repository_id: i64) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        mr::mirror_repositories.filter(mr::repository_id.eq(repository_id)),
    ))
    .get_result(conn)?)
}

/// Add to a cached repository's counts (by name; a repository deleted meanwhile is skipped).
pub fn add_counts(
    conn: &mut Conn,
    name: &str,
    hits: i64,
    misses: i64,
    last_pulled: i64,
) -> Result<(), DbError> {
    let Some(id) = super::repositories::find(conn, name)? else {
        return Ok(());
    };
    diesel::update(mr::mirror_repositories.filter(mr::repository_id.eq(id)))
        .set((
            mr::hits.eq(mr::hits + hits),
            mr::misses.eq(mr::misses + misses),
            mr::last_pulled.eq(last_pulled),
        ))
        .execute(conn)?;
    Ok(())
}

/// Note that the index knows the cached repository `name`.
pub fn mark_registered(conn: &mut Conn, name: &str, now: i64) -> Result<(), DbError> {
    if let Some(id) = super::repositories::find(conn, name)? {
        diesel::update(mr::mirror_repositories.filter(mr::repository_id.eq(id)))
            .set(mr::registered_at.eq(Some(now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Names of cached repositories the index has not been told of yet.
pub fn unregistered(conn: &mut Conn) -> Result<Vec<String>, DbError> {
    Ok(mr::mirror_repositories
        .inner_join(r::repositories)
        .filter(mr::registered_at.is_null())
        .select(r::name)
        .order(r::name.asc())
        .load(conn)?)
}

/// When the tag was last confirmed with the upstream.
pub fn tag_checked(conn: &mut Conn, repository_id: i64, tag: &str) -> Result<Option<i64>, DbError> {
    Ok(mt::mirror_tags
        .filter(mt::repository_id.eq(repository_id))
        .filter(mt::name.eq(tag))
        .select(mt::checked_at)
        .first(conn)
        .optional()?)
}

/// Record that the upstream confirmed the tag at `now`.
pub fn set_tag_checked(
    conn: &mut Conn,
    repository_id: i64,
    tag: &str,
    now: i64,
) -> Result<(), DbError> {
    pier_shared::on_backend!(conn, c => diesel::insert_into(mt::mirror_tags)
        .values((
            mt::repository_id.eq(repository_id),
            mt::name.eq(tag),
            mt::checked_at.eq(now),
        ))
        .on_conflict((mt::repository_id, mt::name))
        .do_update()
        .set(mt::checked_at.eq(now))
        .execute(c))?;
    Ok(())
}

/// Forget a tag's confirmation (the upstream no longer has the tag).
pub fn forget_tag(conn: &mut Conn, repository_id: i64, tag: &str) -> Result<(), DbError> {
    diesel::delete(
        mt::mirror_tags
            .filter(mt::repository_id.eq(repository_id))
            .filter(mt::name.eq(tag)),
    )
    .execute(conn)?;
    Ok(())
}

/// Note that a cached manifest was pulled at `now` (for `mirror.max_bytes`).
pub fn touch_manifest(
    conn: &mut Conn,
    repository_id: i64,
    digest: &str,
    now: i64,
) -> Result<(), DbError> {
    let Some(id) = m::manifests
        .filter(m::repository_id.eq(repository_id))
        .filter(m::digest.eq(digest))
        .select(m::id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(());
    };
    pier_shared::on_backend!(conn, c => diesel::insert_into(mm::mirror_manifests)
        .values((mm::manifest_id.eq(id), mm::last_pulled.eq(now)))
        .on_conflict(mm::manifest_id)
        .do_update()
        .set(mm::last_pulled.eq(now))
        .execute(c))?;
    Ok(())
}

/// Is there a repository under `namespace/` that is not a cache (the namespace is local)?
pub fn namespace_is_local(conn: &mut Conn, namespace: &str) -> Result<bool, DbError> {
    // Names under `ns/` sort in [`ns/`, `ns0`): '0' follows '/' in ASCII.
    let (lo, hi) = (format!("{namespace}/"), format!("{namespace}0"));
    Ok(diesel::select(diesel::dsl::exists(
        r::repositories
            .filter(r::name.ge(lo))
            .filter(r::name.lt(hi))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                mr::mirror_repositories.filter(mr::repository_id.eq(r::id)),
            ))),
    ))
    .get_result(conn)?)
}

/// A cached repository as `GET /pier/v1/mirror/repositories` lists it.
#[derive(QueryableByName, Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cached {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub prefix: String,
    #[diesel(sql_type = BigInt)]
    pub hits: i64,
    #[diesel(sql_type = BigInt)]
    pub misses: i64,
    /// Bytes of the blobs cached in it.
    #[diesel(sql_type = BigInt)]
    pub bytes: i64,
    #[diesel(sql_type = BigInt)]
    pub last_pulled: i64,
}

/// Every cached repository, by name.
pub fn list(conn: &mut Conn) -> Result<Vec<Cached>, DbError> {
    Ok(sql(
        conn,
        "SELECT r.name AS name, mr.prefix AS prefix, mr.hits AS hits, mr.misses AS misses, \
         mr.last_pulled AS last_pulled, \
         CAST(COALESCE((SELECT SUM(b.size) FROM repository_blobs rb \
             JOIN blobs b ON b.digest = rb.digest \
             WHERE rb.repository_id = r.id), 0) AS BIGINT) AS bytes \
         FROM mirror_repositories mr JOIN repositories r ON r.id = mr.repository_id \
         ORDER BY r.name",
    )
    .load(conn)?)
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Bytes of the distinct blobs linked into cached repositories. (PostgreSQL's SUM of a
/// BIGINT is a NUMERIC: the casts keep both backends' answers BIGINT.)
pub fn cached_bytes(conn: &mut Conn) -> Result<i64, DbError> {
    let t: Total = sql(
        conn,
        "SELECT CAST(COALESCE(SUM(b.size), 0) AS BIGINT) AS n FROM blobs b WHERE EXISTS \
         (SELECT 1 FROM repository_blobs rb \
             JOIN mirror_repositories mr ON mr.repository_id = rb.repository_id \
             WHERE rb.digest = b.digest)",
    )
    .get_result(conn)?;
    Ok(t.n)
}

/// The least recently pulled cached manifest: (repository id, digest).
pub fn least_recently_pulled(conn: &mut Conn) -> Result<Option<(i64, String)>, DbError> {
    // A cached manifest never pulled since it was stored (a child fetched with its index)
    // counts as pulled when stored: `mirror_manifests` is written on every store and pull.
    Ok(mm::mirror_manifests
        .inner_join(m::manifests)
        .inner_join(mr::mirror_repositories.on(mr::repository_id.eq(m::repository_id)))
        .order(mm::last_pulled.asc())
        .select((m::repository_id, m::digest))
        .first(conn)
        .optional()?)
}

/// Drop the links of `repository_id` to blobs none of its manifests references any more
/// (after an eviction; the blobs' bytes then go with garbage collection). Returns how many.
pub fn unlink_unreferenced(conn: &mut Conn, repository_id: i64) -> Result<usize, DbError> {
    Ok(sql(
        conn,
        "DELETE FROM repository_blobs WHERE repository_id = ? \
         AND NOT EXISTS (SELECT 1 FROM manifest_references r \
             JOIN manifests m ON m.id = r.manifest_id \
             WHERE r.kind = 'blob' AND r.digest = repository_blobs.digest \
             AND m.repository_id = repository_blobs.repository_id)",
    )
    .bind::<BigInt, _>(repository_id)
    .execute(conn)?)
}
