//! `GET /v2/_catalog?n=&last=` — repositories that hold at least one manifest; in token
//! mode only those the caller may pull (the index's `pullable` list).
//!
//! ```text
//! GET /v2/_catalog?n=1   →  200 {"repositories":["a"]}
//!                            Link: </v2/_catalog?n=1&last=a>; rel="next"
//! ```

use super::{pagination, query::Query};
use crate::error::Result;
use crate::services::listing;
use crate::state::Registry;
use actix_web::HttpResponse;

/// `visible`: the only names that may be listed (`None`: all).
pub async fn get(reg: &Registry, q: &Query, visible: Option<Vec<String>>) -> Result<HttpResponse> {
    let limits = &reg.config.limits;
    let p = pagination::parse(q, limits.catalog_default_page_size, limits.max_page_size)?;
    let page = if p.zero {
        listing::Page {
            items: Vec::new(),
            more: false,
        }
    } else {
        match visible {
            None => listing::catalog(reg, p.last, p.n).await?,
            Some(names) => listing::catalog_among(reg, names, p.last, p.n).await?,
        }
    };
    let mut res = HttpResponse::Ok();
    if page.more {
        if let Some(last) = page.items.last() {
            res.insert_header(pagination::link("/v2/_catalog", p.n, last));
        }
    }
    Ok(res.json(serde_json::json!({ "repositories": page.items })))
}
