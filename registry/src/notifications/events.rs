//! The events the services record, each inside the transaction of its change: called with
//! the transaction's connection, so the outbox rows commit (or roll back) with it. Nothing
//! is written when no endpoint wants the action.

use super::event::{Actor, Event, Source, Target, BLOB_MEDIA_TYPE};
use super::{Notifier, Origin};
use crate::db::{self, Conn, DbError};
use crate::state::Registry;
use std::sync::Arc;

/// Queue one event of `action` about `target` for every endpoint that wants it.
fn record(
    c: &mut Conn,
    n: &Notifier,
    origin: &Origin,
    action: &str,
    target: Target,
) -> Result<(), DbError> {
    let all = n.all();
    let wanted: Vec<&super::Endpoint> = all
        .iter()
        .filter(|e| e.wants_event(action, &target.repository))
        .map(|e| &**e)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let event = Event {
        id: uuid::Uuid::new_v4().to_string(),
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        action: action.to_string(),
        target,
        request: origin.request.clone(),
        actor: Actor {
            name: origin.actor.clone(),
        },
        source: Source {
            addr: n.source_addr().to_string(),
            instance_id: n.instance_id.clone(),
        },
    };
    let payload = serde_json::to_string(&event)
        .map_err(|e| DbError::Query(diesel::result::Error::SerializationError(Box::new(e))))?;
    let names: Vec<&str> = wanted.iter().map(|e| e.name()).collect();
    db::outbox::insert(c, &names, &event.id, &payload)?;
    // A task woken before this transaction commits finds nothing new and looks again at
    // its next poll (deliver::POLL).
    for e in wanted {
        e.wake.notify_one();
    }
    Ok(())
}

/// A stored manifest, as its events describe it.
pub struct ManifestRef<'a> {
    pub repository: &'a str,
    pub digest: &'a str,
    pub media_type: &'a str,
    pub size: u64,
}

fn manifest_target(origin: &Origin, m: &ManifestRef<'_>, tag: &str) -> Target {
    Target {
        media_type: m.media_type.to_string(),
        size: m.size,
        digest: m.digest.to_string(),
        length: m.size,
        repository: m.repository.to_string(),
        url: format!(
            "{}/v2/{}/manifests/{}",
            origin.base_url, m.repository, m.digest
        ),
        tag: tag.to_string(),
        ..Default::default()
    }
}

/// `push` of a manifest: one event per tag it was pushed with (one without a tag when
/// pushed by digest only).
pub fn manifest_pushed(
    c: &mut Conn,
    n: &Notifier,
    origin: &Origin,
    m: &ManifestRef<'_>,
    tags: &[pier_shared::Tag],
) -> Result<(), DbError> {
    if tags.is_empty() {
        return record(c, n, origin, "push", manifest_target(origin, m, ""));
    }
    for t in tags {
        record(c, n, origin, "push", manifest_target(origin, m, t.as_str()))?;
    }
    Ok(())
}

/// `pull` of a manifest served (a GET; HEAD is not a pull), with `tag` when pulled by
/// tag. A pull changes nothing, so its event has a small write transaction of its own,
/// taken only when some endpoint wants pulls.
pub async fn manifest_pulled(
    reg: &Registry,
    origin: &Origin,
    m: &ManifestRef<'_>,
    reference: &pier_shared::Reference,
) -> Result<(), DbError> {
    if !reg.notifier.wants("pull") {
        return Ok(());
    }
    let tag = match reference {
        pier_shared::Reference::Tag(t) => t.as_str(),
        pier_shared::Reference::Digest(_) => "",
    };
    let target = manifest_target(origin, m, tag);
    let (n, origin) = (Arc::clone(&reg.notifier), origin.clone());
    reg.db
        .transaction(move |c| record(c, &n, &origin, "pull", target))
        .await
}

/// `delete` of a tag (`repository` and `tag`) or of a manifest by digest (`repository`
/// and `digest`), as distribution sends them.
pub fn deleted(
    c: &mut Conn,
    n: &Notifier,
    origin: &Origin,
    repository: &str,
    reference: &pier_shared::Reference,
) -> Result<(), DbError> {
    let mut target = Target {
        repository: repository.to_string(),
        ..Default::default()
    };
    match reference {
        pier_shared::Reference::Tag(t) => target.tag = t.to_string(),
        pier_shared::Reference::Digest(d) => target.digest = d.to_string(),
    }
    record(c, n, origin, "delete", target)
}

/// `delete` of a whole repository (`repository` only).
pub fn repository_deleted(
    c: &mut Conn,
    n: &Notifier,
    origin: &Origin,
    repository: &str,
) -> Result<(), DbError> {
    let target = Target {
        repository: repository.to_string(),
        ..Default::default()
    };
    record(c, n, origin, "delete", target)
}

/// `mount` of a blob into `repository` (from `from`, if the client named one).
pub fn blob_mounted(
    c: &mut Conn,
    n: &Notifier,
    origin: &Origin,
    repository: &str,
    digest: &str,
    size: u64,
    from: Option<&str>,
) -> Result<(), DbError> {
    let target = Target {
        media_type: BLOB_MEDIA_TYPE.to_string(),
        size,
        digest: digest.to_string(),
        length: size,
        repository: repository.to_string(),
        from_repository: from.unwrap_or_default().to_string(),
        url: format!("{}/v2/{repository}/blobs/{digest}", origin.base_url),
        ..Default::default()
    };
    record(c, n, origin, "mount", target)
}
