//! `POST /v2/<name>/blobs/uploads/` — open an upload, upload in one request, or mount.
//!
//! ```text
//! POST …/uploads/                               →  202 Location: /v2/a/blobs/uploads/<uuid>  Range: 0-0
//! POST …/uploads/?digest=sha256:…   <body>      →  201 Location: /v2/a/blobs/sha256:…
//! POST …/uploads/?mount=sha256:…&from=b         →  201 (mounted) or 202 (upload instead)
//! POST …/uploads/?digest-algorithm=sha512       →  202, body hashed with sha512
//! ```

use super::{body, progress_headers};
use crate::error::{Error, Result};
use crate::routes::headers;
use crate::routes::query::Query;
use crate::services::{blobs, uploads};
use crate::state::Registry;
use actix_web::{web, HttpResponse};
use pier_shared::{Algorithm, Digest, ErrorCode, RepoName};

fn parse_digest(raw: &str) -> Result<Digest> {
    raw.parse()
        .map_err(|e: pier_shared::DigestError| Error::oci(ErrorCode::DigestInvalid, e.to_string()))
}

fn created(name: &RepoName, digest: &Digest) -> HttpResponse {
    HttpResponse::Created()
        .insert_header(("Location", format!("/v2/{name}/blobs/{digest}")))
        .insert_header(headers::digest(digest))
        .finish()
}

pub async fn post(
    reg: &Registry,
    origin: &crate::notifications::Origin,
    name: &RepoName,
    q: &Query,
    payload: web::Payload,
) -> Result<HttpResponse> {
    if let Some(mount) = q.get("mount") {
        let digest = parse_digest(mount)?;
        // An invalid `from` cannot hold the blob: fall back to a normal upload.
        let from: Option<RepoName> = q.get("from").and_then(|f| f.parse().ok());
        let from_usable = q.get("from").is_none() || from.is_some();
        if from_usable
            && blobs::mount(reg, origin, name, &digest, from.as_ref())
                .await?
                .is_some()
        {
            reg.metrics.push.blob_mounts.inc();
            return Ok(created(name, &digest));
        }
    } else if let Some(raw) = q.get("digest") {
        let digest = parse_digest(raw)?;
        let push = &reg.metrics.push;
        push.uploads_started.inc();
        let stored = uploads::upload_whole(reg, name, &digest, body(payload)).await;
        let outcome = if stored.is_ok() {
            &push.uploads_completed
        } else {
            &push.uploads_failed
        };
        outcome.inc();
        stored?;
        return Ok(created(name, &digest));
    }
    let algorithm = match q.get("digest-algorithm") {
        Some(a) => a
            .parse::<Algorithm>()
            .map_err(|e| Error::oci(ErrorCode::DigestInvalid, e.to_string()))?,
        None => Algorithm::Sha256,
    };
    let id = uploads::start(reg, name, algorithm).await?;
    reg.metrics.push.uploads_started.inc();
    let mut res = HttpResponse::Accepted();
    progress_headers(&mut res, name, &id, 0);
    Ok(res.finish())
}
