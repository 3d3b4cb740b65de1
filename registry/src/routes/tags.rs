//! `GET /v2/<name>/tags/list?n=&last=`
//!
//! ```text
//! GET /v2/a/tags/list?n=2            →  200 {"name":"a","tags":["t1","t2"]}
//!                                        Link: </v2/a/tags/list?n=2&last=t2>; rel="next"
//! ```

use super::{pagination, query::Query};
use crate::error::Result;
use crate::services::listing;
use crate::state::Registry;
use actix_web::HttpResponse;
use pier_shared::RepoName;

pub async fn list(reg: &Registry, name: &RepoName, q: &Query) -> Result<HttpResponse> {
    list_as(reg, name, name, q).await
}

/// The tags of the repository stored as `stored`, answered as those of `name` (a mirror's
/// cache of `library/x` is stored as `hub/library/x`).
pub async fn list_as(
    reg: &Registry,
    stored: &RepoName,
    name: &RepoName,
    q: &Query,
) -> Result<HttpResponse> {
    let max = reg.config.limits.max_page_size;
    let p = pagination::parse(q, usize::MAX, max)?;
    let page = if p.zero {
        // n=0: an empty list, but the repository must still exist.
        listing::tags(reg, stored, None, 0).await.map(|mut pg| {
            pg.more = false;
            pg
        })?
    } else {
        listing::tags(reg, stored, p.last, p.n).await?
    };
    let mut res = HttpResponse::Ok();
    if page.more {
        if let Some(last) = page.items.last() {
            res.insert_header(pagination::link(
                &format!("/v2/{name}/tags/list"),
                p.n,
                last,
            ));
        }
    }
    Ok(res.json(serde_json::json!({ "name": name.as_str(), "tags": page.items })))
}
