//! The audit log (paged, filtered by action) and the token-flow page: the last flows drawn
//! as numbered steps between client, index and registry (`services::flows`).

use super::page::{page, time, urlencode, WebError};
use super::session::WebUser;
use crate::db::audit;
use crate::error::Error;
use crate::services::flows::{self, Flow, Party};
use crate::state::Index;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

const PER_PAGE: i64 = 100;
const FLOWS: usize = 20;

/// Site administrators see every event; anyone else their own (as actor).
fn actor_filter(user: &WebUser) -> Option<String> {
    (!user.subject().is_admin).then(|| user.subject().name.clone())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    before: Option<i64>,
}

/// `GET /ui/audit?action=<prefix>&before=<id>`: newest first, 100 a page.
pub async fn log(
    index: web::Data<Index>,
    user: WebUser,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, WebError> {
    index.audit.flush(&index.db).await;
    let prefix = q.action.clone().unwrap_or_default();
    let (p, before, actor) = (prefix.clone(), q.before, actor_filter(&user));
    let events = index
        .db
        .run(move |c| audit::page(c, actor.as_deref(), &p, before, PER_PAGE))
        .await
        .map_err(Error::from)?;
    let next = (events.len() as i64 == PER_PAGE)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    let body = html! {
        form.search method="get" action="/ui/audit" {
            input type="search" name="action" value=(prefix) placeholder="Action (prefix): token, v1., repository…" aria-label="Action";
            button type="submit" { "Filter" }
        }
        table.audit {
            thead { tr { th { "Time" } th { "Actor" } th { "Action" } th { "Target" } th { "Detail" } } }
            tbody {
                @for e in &events {
                    tr {
                        td data-label="Time" { (time(e.time)) }
                        td data-label="Actor" { (e.actor) }
                        td data-label="Action" { code { (e.action) } }
                        td data-label="Target" { (e.target) }
                        td.detail data-label="Detail" { (e.detail.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        @if let Some(id) = next {
            nav.pager { a rel="next" href={ "/ui/audit?action=" (urlencode(&prefix)) "&before=" (id) } { "Older →" } }
        }
    };
    Ok(page("Audit log", &user, body))
}

fn arrow(from: Party, to: Party) -> Markup {
    html! {
        span class={ "party " (from.as_str()) } { (from.as_str()) }
        span.arrow { "→" }
        span class={ "party " (to.as_str()) } { (to.as_str()) }
    }
}

fn flow_card(f: &Flow) -> Markup {
    let first = f.steps.first();
    html! {
        section.card.flow data-protocol=(f.protocol) {
            h3 {
                span class={ "badge " (f.protocol) } { (f.protocol) }
                " " (first.map_or("", |s| if s.actor.is_empty() { "anonymous" } else { s.actor.as_str() }))
                " · " code.jti { (f.jti) }
                " · " (first.map_or(String::new(), |s| time(s.time)))
            }
            ol.steps {
                @for s in &f.steps {
                    li.step data-action=(s.action) {
                        span.num { (s.number) }
                        (arrow(s.from, s.to))
                        span.what { (s.what) }
                        @if s.times > 1 { span.badge.times { "×" (s.times) } }
                        @if !s.detail.is_empty() { code.detail { (s.detail) } }
                    }
                }
            }
        }
    }
}

/// `GET /ui/flows`: the last 20 token flows (v1 and v2), as recorded.
pub async fn flows(index: web::Data<Index>, user: WebUser) -> Result<HttpResponse, WebError> {
    let flows = flows::recent(&index, actor_filter(&user), FLOWS).await?;
    let body = html! {
        p { "Each token the index issued, and each time a registry confirmed it, grouped by the token's id (" code { "jti" } "); "
            code { "docs/token-flow.md" } " describes the whole exchange." }
        p.hint data-live="5" { "Live: this page reloads every 5 seconds." }
        @if flows.is_empty() { p.empty { "No token has been issued yet." } }
        @for f in &flows { (flow_card(f)) }
    };
    Ok(page("Token flows", &user, body))
}
