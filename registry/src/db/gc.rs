//! Garbage collection's queries: expiring upload sessions, deleting untagged manifests and
//! unused links, marking unreferenced blobs, and the pending file deletes (`gc_deletions`).
//!
//! A blob is *unreferenced* when no repository links it, no manifest references it and no
//! finishing upload claims it, and no legacy v1 image has it as its layer ([`UNREFERENCED`]). The caller runs [`mark`] and the
//! other steps inside one write transaction; see docs/deletion.md for why that, and the
//! per-file transaction of [`deletable`], make the push/GC race harmless.

use super::schema::gc_deletions::dsl as g;
use super::{Conn, DbError};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use pier_shared::db::sql;

/// The condition on a `blobs` row (aliased `b`) that nothing references it.
const UNREFERENCED: &str =
    "NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest) \
     AND NOT EXISTS (SELECT 1 FROM manifest_references mr WHERE mr.digest = b.digest) \
     AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.digest = b.digest) \
     AND NOT EXISTS (SELECT 1 FROM v1_images v WHERE v.layer_digest = b.digest)";

#[derive(QueryableByName, Debug, Clone)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName, Debug, Clone)]
struct IdDigestRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    digest: Option<String>,
}

/// A blob whose row GC deleted.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    #[diesel(sql_type = Text)]
    pub digest: String,
    #[diesel(sql_type = BigInt)]
    pub size: i64,
}

/// Delete the rows of upload sessions without progress since `before` and not leased now;
/// returns their ids (the caller deletes their files after the commit). A session that
/// had claimed a digest may have moved a blob file into place just before its process
/// died: unless something else accounts for that digest, its file delete is queued.
pub fn expire_uploads(conn: &mut Conn, before: i64, now: i64) -> Result<Vec<String>, DbError> {
    let stale: Vec<IdDigestRow> = sql(
        conn,
        "SELECT id, digest FROM uploads WHERE updated_at <= ? \
         AND (busy_until IS NULL OR busy_until < ?)",
    )
    .bind::<BigInt, _>(before)
    .bind::<BigInt, _>(now)
    .load(conn)?;
    for s in &stale {
        sql(conn, "DELETE FROM uploads WHERE id = ?")
            .bind::<Text, _>(&s.id)
            .execute(conn)?;
        if let Some(d) = &s.digest {
            sql(
                conn,
                "INSERT INTO gc_deletions (digest, marked_at) SELECT ?, ? \
                 WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE digest = ?) \
                 AND NOT EXISTS (SELECT 1 FROM uploads WHERE digest = ?) \
                 ON CONFLICT DO NOTHING",
            )
            .bind::<Text, _>(d)
            .bind::<BigInt, _>(now)
            .bind::<Text, _>(d)
            .bind::<Text, _>(d)
            .execute(conn)?;
        }
    }
    Ok(stale.into_iter().map(|s| s.id).collect())
}

/// Delete manifests created before `before` that no tag points at, no index in their
/// repository lists, and that are not referrers of a manifest still present. Repeated
/// until nothing more goes, so the children of a deleted untagged index go too.
/// Returns how many were deleted.
pub fn delete_untagged(conn: &mut Conn, before: i64) -> Result<usize, DbError> {
    let mut total = 0;
    loop {
        let n = sql(
            conn,
            "DELETE FROM manifests WHERE id IN (SELECT m.id FROM manifests m \
             WHERE m.created_at <= ? \
             AND NOT EXISTS (SELECT 1 FROM tags t \
                 WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest) \
             AND NOT EXISTS (SELECT 1 FROM manifest_references r \
                 JOIN manifests p ON p.id = r.manifest_id \
                 WHERE r.kind = 'manifest' AND r.digest = m.digest \
                 AND p.repository_id = m.repository_id) \
             AND NOT (m.subject IS NOT NULL AND EXISTS (SELECT 1 FROM manifests s \
                 WHERE s.repository_id = m.repository_id AND s.digest = m.subject)))",
        )
        .bind::<BigInt, _>(before)
        .execute(conn)?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}

/// Delete repository links made before `before` to blobs no manifest of that repository
/// references, in repositories with no upload session open. Returns how many.
pub fn delete_unused_links(conn: &mut Conn, before: i64) -> Result<usize, DbError> {
    Ok(sql(
        conn,
        "DELETE FROM repository_blobs WHERE created_at <= ? \
         AND NOT EXISTS (SELECT 1 FROM manifest_references r \
             JOIN manifests m ON m.id = r.manifest_id \
             WHERE r.kind = 'blob' AND r.digest = repository_blobs.digest \
             AND m.repository_id = repository_blobs.repository_id) \
         AND NOT EXISTS (SELECT 1 FROM uploads u \
             WHERE u.repository_id = repository_blobs.repository_id)",
    )
    .bind::<BigInt, _>(before)
    .execute(conn)?)
}

/// Mark: note when blobs became unreferenced (and forget it for referenced ones), then
/// delete the rows of blobs unreferenced since before `cutoff` and queue their files in
/// `gc_deletions`. From the commit on, every reader sees these blobs as absent.
///
/// Only the blobs whose digests lie in `range` (inclusive; all when `None`), so that a
/// caller can mark in bounded batches, one short write transaction each ([`next_batch`]).
pub fn mark(
    conn: &mut Conn,
    now: i64,
    cutoff: i64,
    range: Option<(&str, &str)>,
) -> Result<Vec<Marked>, DbError> {
    // `b.digest >= lo AND (all OR b.digest <= hi)`: one statement text for both cases.
    let (all, (lo, hi)) = (range.is_none(), range.unwrap_or(("", "")));
    sql(
        conn,
        &format!(
            "UPDATE blobs AS b SET unreferenced_since = NULL \
             WHERE b.digest >= ? AND (? OR b.digest <= ?) \
             AND unreferenced_since IS NOT NULL AND NOT ({UNREFERENCED})"
        ),
    )
    .bind::<Text, _>(lo)
    .bind::<Bool, _>(all)
    .bind::<Text, _>(hi)
    .execute(conn)?;
    sql(
        conn,
        &format!(
            "UPDATE blobs AS b SET unreferenced_since = ? \
             WHERE b.digest >= ? AND (? OR b.digest <= ?) \
             AND unreferenced_since IS NULL AND {UNREFERENCED}"
        ),
    )
    .bind::<BigInt, _>(now)
    .bind::<Text, _>(lo)
    .bind::<Bool, _>(all)
    .bind::<Text, _>(hi)
    .execute(conn)?;
    let marked: Vec<Marked> = sql(
        conn,
        &format!(
            "SELECT digest, size FROM blobs AS b WHERE b.digest >= ? AND (? OR b.digest <= ?) \
             AND unreferenced_since <= ? AND {UNREFERENCED} ORDER BY digest"
        ),
    )
    .bind::<Text, _>(lo)
    .bind::<Bool, _>(all)
    .bind::<Text, _>(hi)
    .bind::<BigInt, _>(cutoff)
    .load(conn)?;
    for m in &marked {
        sql(conn, "DELETE FROM blobs WHERE digest = ?")
            .bind::<Text, _>(&m.digest)
            .execute(conn)?;
        pier_shared::on_backend!(conn, c => diesel::insert_into(g::gc_deletions)
            .values((g::digest.eq(&m.digest), g::marked_at.eq(now)))
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(marked)
}

/// The next batch of at most `limit` blob digests after `after` (in digest order): the
/// first and last digest of the batch, or `None` when there are no more.
pub fn next_batch(
    conn: &mut Conn,
    after: &str,
    limit: i64,
) -> Result<Option<(String, String)>, DbError> {
    use super::schema::blobs::dsl as b;
    let digests: Vec<String> = b::blobs
        .filter(b::digest.gt(after))
        .order(b::digest.asc())
        .limit(limit)
        .select(b::digest)
        .load(conn)?;
    Ok(match (digests.first(), digests.last()) {
        (Some(first), Some(last)) => Some((first.clone(), last.clone())),
        _ => None,
    })
}

/// Digests whose files are queued for deletion.
pub fn pending(conn: &mut Conn) -> Result<Vec<String>, DbError> {
    Ok(g::gc_deletions
        .select(g::digest)
        .order(g::digest.asc())
        .load(conn)?)
}

/// May the file of a queued digest be deleted now? Only if it is still queued, no `blobs`
/// row exists for it and no upload claims it. Call inside the write transaction that also
/// deletes the file and then [`forget`]s the digest.
pub fn deletable(conn: &mut Conn, digest: &str) -> Result<bool, DbError> {
    let c: Count = sql(
        conn,
        "SELECT COUNT(*) AS n FROM gc_deletions WHERE digest = ? \
         AND NOT EXISTS (SELECT 1 FROM blobs WHERE digest = ?) \
         AND NOT EXISTS (SELECT 1 FROM uploads WHERE digest = ?)",
    )
    .bind::<Text, _>(digest)
    .bind::<Text, _>(digest)
    .bind::<Text, _>(digest)
    .get_result(conn)?;
    Ok(c.n > 0)
}

/// Take a digest off the queue.
pub fn forget(conn: &mut Conn, digest: &str) -> Result<(), DbError> {
    diesel::delete(g::gc_deletions.filter(g::digest.eq(digest))).execute(conn)?;
    Ok(())
}
