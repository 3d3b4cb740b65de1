//! `GET /v1/search`: the repositories a caller may see whose name contains the term, in
//! the shape the docker daemon decodes (`docker search <index-host>/<term>`).

use crate::db::repositories;
use crate::error::Result;
use crate::services::policy::{self, Subject};
use crate::state::Index;
use serde::Serialize;

/// Most results per page (the daemon refuses to ask for more).
pub const MAX_PAGE: u32 = 100;
pub const DEFAULT_PAGE: u32 = 25;

#[derive(Debug, Serialize, PartialEq)]
pub struct Hit {
    pub name: String,
    pub description: String,
    pub star_count: u32,
    pub is_official: bool,
    pub is_automated: bool,
    pub is_trusted: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Page {
    pub query: String,
    pub num_results: usize,
    pub num_pages: usize,
    pub page: u32,
    pub page_size: u32,
    pub results: Vec<Hit>,
}

/// One page (1-based) of `page_size` hits for `q`.
pub async fn search(
    index: &Index,
    subject: Option<Subject>,
    q: String,
    page: u32,
    page_size: u32,
) -> Result<Page> {
    let page = page.max(1);
    let page_size = page_size.clamp(1, MAX_PAGE);
    let term = q.strip_prefix("library/").unwrap_or(&q).to_string();
    let who = subject.clone();
    let names = index
        .db
        .run(move |c| -> Result<Vec<String>> {
            let visible = policy::visible(c, who.as_ref())?;
            let all = repositories::list_live(c, &visible, Some(&term), 0, i64::MAX)?;
            Ok(all.into_iter().map(|r| r.name).collect())
        })
        .await?;
    let total = names.len();
    let skip = (page as usize - 1).saturating_mul(page_size as usize);
    let results = names
        .into_iter()
        .skip(skip)
        .take(page_size as usize)
        .map(|name| Hit {
            is_official: name.starts_with("library/"),
            name,
            description: String::new(),
            star_count: 0,
            is_automated: false,
            is_trusted: false,
        })
        .collect();
    let actor = subject.as_ref().map_or("anonymous", |s| s.name.as_str());
    let detail = format!("q={q} results={total}");
    index
        .audit
        .record(&index.db, actor, "v1.search", &q, Some(detail));
    Ok(Page {
        query: q,
        num_results: total,
        num_pages: total.div_ceil(page_size as usize),
        page,
        page_size,
        results,
    })
}
