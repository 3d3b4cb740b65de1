//! `PUT /v2/<name>/blobs/uploads/<id>?digest=<digest>` — close the upload.
//!
//! ```text
//! PUT …/uploads/<id>?digest=sha256:…  [last chunk]   →  201 Location: /v2/a/blobs/sha256:…
//!                                                        Docker-Content-Digest: sha256:…
//! PUT … with a digest the bytes do not have          →  400 DIGEST_INVALID (upload discarded)
//! ```

use super::{body, content_range, require_id, with_resume_headers};
use crate::error::{Error, Result};
use crate::routes::headers;
use crate::routes::query::Query;
use crate::services::uploads;
use crate::state::Registry;
use actix_web::{web, HttpRequest, HttpResponse};
use pier_shared::{Digest, ErrorCode, RepoName};
use uuid::Uuid;

pub async fn put(
    reg: &Registry,
    req: &HttpRequest,
    name: &RepoName,
    id: Option<Uuid>,
    q: &Query,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let id = require_id(id)?;
    let digest: Digest = q
        .get("digest")
        .ok_or_else(|| {
            Error::oci(
                ErrorCode::DigestInvalid,
                "the digest query parameter is required",
            )
        })?
        .parse()
        .map_err(|e: pier_shared::DigestError| {
            Error::oci(ErrorCode::DigestInvalid, e.to_string())
        })?;
    let range = content_range(req)?;
    if let Err(e) = uploads::finish(reg, name, &id, &digest, range, body(payload)).await {
        reg.metrics.push.uploads_failed.inc();
        return Err(with_resume_headers(e, reg, name, &id).await);
    }
    reg.metrics.push.uploads_completed.inc();
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v2/{name}/blobs/{digest}")))
        .insert_header(headers::digest(&digest))
        .finish())
}
