//! The legacy v1 tables: `v1_tokens` and `v1_images` (a repository's image list).

use super::schema::v1_images::dsl as i;
use super::schema::v1_tokens::dsl as t;
use super::{Conn, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::v1_tokens)]
pub struct V1Token {
    pub id: String,
    pub secret_hash: String,
    pub user_id: Option<i64>,
    pub repository: String,
    pub access: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = super::schema::v1_images)]
pub struct V1Image {
    pub repository_id: i64,
    pub image_id: String,
    pub position: i64,
    pub tag: Option<String>,
    pub checksum: Option<String>,
}

pub fn insert_token(conn: &mut Conn, token: &V1Token) -> Result<(), DbError> {
    diesel::insert_into(t::v1_tokens)
        .values((
            t::id.eq(&token.id),
            t::secret_hash.eq(&token.secret_hash),
            t::user_id.eq(token.user_id),
            t::repository.eq(&token.repository),
            t::access.eq(&token.access),
            t::created_at.eq(token.created_at),
            t::expires_at.eq(token.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_token(conn: &mut Conn, id: &str) -> Result<Option<V1Token>, DbError> {
    Ok(t::v1_tokens
        .filter(t::id.eq(id))
        .select(V1Token::as_select())
        .first(conn)
        .optional()?)
}

/// Mark an unused token used at `now`; false if it was already used (one-time use).
pub fn use_token(conn: &mut Conn, id: &str, now: i64) -> Result<bool, DbError> {
    let n = diesel::update(
        t::v1_tokens
            .filter(t::id.eq(id))
            .filter(t::used_at.is_null()),
    )
    .set(t::used_at.eq(now))
    .execute(conn)?;
    Ok(n > 0)
}

/// Forget tokens that expired before `before`.
pub fn purge_tokens(conn: &mut Conn, before: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(t::v1_tokens.filter(t::expires_at.lt(before))).execute(conn)?)
}

/// Add images to a repository's list (existing ids keep their place; a tag is updated).
pub fn add_images(
    conn: &mut Conn,
    repository_id: i64,
    images: &[(String, Option<String>)],
) -> Result<(), DbError> {
    let mut next: i64 = i::v1_images
        .filter(i::repository_id.eq(repository_id))
        .select(diesel::dsl::max(i::position))
        .first::<Option<i64>>(conn)?
        .map_or(0, |p| p + 1);
    for (id, tag) in images {
        let row = i::v1_images
            .filter(i::repository_id.eq(repository_id))
            .filter(i::image_id.eq(id));
        let exists: bool = diesel::select(diesel::dsl::exists(row)).get_result(conn)?;
        if !exists {
            diesel::insert_into(i::v1_images)
                .values((
                    i::repository_id.eq(repository_id),
                    i::image_id.eq(id),
                    i::position.eq(next),
                    i::tag.eq(tag),
                ))
                .execute(conn)?;
            next += 1;
        } else if let Some(tag) = tag {
            diesel::update(row).set(i::tag.eq(tag)).execute(conn)?;
        }
    }
    Ok(())
}

/// Record the checksums a finished push reports, for images in the list.
pub fn set_checksums(
    conn: &mut Conn,
    repository_id: i64,
    sums: &[(String, String)],
) -> Result<(), DbError> {
    for (id, sum) in sums {
        diesel::update(
            i::v1_images
                .filter(i::repository_id.eq(repository_id))
                .filter(i::image_id.eq(id)),
        )
        .set(i::checksum.eq(sum))
        .execute(conn)?;
    }
    Ok(())
}

/// A repository's image list, in the order it was given.
pub fn images(conn: &mut Conn, repository_id: i64) -> Result<Vec<V1Image>, DbError> {
    Ok(i::v1_images
        .filter(i::repository_id.eq(repository_id))
        .order(i::position.asc())
        .select(V1Image::as_select())
        .load(conn)?)
}

/// Remove a repository's image list (the index's records of a deleted repository).
pub fn delete_images(conn: &mut Conn, repository_id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(i::v1_images.filter(i::repository_id.eq(repository_id))).execute(conn)?)
}

/// The most recently deleted repository row called `name` (v1's second DELETE).
pub fn last_deleted(
    conn: &mut Conn,
    name: &str,
) -> Result<Option<super::repositories::Repository>, DbError> {
    use super::schema::repositories::dsl as r;
    Ok(r::repositories
        .filter(r::name.eq(name))
        .filter(r::deleted_at.is_not_null())
        .order(r::deleted_at.desc())
        .select(super::repositories::Repository::as_select())
        .first(conn)
        .optional()?)
}

/// The id of the newest token `user_id` got for `repository` with `access`.
pub fn latest_token(
    conn: &mut Conn,
    user_id: Option<i64>,
    repository: &str,
    access: &str,
) -> Result<Option<String>, DbError> {
    let mut q = t::v1_tokens
        .filter(t::repository.eq(repository))
        .filter(t::access.eq(access))
        .order((t::created_at.desc(), t::id.desc()))
        .select(t::id)
        .into_boxed();
    q = match user_id {
        Some(u) => q.filter(t::user_id.eq(u)),
        None => q.filter(t::user_id.is_null()),
    };
    Ok(q.first(conn).optional()?)
}

/// The audit events of one token flow: those whose detail starts `jti=<jti> `, in order.
pub fn flow_events(conn: &mut Conn, jti: &str) -> Result<Vec<super::audit::Event>, DbError> {
    use super::schema::audit_events::dsl as a;
    let escaped = jti
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Ok(a::audit_events
        .filter(a::detail.like(format!("jti={escaped} %")).escape('\\'))
        .order(a::id.asc())
        .select(super::audit::Event::as_select())
        .load(conn)?)
}

/// The newest `limit` audit events about `target`, oldest first.
pub fn target_events(
    conn: &mut Conn,
    target: &str,
    limit: i64,
) -> Result<Vec<super::audit::Event>, DbError> {
    use super::schema::audit_events::dsl as a;
    let mut events: Vec<super::audit::Event> = a::audit_events
        .filter(a::target.eq(target))
        .order(a::id.desc())
        .limit(limit)
        .select(super::audit::Event::as_select())
        .load(conn)?;
    events.reverse();
    Ok(events)
}
