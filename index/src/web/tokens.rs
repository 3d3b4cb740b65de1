//! Personal access tokens: the list, the create form (the secret is shown once, on the
//! page that answers the form), revoke.

use super::page::{csrf, page, time, WebError};
use super::session::WebUser;
use crate::services::access_tokens::{self, AccessTokenView, PatScope};
use crate::state::Index;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use pier_shared::Action;
use serde::Deserialize;

fn token_table(user: &WebUser, tokens: &[AccessTokenView]) -> Markup {
    html! {
        @if tokens.is_empty() { p.empty { "No access tokens yet." } }
        @else {
            table.tokens {
                thead { tr { th { "Name" } th { "Repositories" } th { "Actions" } th { "Created" } th { "Expires" } th { "Last used" } th { "State" } th {} } }
                tbody {
                    @for t in tokens {
                        tr data-token=(t.name) {
                            td data-label="Name" { strong { (t.name) } }
                            td data-label="Repositories" { @if t.repositories.is_empty() { "all" } @else { code { (t.repositories) } } }
                            td data-label="Actions" { (t.actions) }
                            td data-label="Created" { (time(t.created_at)) }
                            td data-label="Expires" { (t.expires_at.map_or("never".into(), time)) }
                            td data-label="Last used" { (t.last_used_at.map_or("never".into(), time)) }
                            td data-label="State" {
                                @if t.active { span.badge.public { "active" } }
                                @else if t.revoked_at.is_some() { span.badge.private { "revoked" } }
                                @else { span.badge.private { "expired" } }
                            }
                            td {
                                @if t.revoked_at.is_none() {
                                    form.inline.confirm method="post" action="/ui/tokens/revoke" data-confirm={ "Revoke " (t.name) "?" } {
                                        (csrf(user))
                                        input type="hidden" name="id" value=(t.id);
                                        button.danger type="submit" { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn create_form(user: &WebUser) -> Markup {
    html! {
        h2 { "New token" }
        form.card.create method="post" action="/ui/tokens" {
            (csrf(user))
            label { "Name" input name="name" required maxlength="100" placeholder="ci-pipeline"; }
            label { "Repositories (" code { "ns/repo" } " or " code { "ns/*" } ", space-separated; empty: all yours)"
                input name="repositories" placeholder="alice/app team/*"; }
            fieldset.actions {
                legend { "Actions" }
                label.check { input type="checkbox" name="pull" value="on" checked; "pull" }
                label.check { input type="checkbox" name="push" value="on"; "push" }
                label.check { input type="checkbox" name="delete" value="on"; "delete" }
            }
            label { "Expires after"
                select name="days" {
                    option value="7" { "7 days" }
                    option value="30" selected { "30 days" }
                    option value="90" { "90 days" }
                    option value="366" { "1 year" }
                    option value="never" { "never" }
                }
            }
            button type="submit" { "Create token" }
        }
    }
}

/// `GET /ui/tokens`
pub async fn list(index: web::Data<Index>, user: WebUser) -> Result<HttpResponse, WebError> {
    let tokens = access_tokens::list(&index, user.subject()).await?;
    let body = html! {
        p { "Use a token instead of your password: "
            code { "docker login -u " (user.subject().name) " REGISTRY" } " or "
            code { "skopeo --creds " (user.subject().name) ":TOKEN" } "." }
        (token_table(&user, &tokens))
        (create_form(&user))
    };
    Ok(page("Access tokens", &user, body))
}

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    name: String,
    #[serde(default)]
    repositories: String,
    pull: Option<String>,
    push: Option<String>,
    delete: Option<String>,
    days: String,
}

/// `POST /ui/tokens`: create; the answer is the only page that ever shows the secret.
pub async fn create(
    index: web::Data<Index>,
    user: WebUser,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, WebError> {
    user.check(&form.csrf)?;
    let actions: Vec<Action> = [
        (&form.pull, Action::Pull),
        (&form.push, Action::Push),
        (&form.delete, Action::Delete),
    ]
    .into_iter()
    .filter(|(on, _)| on.is_some())
    .map(|(_, a)| a)
    .collect();
    let scope = PatScope::parse(&form.repositories, &actions)?;
    let days = match form.days.as_str() {
        "never" => None,
        d => Some(
            d.parse::<u32>()
                .map_err(|_| crate::error::Error::BadRequest(format!("invalid expiry {d:?}")))?,
        ),
    };
    let created = access_tokens::create(&index, user.subject(), &form.name, scope, days).await?;
    let tokens = access_tokens::list(&index, user.subject()).await?;
    let body = html! {
        section.card.secret {
            p { "Token " strong { (created.token.name) } " created. Copy it now: it is not shown again." }
            div.pull {
                code id="secret" { (created.secret) }
                button.copy type="button" data-copy="secret" { "Copy" }
            }
        }
        (token_table(&user, &tokens))
        (create_form(&user))
    };
    Ok(page("Access tokens", &user, body))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
    id: String,
}

/// `POST /ui/tokens/revoke`
pub async fn revoke(
    index: web::Data<Index>,
    user: WebUser,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, WebError> {
    user.check(&form.csrf)?;
    access_tokens::revoke(&index, user.subject(), &form.id).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/ui/tokens"))
        .finish())
}
