//! Organizations and teams: creating an organization (its creator owns it), teams with a
//! role in a namespace, and their members. Managing a namespace's teams takes
//! `policy::can_manage` (its user, an org owner, or a site admin).

use super::policy::{self, Subject};
use super::users::validate_name;
use crate::db::namespaces::{self, Namespace};
use crate::db::teams::{self, Team};
use crate::db::{users, Conn};
use crate::error::{Error, Result};
use crate::state::Index;

/// A team as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TeamView {
    pub namespace: String,
    pub name: String,
    pub role: String,
    pub members: Vec<String>,
}

/// An organization as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrgView {
    pub name: String,
    pub owners: Vec<String>,
}

fn find_namespace(conn: &mut Conn, name: &str) -> Result<Namespace> {
    namespaces::find(conn, name)?.ok_or_else(|| Error::NotFound(format!("no namespace {name}")))
}

/// The namespace, if `subject` may manage it.
fn managed(conn: &mut Conn, subject: &Subject, name: &str) -> Result<Namespace> {
    let ns = find_namespace(conn, name)?;
    if !policy::can_manage(conn, subject, &ns)? {
        return Err(Error::Forbidden(format!("you do not manage {name}")));
    }
    Ok(ns)
}

fn team(conn: &mut Conn, ns: &Namespace, name: &str) -> Result<Team> {
    teams::find(conn, ns.id, name)?
        .ok_or_else(|| Error::NotFound(format!("no team {name} in {}", ns.name)))
}

fn view(conn: &mut Conn, ns: &Namespace, t: Team) -> Result<TeamView> {
    Ok(TeamView {
        namespace: ns.name.clone(),
        members: teams::member_names(conn, t.id)?,
        name: t.name,
        role: t.role,
    })
}

pub async fn create_org(index: &Index, subject: &Subject, name: &str) -> Result<OrgView> {
    validate_name(name)?;
    let (who, owned) = (subject.clone(), name.to_string());
    let org = index
        .db
        .transaction(move |c| -> Result<OrgView> {
            if namespaces::find(c, &owned)?.is_some() || users::find(c, &owned)?.is_some() {
                return Err(Error::Conflict(format!("the name {owned} is taken")));
            }
            let ns = namespaces::insert(c, &owned, namespaces::ORG)?;
            namespaces::add_owner(c, ns.id, who.id)?;
            Ok(OrgView {
                name: ns.name,
                owners: vec![who.name.clone()],
            })
        })
        .await?;
    index
        .audit
        .record(&index.db, &subject.name, "org.create", name, None);
    Ok(org)
}

pub async fn list_orgs(index: &Index) -> Result<Vec<OrgView>> {
    index
        .db
        .run(|c| -> Result<Vec<OrgView>> {
            let orgs = namespaces::list(c, namespaces::ORG)?;
            orgs.into_iter()
                .map(|ns| {
                    let owners = namespaces::owner_names(c, ns.id)?;
                    Ok(OrgView {
                        name: ns.name,
                        owners,
                    })
                })
                .collect()
        })
        .await
}

pub async fn create_team(
    index: &Index,
    subject: &Subject,
    namespace: &str,
    name: &str,
    role: &str,
) -> Result<TeamView> {
    validate_name(name)?;
    if policy::role_actions(role).is_empty() {
        return Err(Error::BadRequest("role is admin, write or read".into()));
    }
    let (who, ns_name, owned, role) = (
        subject.clone(),
        namespace.to_string(),
        name.to_string(),
        role.to_string(),
    );
    let team = index
        .db
        .transaction(move |c| -> Result<TeamView> {
            let ns = managed(c, &who, &ns_name)?;
            if teams::find(c, ns.id, &owned)?.is_some() {
                return Err(Error::Conflict(format!("{ns_name} has a team {owned}")));
            }
            let t = teams::insert(c, ns.id, &owned, &role)?;
            view(c, &ns, t)
        })
        .await?;
    let target = format!("{namespace}/{name}");
    index.audit.record(
        &index.db,
        &subject.name,
        "team.create",
        &target,
        Some(team.role.clone()),
    );
    Ok(team)
}

/// Teams of a namespace (for those who manage it, and for members of its teams).
pub async fn list_teams(
    index: &Index,
    subject: &Subject,
    namespace: &str,
) -> Result<Vec<TeamView>> {
    let (who, ns_name) = (subject.clone(), namespace.to_string());
    index
        .db
        .run(move |c| -> Result<Vec<TeamView>> {
            let ns = find_namespace(c, &ns_name)?;
            let member = !teams::roles_in(c, ns.id, who.id)?.is_empty();
            if !member && !policy::can_manage(c, &who, &ns)? {
                return Err(Error::Forbidden(format!("you are not in {ns_name}")));
            }
            let all = teams::list(c, ns.id)?;
            all.into_iter().map(|t| view(c, &ns, t)).collect()
        })
        .await
}

/// Add (`true`) or remove (`false`) `user` in a team.
pub async fn set_member(
    index: &Index,
    subject: &Subject,
    namespace: &str,
    team_name: &str,
    user: &str,
    member: bool,
) -> Result<TeamView> {
    let (who, ns_name, t_name, u_name) = (
        subject.clone(),
        namespace.to_string(),
        team_name.to_string(),
        user.to_string(),
    );
    let team = index
        .db
        .transaction(move |c| -> Result<TeamView> {
            let ns = managed(c, &who, &ns_name)?;
            let t = team(c, &ns, &t_name)?;
            let u = users::find(c, &u_name)?
                .ok_or_else(|| Error::NotFound(format!("no user {u_name}")))?;
            if member {
                teams::add_member(c, t.id, u.id)?;
            } else if !teams::remove_member(c, t.id, u.id)? {
                return Err(Error::NotFound(format!("{u_name} is not in {t_name}")));
            }
            view(c, &ns, t)
        })
        .await?;
    let action = if member {
        "team.add_member"
    } else {
        "team.remove_member"
    };
    let target = format!("{namespace}/{team_name}");
    index.audit.record(
        &index.db,
        &subject.name,
        action,
        &target,
        Some(user.to_string()),
    );
    Ok(team)
}

/// May `subject` manage the namespace `name` (teams, members)? Not found if it does not exist.
pub async fn manages(index: &Index, subject: &Subject, name: &str) -> Result<bool> {
    let (who, owned) = (subject.clone(), name.to_string());
    index
        .db
        .run(move |c| -> Result<bool> {
            let ns = find_namespace(c, &owned)?;
            Ok(policy::can_manage(c, &who, &ns)?)
        })
        .await
}
