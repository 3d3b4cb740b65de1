//! `GET /v1/search?q=<term>&n=<page size>&page=<page>` → the repositories the caller may
//! see whose name contains the term, as `docker search <index-host>/<term>` decodes it.

use super::{basic_subject, json, V1Result};
use crate::services::v1::search::{self as v1search, DEFAULT_PAGE};
use crate::state::Index;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Query {
    #[serde(default)]
    q: String,
    n: Option<String>,
    page: Option<String>,
}

fn number(v: Option<&str>, default: u32) -> V1Result<u32> {
    match v {
        None | Some("") => Ok(default),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| super::bad_request(format!("{s:?} is not a positive number"))),
    }
}

pub async fn search(
    req: HttpRequest,
    query: web::Query<Query>,
    index: web::Data<Index>,
) -> V1Result<HttpResponse> {
    let subject = basic_subject(&index, &req).await?;
    let n = number(query.n.as_deref(), DEFAULT_PAGE)?;
    let page = number(query.page.as_deref(), 1)?;
    let found = v1search::search(&index, subject, query.q.clone(), page, n).await?;
    Ok(json(StatusCode::OK, &found))
}
