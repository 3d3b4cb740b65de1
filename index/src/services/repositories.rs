//! Repositories as the API shows them: listing what a caller may see, one repository,
//! visibility changes and deletion (by those who manage the namespace).

use super::policy::{self, Subject};
use super::random;
use crate::db::repositories::{self, Repository};
use crate::db::{deletions, namespaces, now, Conn};
use crate::error::{Error, Result};
use crate::state::Index;
use pier_shared::RepoName;

#[derive(Debug, Clone, serde::Serialize)]
pub struct RepositoryView {
    pub name: String,
    pub namespace: String,
    pub visibility: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<Repository> for RepositoryView {
    fn from(r: Repository) -> Self {
        let name: Result<RepoName, _> = r.name.parse();
        let namespace = name.map(|n| n.namespace().to_string()).unwrap_or_default();
        let created = chrono::DateTime::from_timestamp(r.created_at, 0).unwrap_or_default();
        RepositoryView {
            namespace,
            name: r.name,
            visibility: r.visibility,
            created_at: created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

fn parse(name: &str) -> Result<RepoName> {
    name.parse()
        .map_err(|_| Error::BadRequest(format!("invalid repository name {name:?}")))
}

pub async fn list(
    index: &Index,
    subject: Option<Subject>,
    q: Option<String>,
    page: u32,
    per_page: u32,
) -> Result<Vec<RepositoryView>> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    list_at(index, subject, q, offset, per_page.into()).await
}

/// `limit` repositories `subject` may see, from `offset`, by name.
pub async fn list_at(
    index: &Index,
    subject: Option<Subject>,
    q: Option<String>,
    offset: i64,
    limit: i64,
) -> Result<Vec<RepositoryView>> {
    index
        .db
        .run(move |c| -> Result<Vec<RepositoryView>> {
            let visible = policy::visible(c, subject.as_ref())?;
            let repos = repositories::list_live(c, &visible, q.as_deref(), offset, limit)?;
            Ok(repos.into_iter().map(RepositoryView::from).collect())
        })
        .await
}

/// The live repository, if `subject` may pull it (else "not found", to not leak names).
fn visible_repo(conn: &mut Conn, subject: Option<&Subject>, name: &RepoName) -> Result<Repository> {
    let missing = || Error::NotFound(format!("no repository {}", name.as_str()));
    let repo = repositories::find_live(conn, name.as_str())?.ok_or_else(missing)?;
    let actions = policy::repository_actions(conn, subject, name)?;
    if !actions.contains(&pier_shared::Action::Pull) {
        return Err(missing());
    }
    Ok(repo)
}

pub async fn get(index: &Index, subject: Option<Subject>, name: &str) -> Result<RepositoryView> {
    let name = parse(name)?;
    index
        .db
        .run(move |c| Ok(visible_repo(c, subject.as_ref(), &name)?.into()))
        .await
}

/// Check that `subject` manages the namespace of the visible repository `name`.
fn managed_repo(conn: &mut Conn, subject: &Subject, name: &RepoName) -> Result<Repository> {
    let repo = visible_repo(conn, Some(subject), name)?;
    let ns = namespaces::find(conn, name.namespace())?
        .ok_or_else(|| Error::Internal(format!("repository {} has no namespace", repo.name)))?;
    if !policy::can_manage(conn, subject, &ns)? {
        return Err(Error::Forbidden(format!("you do not manage {}", ns.name)));
    }
    Ok(repo)
}

/// Set visibility (`public` / `private`); `subject: None` is the CLI (no check).
pub async fn set_visibility(
    index: &Index,
    subject: Option<&Subject>,
    name: &str,
    visibility: &str,
) -> Result<RepositoryView> {
    if visibility != repositories::PUBLIC && visibility != repositories::PRIVATE {
        return Err(Error::BadRequest("visibility is public or private".into()));
    }
    let (who, repo, vis) = (subject.cloned(), parse(name)?, visibility.to_string());
    let view = index
        .db
        .transaction(move |c| -> Result<RepositoryView> {
            if let Some(who) = &who {
                managed_repo(c, who, &repo)?;
            }
            if !repositories::set_visibility(c, repo.as_str(), &vis)? {
                return Err(Error::NotFound(format!("no repository {}", repo.as_str())));
            }
            let updated = repositories::find_live(c, repo.as_str())?;
            updated
                .map(Into::into)
                .ok_or_else(|| Error::Internal("vanished".into()))
        })
        .await?;
    let actor = subject.map_or("cli", |s| s.name.as_str());
    index.audit.record(
        &index.db,
        actor,
        "repository.visibility",
        name,
        Some(visibility.into()),
    );
    Ok(view)
}

/// Mark a repository deleted — tokens issued before lose their access to it at once —
/// and record the job that deletes it at the registry (`services::deletions`), in one
/// transaction. `subject: None` is the CLI (no check).
pub async fn delete(index: &Index, subject: Option<&Subject>, name: &str) -> Result<()> {
    let (who, repo) = (subject.cloned(), parse(name)?);
    index
        .db
        .transaction(move |c| -> Result<()> {
            if let Some(who) = &who {
                managed_repo(c, who, &repo)?;
            }
            if !repositories::mark_deleted(c, repo.as_str())? {
                return Err(Error::NotFound(format!("no repository {}", repo.as_str())));
            }
            deletions::insert(c, &random::id(), repo.as_str(), now())?;
            Ok(())
        })
        .await?;
    let actor = subject.map_or("cli", |s| s.name.as_str());
    index
        .audit
        .record(&index.db, actor, "repository.delete", name, None);
    Ok(())
}

/// What the web UI may offer `subject` on a repository it can see.
#[derive(Debug, Clone)]
pub struct Rights {
    pub repository: RepositoryView,
    /// May delete tags (and manifests) at the registry.
    pub delete: bool,
    /// Manages the namespace: visibility, repository deletion.
    pub manage: bool,
}

/// The repository `name` and `subject`'s rights on it ("not found" if it may not pull).
pub async fn rights(index: &Index, subject: &Subject, name: &str) -> Result<Rights> {
    let (who, name) = (subject.clone(), parse(name)?);
    index
        .db
        .run(move |c| -> Result<Rights> {
            let repo = visible_repo(c, Some(&who), &name)?;
            let actions = policy::repository_actions(c, Some(&who), &name)?;
            let manage = match namespaces::find(c, name.namespace())? {
                Some(ns) => policy::can_manage(c, &who, &ns)?,
                None => false,
            };
            Ok(Rights {
                repository: repo.into(),
                delete: actions.contains(&pier_shared::Action::Delete),
                manage,
            })
        })
        .await
}
