//! Namespaces: organizations (create), and a namespace's teams with their roles and
//! members (create a team, add or remove a member) for those who manage it.

use super::page::{csrf, page, urlencode, WebError};
use super::session::WebUser;
use crate::services::namespaces::{self, TeamView};
use crate::state::Index;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

/// `GET /ui/namespaces`: your own namespace and the organizations.
pub async fn list(index: web::Data<Index>, user: WebUser) -> Result<HttpResponse, WebError> {
    let orgs = namespaces::list_orgs(&index).await?;
    let me = &user.subject().name;
    let body = html! {
        ul.repos {
            li { a href={ "/ui/namespaces/" (me) } { (me) } span.badge { "user" } }
            @for o in &orgs {
                li {
                    a href={ "/ui/namespaces/" (o.name) } { (o.name) }
                    span.badge { "organization" }
                    span.muted { "owners: " (o.owners.join(", ")) }
                }
            }
        }
        h2 { "New organization" }
        form.card.inline-form method="post" action="/ui/actions/org" {
            (csrf(&user))
            label { "Name" input name="name" required; }
            button type="submit" { "Create organization" }
        }
    };
    Ok(page("Namespaces", &user, body))
}

fn team_card(user: &WebUser, ns: &str, t: &TeamView, manage: bool) -> Markup {
    html! {
        section.card.team data-team=(t.name) {
            h3 { (t.name) " " span.badge { (t.role) } }
            ul.members {
                @for m in &t.members {
                    li {
                        (m)
                        @if manage {
                            form.inline method="post" action="/ui/actions/member" {
                                (csrf(user))
                                input type="hidden" name="namespace" value=(ns);
                                input type="hidden" name="team" value=(t.name);
                                input type="hidden" name="user" value=(m);
                                input type="hidden" name="op" value="remove";
                                button.danger.small type="submit" { "Remove" }
                            }
                        }
                    }
                }
            }
            @if manage {
                form.inline method="post" action="/ui/actions/member" {
                    (csrf(user))
                    input type="hidden" name="namespace" value=(ns);
                    input type="hidden" name="team" value=(t.name);
                    input type="hidden" name="op" value="add";
                    input name="user" required placeholder="user" aria-label="User to add";
                    button type="submit" { "Add member" }
                }
            }
        }
    }
}

/// `GET /ui/namespaces/{ns}`: its teams (members and managers only) and repositories.
pub async fn show(
    index: web::Data<Index>,
    user: WebUser,
    ns: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let manage = namespaces::manages(&index, user.subject(), &ns).await?;
    let teams = match namespaces::list_teams(&index, user.subject(), &ns).await {
        Ok(t) => t,
        Err(crate::error::Error::Forbidden(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let body = html! {
        p { a href={ "/ui/?q=" (urlencode(&format!("{ns}/"))) } { "Repositories in " (ns) } }
        h2 { "Teams" }
        @if teams.is_empty() { p.empty { "No teams you can see." } }
        @for t in &teams { (team_card(&user, &ns, t, manage)) }
        @if manage {
            h2 { "New team" }
            form.card.inline-form method="post" action="/ui/actions/team" {
                (csrf(&user))
                input type="hidden" name="namespace" value=(ns);
                label { "Name" input name="name" required; }
                label { "Role" select name="role" { option { "read" } option { "write" } option { "admin" } } }
                button type="submit" { "Create team" }
            }
        }
    };
    Ok(page(&ns, &user, body))
}

#[derive(Deserialize)]
pub struct OrgForm {
    csrf: String,
    name: String,
}

fn to_namespace(ns: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", format!("/ui/namespaces/{}", urlencode(ns))))
        .finish()
}

/// `POST /ui/actions/org`
pub async fn create_org(
    index: web::Data<Index>,
    user: WebUser,
    form: web::Form<OrgForm>,
) -> Result<HttpResponse, WebError> {
    user.check(&form.csrf)?;
    let org = namespaces::create_org(&index, user.subject(), &form.name).await?;
    Ok(to_namespace(&org.name))
}

#[derive(Deserialize)]
pub struct TeamForm {
    csrf: String,
    namespace: String,
    name: String,
    role: String,
}

/// `POST /ui/actions/team`
pub async fn create_team(
    index: web::Data<Index>,
    user: WebUser,
    form: web::Form<TeamForm>,
) -> Result<HttpResponse, WebError> {
    user.check(&form.csrf)?;
    namespaces::create_team(
        &index,
        user.subject(),
        &form.namespace,
        &form.name,
        &form.role,
    )
    .await?;
    Ok(to_namespace(&form.namespace))
}

#[derive(Deserialize)]
pub struct MemberForm {
    csrf: String,
    namespace: String,
    team: String,
    user: String,
    op: String,
}

/// `POST /ui/actions/member`: `op` is `add` or `remove`.
pub async fn member(
    index: web::Data<Index>,
    user: WebUser,
    form: web::Form<MemberForm>,
) -> Result<HttpResponse, WebError> {
    user.check(&form.csrf)?;
    let add = match form.op.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Err(crate::error::Error::BadRequest("op is add or remove".into()).into()),
    };
    let f = &form;
    namespaces::set_member(&index, user.subject(), &f.namespace, &f.team, &f.user, add).await?;
    Ok(to_namespace(&form.namespace))
}
