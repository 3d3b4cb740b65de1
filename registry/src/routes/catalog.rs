//! `GET /v2/_catalog?n=&last=` — repositories that hold at least one manifest.
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

pub async fn get(reg: &Registry, q: &Query) -> Result<HttpResponse> {
    let limits = &reg.config.limits;
    let p = pagination::parse(q, limits.catalog_default_page_size, limits.max_page_size)?;
    let page = if p.zero {
        listing::Page {
            items: Vec::new(),
            more: false,
        }
    } else {
        listing::catalog(reg, p.last, p.n).await?
    };
    let mut res = HttpResponse::Ok();
    if page.more {
        if let Some(last) = page.items.last() {
            res.insert_header(pagination::link("/v2/_catalog", p.n, last));
        }
    }
    Ok(res.json(serde_json::json!({ "repositories": page.items })))
}
