//! `DELETE /v2/<name>/manifests/<tag-or-digest>`
//!
//! ```text
//! DELETE /v2/a/manifests/latest     →  202  the tag only; the manifest stays reachable by digest
//! DELETE /v2/a/manifests/sha256:…   →  202  the manifest and every tag pointing at it
//! ```

use crate::error::Result;
use crate::notifications::Origin;
use crate::services::manifests;
use crate::state::Registry;
use actix_web::HttpResponse;
use pier_shared::{Reference, RepoName};

pub async fn delete(
    reg: &Registry,
    origin: &Origin,
    name: &RepoName,
    reference: &Reference,
) -> Result<HttpResponse> {
    manifests::delete(reg, origin, name, reference).await?;
    Ok(HttpResponse::Accepted().finish())
}
