//! The consistency check's queries (`pier-registry fsck`): what the metadata says must
//! exist, read in single statements (each one a consistent snapshot on both backends, so
//! a push committing meanwhile is either wholly in it or not at all), and the few writes
//! `--repair` makes. Storage is not touched here; see `crate::fsck`.

use super::{Conn, DbError};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use pier_shared::db::sql;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut Conn, text: &str) -> Result<u64, DbError> {
    let c: Count = sql(conn, text).get_result(conn)?;
    Ok(u64::try_from(c.n).unwrap_or(0))
}

/// How many rows of each kind the check covers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub repositories: u64,
    pub manifests: u64,
    pub references: u64,
    pub tags: u64,
    pub blobs: u64,
    pub links: u64,
    pub uploads: u64,
}

pub fn totals(conn: &mut Conn) -> Result<Totals, DbError> {
    Ok(Totals {
        repositories: count(conn, "SELECT COUNT(*) AS n FROM repositories")?,
        manifests: count(conn, "SELECT COUNT(*) AS n FROM manifests")?,
        references: count(conn, "SELECT COUNT(*) AS n FROM manifest_references")?,
        tags: count(conn, "SELECT COUNT(*) AS n FROM tags")?,
        blobs: count(conn, "SELECT COUNT(*) AS n FROM blobs")?,
        links: count(conn, "SELECT COUNT(*) AS n FROM repository_blobs")?,
        uploads: count(conn, "SELECT COUNT(*) AS n FROM uploads")?,
    })
}

/// A manifest reference the repository cannot serve: a blob it has no link to (or whose
/// `blobs` row is gone), or a child manifest it does not hold.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingReference {
    #[diesel(sql_type = Text)]
    pub repository: String,
    #[diesel(sql_type = Text)]
    pub manifest: String,
    #[diesel(sql_type = Text)]
    pub digest: String,
    /// `blob` or `manifest`.
    #[diesel(sql_type = Text)]
    pub kind: String,
}

/// Caches of a mirror are left out: they fetch a manifest's blobs and children when first
/// asked, so a cached manifest may name what is not cached yet.
pub fn missing_references(conn: &mut Conn) -> Result<Vec<MissingReference>, DbError> {
    Ok(sql(
        conn,
        "SELECT r.name AS repository, m.digest AS manifest, mr.digest AS digest, \
         mr.kind AS kind FROM manifest_references mr \
         JOIN manifests m ON m.id = mr.manifest_id \
         JOIN repositories r ON r.id = m.repository_id \
         WHERE NOT EXISTS (SELECT 1 FROM mirror_repositories mi \
                WHERE mi.repository_id = m.repository_id) AND ((mr.kind = 'blob' AND NOT EXISTS (SELECT 1 FROM repository_blobs rb \
                JOIN blobs b ON b.digest = rb.digest \
                WHERE rb.repository_id = m.repository_id AND rb.digest = mr.digest)) \
            OR (mr.kind = 'manifest' AND NOT EXISTS (SELECT 1 FROM manifests c \
                WHERE c.repository_id = m.repository_id AND c.digest = mr.digest))) \
         ORDER BY r.name, m.digest, mr.digest",
    )
    .load(conn)?)
}

/// A tag whose manifest the repository does not hold.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DanglingTag {
    #[diesel(sql_type = Text)]
    pub repository: String,
    #[diesel(sql_type = Text)]
    pub tag: String,
    #[diesel(sql_type = Text)]
    pub digest: String,
}

pub fn dangling_tags(conn: &mut Conn) -> Result<Vec<DanglingTag>, DbError> {
    Ok(sql(
        conn,
        "SELECT r.name AS repository, t.name AS tag, t.manifest_digest AS digest \
         FROM tags t JOIN repositories r ON r.id = t.repository_id \
         WHERE NOT EXISTS (SELECT 1 FROM manifests m \
             WHERE m.repository_id = t.repository_id AND m.digest = t.manifest_digest) \
         ORDER BY r.name, t.name",
    )
    .load(conn)?)
}

/// Rows that point at a row that is gone (foreign keys normally prevent them: they come
/// from a database edited by hand, restored in part, or written with the checks off).
/// Each entry: the table, the condition on its rows (aliased `x`), a description of one.
pub const ORPHAN_ROWS: &[(&str, &str, &str)] = &[
    (
        "repository_blobs",
        "NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = x.digest) \
         OR NOT EXISTS (SELECT 1 FROM repositories r WHERE r.id = x.repository_id)",
        "'repository ' || CAST(x.repository_id AS TEXT) || ' links ' || x.digest",
    ),
    (
        "manifest_references",
        "NOT EXISTS (SELECT 1 FROM manifests m WHERE m.id = x.manifest_id)",
        "'manifest ' || CAST(x.manifest_id AS TEXT) || ' references ' || x.digest",
    ),
    (
        "manifests",
        "NOT EXISTS (SELECT 1 FROM repositories r WHERE r.id = x.repository_id)",
        "'manifest ' || x.digest || ' of repository ' || CAST(x.repository_id AS TEXT)",
    ),
    (
        "tags",
        "NOT EXISTS (SELECT 1 FROM repositories r WHERE r.id = x.repository_id)",
        "'tag ' || x.name || ' of repository ' || CAST(x.repository_id AS TEXT)",
    ),
    (
        "uploads",
        "NOT EXISTS (SELECT 1 FROM repositories r WHERE r.id = x.repository_id)",
        "'upload ' || x.id || ' of repository ' || CAST(x.repository_id AS TEXT)",
    ),
    (
        "upload_parts",
        "NOT EXISTS (SELECT 1 FROM uploads u WHERE u.id = x.upload_id)",
        "'part ' || CAST(x.number AS TEXT) || ' of upload ' || x.upload_id",
    ),
];

#[derive(QueryableByName)]
struct Described {
    #[diesel(sql_type = Text)]
    what: String,
}

/// The orphan rows of `ORPHAN_ROWS[i]`, described.
pub fn orphan_rows(conn: &mut Conn, i: usize) -> Result<Vec<String>, DbError> {
    let (table, cond, what) = ORPHAN_ROWS[i];
    let rows: Vec<Described> = sql(
        conn,
        &format!("SELECT {what} AS what FROM {table} x WHERE {cond} ORDER BY 1"),
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.what).collect())
}

/// Delete the orphan rows of `ORPHAN_ROWS[i]` (the condition is evaluated again by the
/// delete itself); how many went.
pub fn delete_orphan_rows(conn: &mut Conn, i: usize) -> Result<usize, DbError> {
    let (table, cond, _) = ORPHAN_ROWS[i];
    let cond = cond.replace("x.", &format!("{table}."));
    Ok(sql(conn, &format!("DELETE FROM {table} WHERE {cond}")).execute(conn)?)
}

/// A `blobs` row.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct BlobRow {
    #[diesel(sql_type = Text)]
    pub digest: String,
    #[diesel(sql_type = BigInt)]
    pub size: i64,
}

/// The next at most `limit` `blobs` rows after `after`, in digest order.
pub fn blobs_after(conn: &mut Conn, after: &str, limit: i64) -> Result<Vec<BlobRow>, DbError> {
    Ok(sql(
        conn,
        "SELECT digest, size FROM blobs WHERE digest > ? ORDER BY digest LIMIT ?",
    )
    .bind::<Text, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)?)
}

/// Does anything account for a file at `digest`'s blob key: its `blobs` row, an upload
/// that claimed the digest (it is being moved into place), or GC's queue (it is about to
/// be deleted)?
pub fn blob_accounted(conn: &mut Conn, digest: &str) -> Result<bool, DbError> {
    let n = sql(
        conn,
        "SELECT (SELECT COUNT(*) FROM blobs WHERE digest = ?) \
         + (SELECT COUNT(*) FROM uploads WHERE digest = ?) \
         + (SELECT COUNT(*) FROM gc_deletions WHERE digest = ?) AS n",
    )
    .bind::<Text, _>(digest)
    .bind::<Text, _>(digest)
    .bind::<Text, _>(digest)
    .get_result::<Count>(conn)?
    .n;
    Ok(n > 0)
}

/// Is there an upload session with this id?
pub fn upload_exists(conn: &mut Conn, id: &str) -> Result<bool, DbError> {
    let c: Count = sql(conn, "SELECT COUNT(*) AS n FROM uploads WHERE id = ?")
        .bind::<Text, _>(id)
        .get_result(conn)?;
    Ok(c.n > 0)
}

/// Does an upload claim `digest` (between its two commit steps)?
pub fn blob_claimed(conn: &mut Conn, digest: &str) -> Result<bool, DbError> {
    let c: Count = sql(conn, "SELECT COUNT(*) AS n FROM uploads WHERE digest = ?")
        .bind::<Text, _>(digest)
        .get_result(conn)?;
    Ok(c.n > 0)
}

/// Stop serving a blob: delete its repository links and its `blobs` row. Returns the
/// number of links removed. Manifests that reference it stay (and are then reported as
/// missing a blob until it is pushed again).
pub fn unrecord_blob(conn: &mut Conn, digest: &str) -> Result<usize, DbError> {
    let links = sql(conn, "DELETE FROM repository_blobs WHERE digest = ?")
        .bind::<Text, _>(digest)
        .execute(conn)?;
    sql(conn, "DELETE FROM blobs WHERE digest = ?")
        .bind::<Text, _>(digest)
        .execute(conn)?;
    Ok(links)
}
