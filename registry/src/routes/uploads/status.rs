//! `GET /v2/<name>/blobs/uploads/<id>` — how much has arrived.
//!
//! ```text
//! GET …/uploads/<id>   →  204 Range: 0-1023  Location: …  Docker-Upload-UUID: <id>
//! ```

use super::{progress_headers, require_id};
use crate::error::Result;
use crate::services::uploads;
use crate::state::Registry;
use actix_web::HttpResponse;
use pier_shared::RepoName;
use uuid::Uuid;

pub async fn get(reg: &Registry, name: &RepoName, id: Option<Uuid>) -> Result<HttpResponse> {
    let id = require_id(id)?;
    let size = uploads::status(reg, name, &id).await?;
    let mut res = HttpResponse::NoContent();
    progress_headers(&mut res, name, &id, size);
    Ok(res.finish())
}
