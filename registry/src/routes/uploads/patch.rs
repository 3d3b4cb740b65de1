//! `PATCH /v2/<name>/blobs/uploads/<id>` — append a chunk.
//!
//! ```text
//! PATCH …/uploads/<id>  Content-Range: 0-1023  <1024 bytes>   →  202 Range: 0-1023  Location: …
//! PATCH …/uploads/<id>  Content-Range: 0-1023  (again)        →  416 Range: 0-1023  Location: …
//! PATCH …/uploads/<id>  <bytes, no Content-Range>              →  202 (streamed onto the end)
//! ```

use super::{body, content_range, progress_headers, require_id, with_resume_headers};
use crate::error::Result;
use crate::services::uploads;
use crate::state::Registry;
use actix_web::{web, HttpRequest, HttpResponse};
use pier_shared::RepoName;
use uuid::Uuid;

pub async fn patch(
    reg: &Registry,
    req: &HttpRequest,
    name: &RepoName,
    id: Option<Uuid>,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let id = require_id(id)?;
    let range = content_range(req)?;
    let size = match uploads::append(reg, name, &id, range, body(payload)).await {
        Ok(size) => size,
        Err(e) => return Err(with_resume_headers(e, reg, name, &id).await),
    };
    let mut res = HttpResponse::Accepted();
    progress_headers(&mut res, name, &id, size);
    Ok(res.finish())
}
