//! `DELETE /v2/<name>/blobs/uploads/<id>` — cancel an upload.
//!
//! ```text
//! DELETE …/uploads/<id>   →  204   (then any request on it → 404 BLOB_UPLOAD_UNKNOWN)
//! ```

use super::require_id;
use crate::error::Result;
use crate::services::uploads;
use crate::state::Registry;
use actix_web::HttpResponse;
use pier_shared::RepoName;
use uuid::Uuid;

pub async fn delete(reg: &Registry, name: &RepoName, id: Option<Uuid>) -> Result<HttpResponse> {
    let id = require_id(id)?;
    uploads::cancel(reg, name, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
