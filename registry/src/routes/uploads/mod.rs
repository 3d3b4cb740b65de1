//! The blob upload endpoints, one file each, over `services::uploads`.

pub mod cancel;
pub mod finish;
pub mod patch;
pub mod start;
pub mod status;

use super::headers;
use crate::error::{Error, Result};
use crate::services::uploads::{Body, ChunkRange};
use actix_web::http::header::{HeaderValue, CONTENT_RANGE};
use actix_web::{web, HttpRequest, HttpResponseBuilder};
use futures_util::StreamExt;
use pier_shared::{ErrorCode, OciError, RepoName};
use uuid::Uuid;

/// Where the client continues an upload.
pub fn location(name: &RepoName, id: &Uuid) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

/// The headers of every response about an upload in progress.
pub fn progress_headers(res: &mut HttpResponseBuilder, name: &RepoName, id: &Uuid, size: u64) {
    res.insert_header(("Location", location(name, id)))
        .insert_header(headers::upload_range(size))
        .insert_header((headers::UPLOAD_UUID, id.to_string()));
}

/// An upload id that is not a UUID is unknown.
pub fn require_id(id: Option<Uuid>) -> Result<Uuid> {
    id.ok_or_else(|| Error::oci(ErrorCode::BlobUploadUnknown, "upload unknown"))
}

/// The request body as a stream for the upload service.
pub fn body(payload: web::Payload) -> Body {
    Box::pin(payload.map(|r| r.map_err(|e| std::io::Error::other(e.to_string()))))
}

/// `Content-Range: <start>-<end>` (also accepts the `bytes ` prefix some clients send).
pub fn content_range(req: &HttpRequest) -> Result<Option<ChunkRange>> {
    match req.headers().get(CONTENT_RANGE) {
        Some(v) => parse_content_range(v).map(Some),
        None => Ok(None),
    }
}

/// Parse one `Content-Range` value of a chunk upload. Whether the range fits the upload
/// (`start` where it ends, `end >= start`) is the upload service's check.
pub fn parse_content_range(v: &HeaderValue) -> Result<ChunkRange> {
    let bad = || {
        Error::Oci(
            OciError::with_message(
                ErrorCode::RangeInvalid,
                "Content-Range must be <start>-<end>",
            )
            .status(actix_web::http::StatusCode::RANGE_NOT_SATISFIABLE),
        )
    };
    let s = v.to_str().map_err(|_| bad())?.trim();
    let s = s.strip_prefix("bytes ").unwrap_or(s);
    let s = s.split('/').next().unwrap_or(s);
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let start = a.trim().parse().map_err(|_| bad())?;
    let end = b.trim().parse().map_err(|_| bad())?;
    Ok(ChunkRange { start, end })
}

/// Add `Location`/`Range` to a 416 so the client can resume from the right offset.
pub async fn with_resume_headers(
    err: Error,
    reg: &crate::state::Registry,
    name: &RepoName,
    id: &Uuid,
) -> Error {
    match err {
        Error::Oci(mut e) if e.code == ErrorCode::RangeInvalid => {
            if let Ok(size) = crate::services::uploads::status(reg, name, id).await {
                let (_, range) = headers::upload_range(size);
                e = e
                    .header(actix_web::http::header::LOCATION, location(name, id))
                    .header(actix_web::http::header::RANGE, range);
            }
            Error::Oci(e)
        }
        other => other,
    }
}
