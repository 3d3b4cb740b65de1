//! `GET|HEAD|DELETE /v2/<name>/blobs/<digest>`
//!
//! ```text
//! HEAD /v2/a/blobs/sha256:…            →  200 Content-Length: 1234  Docker-Content-Digest: sha256:…
//! GET  /v2/a/blobs/sha256:…  Range: bytes=0-99
//!                                      →  206 Content-Range: bytes 0-99/1234
//! GET  … Range: bytes=5000-            →  416 Content-Range: bytes */1234
//! DELETE /v2/a/blobs/sha256:…          →  202 (the repository's link; bytes stay for others)
//! GET with storage.s3.redirect = true  →  307 Location: <presigned URL of the object>
//! ```

use super::headers::{self, HeadBody};
use crate::error::{Error, Result};
use crate::services::blobs;
use crate::state::Registry;
use actix_web::http::header::{ACCEPT_RANGES, CONTENT_RANGE, RANGE};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use pier_shared::{Digest, ErrorCode, OciError, RepoName};

pub async fn get(
    reg: &Registry,
    req: &HttpRequest,
    name: &RepoName,
    digest: &Digest,
    head: bool,
) -> Result<HttpResponse> {
    let size = blobs::stat(reg, name, digest).await?;
    if !head {
        // The client follows it with its own Range header, which S3 serves.
        if let Some(url) = blobs::redirect_url(reg, digest).await? {
            return Ok(HttpResponse::TemporaryRedirect()
                .insert_header(headers::digest(digest))
                .insert_header((actix_web::http::header::LOCATION, url))
                .finish());
        }
    }
    let range = req
        .headers()
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| parse_range(r, size))
        .transpose()?
        .flatten();
    let mut res = match range {
        Some(_) => HttpResponse::PartialContent(),
        None => HttpResponse::Ok(),
    };
    res.insert_header(headers::digest(digest))
        .insert_header((ACCEPT_RANGES, "bytes"))
        .content_type("application/octet-stream");
    let (offset, len) = match range {
        Some((start, end)) => {
            res.insert_header((CONTENT_RANGE, format!("bytes {start}-{end}/{size}")));
            (start, end - start + 1)
        }
        None => (0, size),
    };
    if head {
        return Ok(res.body(HeadBody(len)));
    }
    let stream = blobs::open(reg, digest, offset, len).await?;
    Ok(res.no_chunking(len).streaming(stream))
}

/// Parse a single `bytes=` range against `size`. `Ok(None)`: ignore the header (serve the
/// whole blob, as RFC 9110 allows for forms we do not support, e.g. several ranges).
pub fn parse_range(header: &str, size: u64) -> Result<Option<(u64, u64)>> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let unsatisfiable = || {
        Error::Oci(
            OciError::with_message(
                ErrorCode::RangeInvalid,
                format!("range {spec} not satisfiable"),
            )
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(CONTENT_RANGE, format!("bytes */{size}")),
        )
    };
    let (a, b) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.is_empty(), b.is_empty()) {
        (true, false) => {
            let suffix: u64 = b.parse().map_err(|_| unsatisfiable())?;
            if suffix == 0 || size == 0 {
                return Err(unsatisfiable());
            }
            (size.saturating_sub(suffix), size - 1)
        }
        (false, _) => {
            let start: u64 = a.parse().map_err(|_| unsatisfiable())?;
            let end: u64 = if b.is_empty() {
                size.saturating_sub(1)
            } else {
                b.parse::<u64>()
                    .map_err(|_| unsatisfiable())?
                    .min(size.saturating_sub(1))
            };
            if start >= size || end < start {
                return Err(unsatisfiable());
            }
            (start, end)
        }
        (true, true) => return Err(unsatisfiable()),
    };
    Ok(Some(range))
}

pub async fn delete(reg: &Registry, name: &RepoName, digest: &Digest) -> Result<HttpResponse> {
    blobs::unlink(reg, name, digest).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100).unwrap(), Some((50, 99)));
        assert_eq!(parse_range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(parse_range("items=0-1", 100).unwrap(), None);
        for bad in [
            "bytes=100-",
            "bytes=5-4",
            "bytes=-0",
            "bytes=x-1",
            "bytes=-",
        ] {
            assert!(parse_range(bad, 100).is_err(), "{bad}");
        }
    }
}
