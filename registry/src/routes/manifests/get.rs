//! `GET|HEAD /v2/<name>/manifests/<tag-or-digest>`
//!
//! ```text
//! GET /v2/a/manifests/latest   →  200 Content-Type: <stored media type>
//!                                  Docker-Content-Digest: sha256:…   <bytes exactly as pushed>
//! HEAD …                       →  200 with the same headers and Content-Length, no body
//! ```

use crate::error::Result;
use crate::notifications::Origin;
use crate::routes::headers::{self, HeadBody};
use crate::services::manifests::{self, Manifest};
use crate::state::Registry;
use actix_web::HttpResponse;
use pier_shared::{Reference, RepoName};

pub async fn get(
    reg: &Registry,
    origin: &Origin,
    name: &RepoName,
    reference: &Reference,
    head: bool,
) -> Result<HttpResponse> {
    let m = manifests::get(reg, origin, name, reference, !head).await?;
    Ok(respond(m, head, None))
}

/// The response for a resolved manifest (also the mirror's, with its `Warning` if stale).
pub fn respond(m: Manifest, head: bool, warning: Option<String>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type(m.media_type.as_str())
        .insert_header(headers::digest(&m.digest));
    if let Some(w) = warning {
        res.insert_header((actix_web::http::header::WARNING, w));
    }
    match m.content {
        Some(content) if !head => res.body(content),
        _ => res.body(HeadBody(m.size)),
    }
}
