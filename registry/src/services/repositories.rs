//! Deleting a whole repository (the index's delete workflow, docs/deletion.md).

use super::repo_id;
use crate::db;
use crate::error::{Error, Result};
use crate::notifications::{events, Origin};
use crate::state::Registry;
use pier_shared::RepoName;
use uuid::Uuid;

/// Delete the repository's metadata in one transaction: links, manifests (their tags and
/// references), tags and upload sessions. Blob bytes stay for garbage collection; the
/// files of the repository's upload sessions are deleted after the commit.
/// NAME_UNKNOWN if the repository does not exist (the index treats that as done). The
/// `delete` event is queued in the same transaction.
pub async fn delete(reg: &Registry, origin: &Origin, name: &RepoName) -> Result<()> {
    let name = name.clone();
    let (notifier, origin) = (reg.notifier.clone(), origin.clone());
    let uploads = reg
        .db
        .transaction(move |c| {
            let id = repo_id(c, &name)?;
            let uploads = db::uploads::ids_in(c, id)?;
            let multiparts = db::uploads::multiparts(c, &uploads)?;
            db::repositories::delete(c, id)?;
            events::repository_deleted(c, &notifier, &origin, name.as_str())?;
            Ok::<_, Error>((uploads, multiparts))
        })
        .await?;
    let (uploads, multiparts) = uploads;
    for id in uploads.iter().filter_map(|u| Uuid::parse_str(u).ok()) {
        let multipart = super::multipart_of(&multiparts, &id);
        if let Err(e) = reg.storage.discard(&id, multipart.as_ref()).await {
            log::warn!("upload {id} of a deleted repository: {e}");
        }
    }
    Ok(())
}
