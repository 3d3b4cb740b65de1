//! Repositories: the list (search, paged), a repository's page (tags read from the
//! registry), and the actions on it: delete a tag, delete the repository, visibility.

use super::cached::Cached;
use super::page::{csrf, page, size, urlencode, WebError};
use super::session::WebUser;
use crate::services::registry_client::{self, TagInfo, TagPage};
use crate::services::repositories;
use crate::state::Index;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use pier_shared::{RepoName, Tag};
use serde::Deserialize;

/// Repositories per page of the list.
const PER_PAGE: u32 = 50;
/// Tags per page of a repository (each is a few registry reads).
const TAGS_PER_PAGE: usize = 20;

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<u32>,
}

/// `GET /ui/`: the repositories the user may see, by name, 50 a page, `?q=` searching.
pub async fn list(
    index: web::Data<Index>,
    user: WebUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let page_no = query.page.unwrap_or(1).max(1);
    let q = query.q.clone().unwrap_or_default();
    let offset = i64::from(page_no - 1) * i64::from(PER_PAGE);
    let who = Some(user.subject().clone());
    // One more than a page, to know whether there is a next one.
    let limit = i64::from(PER_PAGE) + 1;
    let mut repos = repositories::list_at(&index, who, Some(q.clone()), offset, limit).await?;
    let more = repos.len() > PER_PAGE as usize;
    repos.truncate(PER_PAGE as usize);
    let names = repos.iter().map(|r| r.name.as_str());
    let cached = Cached::read(&index, user.subject(), names).await?;
    let link = |p: u32| format!("/ui/?q={}&page={p}", urlencode(&q));
    let body = html! {
        form.search method="get" action="/ui/" {
            input type="search" name="q" value=(q) placeholder="Search repositories" aria-label="Search";
            button type="submit" { "Search" }
        }
        @if repos.is_empty() { p.empty { "No repositories." } }
        ul.repos {
            @for r in &repos {
                li {
                    a.repo href={ "/ui/r/" (r.name) } { (r.name) }
                    span class={ "badge " (r.visibility) } { (r.visibility) }
                    (cached.mark(&r.name))
                    span.muted { "created " (r.created_at) }
                }
            }
        }
        nav.pager {
            @if page_no > 1 { a href=(link(page_no - 1)) { "← Previous" } }
            span { "Page " (page_no) }
            @if more { a href=(link(page_no + 1)) rel="next" { "Next →" } }
        }
    };
    Ok(page("Repositories", &user, body))
}

#[derive(Deserialize)]
pub struct TagsQuery {
    last: Option<String>,
}

fn registry_host(index: &Index) -> String {
    let url = index.config.registry.url.as_str();
    let host = url
        .split_once("://")
        .map_or(url, |(_, h)| h)
        .trim_end_matches('/');
    if host.is_empty() {
        "REGISTRY".to_string()
    } else {
        host.to_string()
    }
}

fn tag_row(user: &WebUser, name: &str, t: &TagInfo, can_delete: bool) -> Markup {
    html! {
        tr.tag data-tag=(t.tag) {
            td data-label="Tag" { strong.tagname { (t.tag) } }
            td data-label="Digest" { code.digest title=(t.digest) { (t.digest.get(..19).unwrap_or(&t.digest)) "…" } }
            td.size data-label="Size" { (size(t.size)) }
            td data-label="Platforms" {
                @if t.platforms.is_empty() { span.muted { "single image" } }
                @for p in &t.platforms { span.badge title=(p.digest) { (p.platform) " · " (size(p.size)) } " " }
            }
            td data-label="Created" { (t.created.as_deref().unwrap_or("—")) }
            td data-label="Referrers" {
                @if t.referrers.is_empty() { span.muted { "none" } }
                @for r in &t.referrers {
                    span.badge title=(r.digest) { (if r.artifact_type.is_empty() { "artifact" } else { &r.artifact_type }) } " "
                }
            }
            td data-label="" {
                @if can_delete {
                    form.inline.confirm method="post" action="/ui/actions/delete-tag" data-confirm={ "Delete tag " (t.tag) "?" } {
                        (csrf(user))
                        input type="hidden" name="repository" value=(name);
                        input type="hidden" name="tag" value=(t.tag);
                        button.danger type="submit" { "Delete tag" }
                    }
                }
            }
        }
    }
}

fn tags_table(
    user: &WebUser,
    name: &str,
    page: &TagPage,
    can_delete: bool,
    mirrored: bool,
) -> Markup {
    let empty = if mirrored {
        "No tags cached yet: they appear once pulled through the mirror."
    } else {
        "No tags yet: push one."
    };
    html! {
        @if page.tags.is_empty() { p.empty { (empty) } }
        @else {
            table.tags {
                thead { tr { th { "Tag" } th { "Digest" } th { "Size" } th { "Platforms" } th { "Created" } th { "Referrers" } th {} } }
                tbody { @for t in &page.tags { (tag_row(user, name, t, can_delete)) } }
            }
        }
        @if let Some(last) = &page.next {
            nav.pager { a rel="next" href={ "/ui/r/" (name) "?last=" (urlencode(last)) } { "More tags →" } }
        }
    }
}

/// `GET /ui/r/{name}`: a repository, its tags (from the registry) and what the user may do.
pub async fn show(
    index: web::Data<Index>,
    user: WebUser,
    name: web::Path<String>,
    query: web::Query<TagsQuery>,
) -> Result<HttpResponse, WebError> {
    let rights = repositories::rights(&index, user.subject(), &name).await?;
    let repo: RepoName = rights
        .repository
        .name
        .parse()
        .map_err(|_| crate::error::Error::Internal("stored name invalid".into()))?;
    let last = match query.last.as_deref() {
        Some(l) => Some(
            l.parse::<Tag>()
                .map_err(|_| crate::error::Error::BadRequest(format!("invalid tag {l:?}")))?,
        ),
        None => None,
    };
    let tags =
        registry_client::tags(&index, user.subject(), &repo, last.as_ref(), TAGS_PER_PAGE).await;
    let cached = Cached::read(&index, user.subject(), [repo.as_str()]).await?;
    let r = &rights.repository;
    let pull = format!("docker pull {}/{}", registry_host(&index), r.name);
    let body = html! {
        section.card.summary {
            p { span class={ "badge " (r.visibility) } { (r.visibility) } " · created " (r.created_at) " " (cached.mark(&r.name)) }
            div.pull {
                code id="pull" { (pull) }
                button.copy type="button" data-copy="pull" { "Copy" }
            }
        }
        h2 { "Tags" }
        @match &tags {
            Ok(page) => (tags_table(&user, &r.name, page, rights.delete, cached.is_mirrored(&r.name))),
            Err(e) => p.error { "The registry could not be read: " (e.public_detail()) },
        }
        @if rights.manage {
            h2 { "Manage" }
            section.card.manage {
                form.inline method="post" action="/ui/actions/visibility" {
                    (csrf(&user))
                    input type="hidden" name="repository" value=(r.name);
                    @let other = if r.visibility == "public" { "private" } else { "public" };
                    input type="hidden" name="visibility" value=(other);
                    button type="submit" { "Make " (other) }
                }
                form.inline.confirm method="post" action="/ui/actions/delete-repository" data-confirm={ "Delete " (r.name) " and every tag in it?" } {
                    (csrf(&user))
                    input type="hidden" name="repository" value=(r.name);
                    button.danger type="submit" { "Delete repository" }
                }
            }
        }
    };
    Ok(page(&r.name, &user, body))
}

#[derive(Deserialize)]
pub struct TagForm {
    csrf: String,
    repository: String,
    tag: String,
}

fn back_to(name: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", format!("/ui/r/{name}")))
        .finish()
}

fn bad(what: &str, v: &str) -> WebError {
    crate::error::Error::BadRequest(format!("invalid {what} {v:?}")).into()
}

/// `POST /ui/actions/delete-tag`: DELETE the tag at the registry with a token the
/// user's rights allow (403 without delete).
pub async fn delete_tag(
    index: web::Data<Index>,
    user: WebUser,
    form: web::Form<TagForm>,
) -> Result<HttpResponse, WebError> {
    user.check(&form.csrf)?;
    let name: RepoName = form
        .repository
        .parse()
        .map_err(|_| bad("repository", &form.repository))?;
    let tag: Tag = form.tag.parse().map_err(|_| bad("tag", &form.tag))?;
    let rights = repositories::rights(&index, user.subject(), name.as_str()).await?;
    if !rights.delete {
        return Err(crate::error::Error::Forbidden(format!(
            "you may not delete in {}",
            name.as_str()
        ))
        .into());
    }
    registry_client::delete_tag(&index, user.subject(), &name, &tag).await?;
    Ok(back_to(name.as_str()))
}

#[derive(Deserialize)]
pub struct RepoForm {
    csrf: String,
    repository: String,
    visibility: Option<String>,
}

/// `POST /ui/actions/delete-repository`: the index's deletion flow (mark deleted now,
/// the registry's copy removed by the deletion worker).
pub async fn delete(
    index: web::Data<Index>,
    user: WebUser,
    form: web::Form<RepoForm>,
) -> Result<HttpResponse, WebError> {
    user.check(&form.csrf)?;
    repositories::delete(&index, Some(user.subject()), &form.repository).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/ui/"))
        .finish())
}

/// `POST /ui/actions/visibility`
pub async fn visibility(
    index: web::Data<Index>,
    user: WebUser,
    form: web::Form<RepoForm>,
) -> Result<HttpResponse, WebError> {
    user.check(&form.csrf)?;
    let vis = form.visibility.as_deref().unwrap_or_default();
    let view =
        repositories::set_visibility(&index, Some(user.subject()), &form.repository, vis).await?;
    Ok(back_to(&view.name))
}
