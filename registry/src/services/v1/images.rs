//! v1 images: json, layer, checksum, ancestry.
//!
//! ```text
//! PUT json      validate (object, id = path id, parent complete) → row, not complete
//! PUT layer     stream through an ordinary upload session (sha256 of the layer = blob
//!               digest) while hashing json + "\n" + layer (the v1 payload checksum)
//! PUT checksum  X-Docker-Checksum-Payload = the computed checksum → complete
//! ```
//!
//! Nothing of an image is served before its checksum matched; a complete image is never
//! changed (409).

use super::error::{V1Error, V1Result};
use crate::db;
use crate::error::Error;
use crate::services::uploads::{self, Body};
use crate::state::Registry;
use crate::storage::ByteStream;
use futures_util::StreamExt;
use pier_shared::v1::ImageId;
use pier_shared::{Algorithm, Digest, RepoName};
use sha2::{Digest as _, Sha256};
use std::cell::RefCell;
use std::rc::Rc;

/// A servable image.
pub struct Image {
    pub json: Vec<u8>,
    pub size: u64,
    pub checksum: String,
    pub layer: Digest,
}

fn not_found(id: &ImageId) -> V1Error {
    V1Error::NotFound(format!("Image not found: {id}"))
}

/// `PUT /v1/images/<id>/json` in repository `repo` (from the session).
pub async fn put_json(reg: &Registry, repo: &RepoName, id: &ImageId, body: &[u8]) -> V1Result<()> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| V1Error::BadRequest("Invalid JSON".into()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| V1Error::BadRequest("Invalid JSON: an object is expected".into()))?;
    match obj.get("id").and_then(|v| v.as_str()) {
        None => return Err(V1Error::BadRequest("Missing key `id' in JSON".into())),
        Some(j) if j != id.as_str() => {
            return Err(V1Error::BadRequest("JSON data contains invalid id".into()))
        }
        Some(_) => {}
    }
    let parent = match obj.get("parent") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(p)) => Some(
            p.parse::<ImageId>()
                .map_err(|_| V1Error::BadRequest("Invalid parent id".into()))?,
        ),
        Some(_) => return Err(V1Error::BadRequest("Invalid parent id".into())),
    };
    let (repo, id, body) = (repo.clone(), id.clone(), body.to_vec());
    reg.db
        .transaction(move |c| -> V1Result<()> {
            let repo_id = db::repositories::find_or_create(c, repo.as_str())?;
            if let Some(p) = &parent {
                if p == &id || !db::v1::find(c, p.as_str())?.is_some_and(|i| i.complete) {
                    return Err(V1Error::BadRequest(
                        "Image depends on a non existing parent".into(),
                    ));
                }
            }
            if db::v1::find(c, id.as_str())?.is_some_and(|i| i.complete) {
                // Already pushed (maybe to another repository): now used by this one too.
                db::v1::link(c, repo_id, id.as_str())?;
                return Err(V1Error::Conflict("Image already exists".into()));
            }
            db::v1::put_json(c, id.as_str(), &body, parent.as_ref().map(ImageId::as_str))?;
            db::v1::link(c, repo_id, id.as_str())?;
            Ok(())
        })
        .await
}

/// An image that is not complete yet (its json pushed), or 404 / 409.
async fn pending(reg: &Registry, id: &ImageId) -> V1Result<db::v1::Image> {
    let key = id.to_string();
    let image = reg.db.run(move |c| db::v1::find(c, &key)).await?;
    match image {
        None => Err(not_found(id)),
        Some(i) if i.complete => Err(V1Error::Conflict("Image already exists".into())),
        Some(i) => Ok(i),
    }
}

/// `PUT /v1/images/<id>/layer`: store the layer as a blob of `repo` and remember the
/// payload checksum for the checksum step.
pub async fn put_layer(reg: &Registry, repo: &RepoName, id: &ImageId, body: Body) -> V1Result<()> {
    let image = pending(reg, id).await?;
    let payload = Rc::new(RefCell::new(Sha256::new()));
    payload.borrow_mut().update(&image.json);
    payload.borrow_mut().update(b"\n");
    let tap = Rc::clone(&payload);
    let body: Body = Box::pin(body.map(move |chunk| {
        if let Ok(c) = &chunk {
            tap.borrow_mut().update(c);
        }
        chunk
    }));
    let upload = uploads::start(reg, repo, Algorithm::Sha256).await?;
    let stored = async {
        let size = uploads::append(reg, repo, &upload, None, body).await?;
        let digest = uploads::digest_so_far(reg, repo, &upload).await?;
        let empty: Body = Box::pin(futures_util::stream::empty());
        uploads::finish(reg, repo, &upload, &digest, None, empty).await?;
        Ok::<_, Error>((digest, size))
    }
    .await;
    let (digest, size) = match stored {
        Ok(v) => v,
        Err(e) => {
            if let Err(c) = uploads::cancel(reg, repo, &upload).await {
                log::debug!("v1 layer upload {upload}: {c}");
            }
            return Err(e.into());
        }
    };
    let checksum = format!(
        "sha256:{}",
        hex::encode(payload.borrow().clone().finalize())
    );
    let (key, d) = (id.to_string(), digest.to_string());
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let recorded = reg
        .db
        .run(move |c| db::v1::set_layer(c, &key, &d, size, &checksum))
        .await?;
    if recorded {
        Ok(())
    } else {
        Err(V1Error::Conflict("Image already exists".into()))
    }
}

/// `PUT /v1/images/<id>/checksum` with `X-Docker-Checksum-Payload`: the image becomes
/// servable if the checksum computed while the layer streamed in matches.
pub async fn put_checksum(reg: &Registry, id: &ImageId, claimed: Option<&str>) -> V1Result<()> {
    let claimed = claimed.ok_or_else(|| {
        V1Error::PreconditionFailed(
            "X-Docker-Checksum-Payload is required (docker 0.10 or later)".into(),
        )
    })?;
    let image = pending(reg, id).await?;
    let Some(computed) = image.checksum else {
        return Err(V1Error::BadRequest(
            "the layer has not been uploaded".into(),
        ));
    };
    if !claimed.trim().eq_ignore_ascii_case(&computed) {
        return Err(V1Error::BadRequest(format!(
            "Checksum mismatch for image {id}"
        )));
    }
    let key = id.to_string();
    reg.db.run(move |c| db::v1::complete(c, &key)).await?;
    Ok(())
}

/// A complete image.
pub async fn get(reg: &Registry, id: &ImageId) -> V1Result<Image> {
    let key = id.to_string();
    let image = reg.db.run(move |c| db::v1::find(c, &key)).await?;
    let image = image.filter(|i| i.complete).ok_or_else(|| not_found(id))?;
    let layer: Digest = image
        .layer_digest
        .as_deref()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| not_found(id))?;
    Ok(Image {
        json: image.json,
        size: image.size.map_or(0, |s| s.max(0) as u64),
        checksum: image.checksum.unwrap_or_default(),
        layer,
    })
}

/// `len` bytes of the image's layer from `offset`.
pub async fn open_layer(
    reg: &Registry,
    image: &Image,
    offset: u64,
    len: u64,
) -> V1Result<ByteStream> {
    Ok(crate::services::blobs::open(reg, &image.layer, offset, len).await?)
}

/// `[id, parent, …, base]` of a complete image.
pub async fn ancestry(reg: &Registry, id: &ImageId) -> V1Result<Vec<String>> {
    get(reg, id).await?;
    let key = id.to_string();
    Ok(reg.db.run(move |c| db::v1::ancestry(c, &key)).await?)
}
