//! Registry rules: what may be stored, served, linked or deleted, and in what order.
//!
//! Services call `db` and `storage`, never routes; they take parsed types (`RepoName`,
//! `Digest`, …) and return domain results or [`crate::error::Error`]. Order of effects is
//! chosen so that a crash at any point leaves nothing half-visible: bytes are made durable
//! in storage before the database makes them visible.

pub mod blobs;
pub mod health;
pub mod listing;
pub mod manifests;
pub mod repositories;
pub mod uploads;
pub mod v1;

use crate::db::{self, Conn};
use crate::error::{Error, Result};
use pier_shared::{ErrorCode, RepoName};

/// The id of an existing repository, or NAME_UNKNOWN.
pub(crate) fn repo_id(conn: &mut Conn, name: &RepoName) -> Result<i64> {
    db::repositories::find(conn, name.as_str())?.ok_or_else(|| {
        Error::oci(
            ErrorCode::NameUnknown,
            format!("repository {name} not known"),
        )
    })
}

/// The multipart upload of upload `id` among `(id, multipart id, key)` rows
/// (`db::uploads::multiparts`).
pub(crate) fn multipart_of(
    rows: &[(String, String, String)],
    id: &uuid::Uuid,
) -> Option<crate::storage::Multipart> {
    let id = id.hyphenated().to_string();
    rows.iter()
        .find(|(u, _, _)| *u == id)
        .and_then(|(_, m, k)| {
            Some(crate::storage::Multipart {
                id: m.clone(),
                key: crate::storage::StoragePath::from_listed(k)?,
            })
        })
}
