//! The legacy v1 tables: `v1_images` (global, by image id), `v1_repository_images` and
//! `v1_tags` (per repository).

use super::schema::v1_images::dsl as i;
use super::schema::v1_repository_images::dsl as ri;
use super::schema::v1_tags::dsl as t;
use super::{now, Conn, DbError};
use diesel::prelude::*;
use pier_shared::db::sql;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::v1_images)]
pub struct Image {
    pub id: String,
    pub json: Vec<u8>,
    pub parent: Option<String>,
    pub layer_digest: Option<String>,
    pub size: Option<i64>,
    pub checksum: Option<String>,
    pub complete: bool,
    pub created_at: i64,
}

/// Longest ancestry followed (a guard against cycles in stored data).
pub const MAX_DEPTH: usize = 1000;

pub fn find(conn: &mut Conn, id: &str) -> Result<Option<Image>, DbError> {
    Ok(i::v1_images
        .filter(i::id.eq(id))
        .select(Image::as_select())
        .first(conn)
        .optional()?)
}

/// Store (or replace, while not complete) an image's json, with no layer yet.
pub fn put_json(
    conn: &mut Conn,
    id: &str,
    json: &[u8],
    parent: Option<&str>,
) -> Result<(), DbError> {
    pier_shared::on_backend!(conn, c => diesel::insert_into(i::v1_images)
        .values((
            i::id.eq(id),
            i::json.eq(json),
            i::parent.eq(parent),
            i::complete.eq(false),
            i::created_at.eq(now()),
        ))
        .on_conflict(i::id)
        .do_update()
        .set((
            i::json.eq(json),
            i::parent.eq(parent),
            i::layer_digest.eq(None::<String>),
            i::size.eq(None::<i64>),
            i::checksum.eq(None::<String>),
        ))
        .execute(c))?;
    Ok(())
}

/// Record that the image was pushed to (or is used by) a repository.
pub fn link(conn: &mut Conn, repository_id: i64, id: &str) -> Result<(), DbError> {
    pier_shared::on_backend!(conn, c => diesel::insert_into(ri::v1_repository_images)
        .values((ri::repository_id.eq(repository_id), ri::image_id.eq(id)))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Record the uploaded layer of an incomplete image; false if it is complete (or gone).
pub fn set_layer(
    conn: &mut Conn,
    id: &str,
    digest: &str,
    size: i64,
    checksum: &str,
) -> Result<bool, DbError> {
    let n = diesel::update(
        i::v1_images
            .filter(i::id.eq(id))
            .filter(i::complete.eq(false)),
    )
    .set((
        i::layer_digest.eq(digest),
        i::size.eq(size),
        i::checksum.eq(checksum),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Make an image servable.
pub fn complete(conn: &mut Conn, id: &str) -> Result<(), DbError> {
    diesel::update(i::v1_images.filter(i::id.eq(id)))
        .set(i::complete.eq(true))
        .execute(conn)?;
    Ok(())
}

/// `[id, parent, …, base]`.
pub fn ancestry(conn: &mut Conn, id: &str) -> Result<Vec<String>, DbError> {
    let mut out = vec![id.to_string()];
    let mut current = id.to_string();
    while out.len() < MAX_DEPTH {
        let parent: Option<Option<String>> = i::v1_images
            .filter(i::id.eq(&current))
            .select(i::parent)
            .first(conn)
            .optional()?;
        match parent.flatten() {
            Some(p) if !out.contains(&p) => {
                out.push(p.clone());
                current = p;
            }
            _ => break,
        }
    }
    Ok(out)
}

/// A repository's tags, by name.
pub fn tags(conn: &mut Conn, repository_id: i64) -> Result<Vec<(String, String)>, DbError> {
    Ok(t::v1_tags
        .filter(t::repository_id.eq(repository_id))
        .order(t::name.asc())
        .select((t::name, t::image_id))
        .load(conn)?)
}

pub fn tag(conn: &mut Conn, repository_id: i64, name: &str) -> Result<Option<String>, DbError> {
    Ok(t::v1_tags
        .filter(t::repository_id.eq(repository_id))
        .filter(t::name.eq(name))
        .select(t::image_id)
        .first(conn)
        .optional()?)
}

pub fn set_tag(
    conn: &mut Conn,
    repository_id: i64,
    name: &str,
    image: &str,
) -> Result<(), DbError> {
    let at = now();
    pier_shared::on_backend!(conn, c => diesel::insert_into(t::v1_tags)
        .values((
            t::repository_id.eq(repository_id),
            t::name.eq(name),
            t::image_id.eq(image),
            t::updated_at.eq(at),
        ))
        .on_conflict((t::repository_id, t::name))
        .do_update()
        .set((t::image_id.eq(image), t::updated_at.eq(at)))
        .execute(c))?;
    Ok(())
}

pub fn delete_tag(conn: &mut Conn, repository_id: i64, name: &str) -> Result<bool, DbError> {
    let n = diesel::delete(
        t::v1_tags
            .filter(t::repository_id.eq(repository_id))
            .filter(t::name.eq(name)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// Delete images no repository uses, no tag names and no other image has as parent
/// (repeated, so a chain goes from the top down). Their layers become unreferenced
/// blobs for garbage collection. Returns how many.
pub fn delete_orphans(conn: &mut Conn) -> Result<usize, DbError> {
    let mut total = 0;
    loop {
        let n = sql(
            conn,
            "DELETE FROM v1_images WHERE \
             NOT EXISTS (SELECT 1 FROM v1_repository_images r WHERE r.image_id = v1_images.id) \
             AND NOT EXISTS (SELECT 1 FROM v1_tags g WHERE g.image_id = v1_images.id) \
             AND NOT EXISTS (SELECT 1 FROM v1_images c WHERE c.parent = v1_images.id)",
        )
        .execute(conn)?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}
