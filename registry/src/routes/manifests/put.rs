//! `PUT /v2/<name>/manifests/<tag-or-digest>[?tag=…]`
//!
//! ```text
//! PUT /v2/a/manifests/latest  Content-Type: application/vnd.oci.image.manifest.v1+json
//!   →  201 Location: /v2/a/manifests/sha256:…  Docker-Content-Digest: sha256:…
//! PUT /v2/a/manifests/sha256:…?tag=v1&tag=v2   →  201 … OCI-Tag: v1  OCI-Tag: v2
//! PUT a manifest with a `subject`              →  201 … OCI-Subject: sha256:…
//! PUT referencing a blob not in the repository →  400 MANIFEST_BLOB_UNKNOWN
//! PUT larger than limits.manifest_max_bytes    →  413
//! ```

use crate::error::{Error, Result};
use crate::notifications::Origin;
use crate::routes::headers;
use crate::routes::query::Query;
use crate::services::manifests;
use crate::state::Registry;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use pier_shared::{ErrorCode, OciError, Reference, RepoName, Tag};

fn too_large(limit: usize) -> Error {
    Error::Oci(
        OciError::with_message(
            ErrorCode::SizeInvalid,
            format!("manifest is larger than {limit} bytes"),
        )
        .status(StatusCode::PAYLOAD_TOO_LARGE),
    )
}

/// Read the whole body, refusing more than `limit` bytes.
async fn read_limited(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<Bytes> {
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut buf = BytesMut::with_capacity(announced.unwrap_or(4096).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| Error::oci(ErrorCode::ManifestInvalid, format!("reading body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

pub async fn put(
    reg: &Registry,
    req: &HttpRequest,
    origin: &Origin,
    name: &RepoName,
    reference: &Reference,
    q: &Query,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let mut extra: Vec<Tag> = Vec::new();
    for raw in q.all("tag") {
        let tag: Tag = raw.parse().map_err(|e: pier_shared::NameError| {
            Error::oci(ErrorCode::TagInvalid, e.to_string())
        })?;
        if !extra.contains(&tag) {
            extra.push(tag);
        }
    }
    let body = read_limited(req, payload, reg.config.limits.manifest_max_bytes).await?;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let pushed = manifests::put(reg, origin, name, reference, extra, content_type, body).await?;
    reg.metrics.push.manifests_pushed.inc();
    let mut res = HttpResponse::Created();
    res.insert_header((
        "Location",
        format!("/v2/{name}/manifests/{}", pushed.digest),
    ))
    .insert_header(headers::digest(&pushed.digest));
    if let Some(subject) = &pushed.subject {
        res.insert_header(("OCI-Subject", subject.to_string()));
    }
    if q.get("tag").is_some() {
        for t in &pushed.tags {
            res.append_header(("OCI-Tag", t.as_str()));
        }
    }
    Ok(res.finish())
}
