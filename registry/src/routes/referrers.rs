//! `GET /v2/<name>/referrers/<digest>?artifactType=`
//!
//! ```text
//! GET /v2/a/referrers/sha256:…?artifactType=application/x
//!   →  200 Content-Type: application/vnd.oci.image.index.v1+json
//!      OCI-Filters-Applied: artifactType
//!      {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[…]}
//! ```
//! An unknown repository or subject gives an empty index, never 404.

use super::query::Query;
use crate::error::Result;
use crate::manifest::OCI_INDEX;
use crate::services::listing;
use crate::state::Registry;
use actix_web::HttpResponse;
use pier_shared::{Digest, RepoName};

pub async fn get(
    reg: &Registry,
    name: &RepoName,
    subject: &Digest,
    q: &Query,
) -> Result<HttpResponse> {
    let filter = q
        .get("artifactType")
        .filter(|a| !a.is_empty())
        .map(String::from);
    let filtered = filter.is_some();
    let manifests = listing::referrers(reg, name, subject, filter).await?;
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    });
    let mut res = HttpResponse::Ok();
    res.content_type(OCI_INDEX);
    if filtered {
        res.insert_header(("OCI-Filters-Applied", "artifactType"));
    }
    Ok(res.body(body.to_string()))
}
