//! The v1 repository workflows at the index: push (allocate + write token, then the
//! checksums), pull (image list + read token), delete (mark + delete token, then remove
//! the records), and the registry's checks of tokens (docs/legacy-v1.md).

use super::tokens::{self, action_of};
use super::{detail, record};
use crate::db::{self, deletions, repositories, v1, Conn};
use crate::error::{Error, Result};
use crate::services::policy::{self, Subject};
use crate::services::random;
use crate::state::Index;
use pier_shared::v1::{Access, ImageId, Token};
use pier_shared::{Action, RepoName, Scope};

/// One entry of an image list as clients send it (`{"id", "checksum", "Tag"}`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageEntry {
    pub id: ImageId,
    pub tag: Option<String>,
    pub checksum: Option<String>,
}

pub use db::v1::V1Image;

fn not_found(repo: &RepoName) -> Error {
    Error::NotFound(format!("repository {repo} not found"))
}

/// The live repository `subject` may do `action` on: 401 for anonymous callers and
/// 404 for others when not (so that private names do not leak).
fn live_with(
    conn: &mut Conn,
    subject: Option<&Subject>,
    repo: &RepoName,
    action: Action,
) -> Result<repositories::Repository> {
    let allowed = policy::repository_actions(conn, subject, repo)?.contains(&action);
    match repositories::find_live(conn, repo.as_str())? {
        Some(r) if allowed => Ok(r),
        _ if subject.is_none() => Err(Error::Unauthenticated),
        Some(_)
            if action != Action::Pull
                && policy::repository_actions(conn, subject, repo)?.contains(&Action::Pull) =>
        {
            Err(Error::Forbidden(format!(
                "you may not {} {repo}",
                format!("{action:?}").to_lowercase()
            )))
        }
        _ => Err(not_found(repo)),
    }
}

/// `PUT /v1/repositories/<repo>/`: allocate the repository if needed (push must be
/// granted), add the images to its list, and issue a write token.
pub async fn push_start(
    index: &Index,
    subject: &Subject,
    repo: &RepoName,
    images: Vec<ImageEntry>,
) -> Result<Token> {
    let (who, name, idx) = (subject.clone(), repo.clone(), index.clone());
    let count = images.len();
    let token = index
        .db
        .transaction(move |c| -> Result<Token> {
            let want = [Scope::repository(name.as_str(), &[Action::Push])];
            let granted = policy::grant(c, Some(&who), &want)?;
            if granted.scopes.is_empty() {
                return Err(Error::Forbidden(format!("you may not push to {name}")));
            }
            crate::services::tokens::allocate(c, &who, &granted.allocate)?;
            let live = repositories::find_live(c, name.as_str())?.ok_or_else(|| {
                Error::Forbidden(format!("namespace {} does not exist", name.namespace()))
            })?;
            let list: Vec<(String, Option<String>)> = images
                .into_iter()
                .map(|i| (i.id.to_string(), i.tag))
                .collect();
            v1::add_images(c, live.id, &list)?;
            tokens::create(c, &idx, Some(&who), &name, Access::Write)
        })
        .await?;
    tokens::issued(index, Some(subject), &token, &format!("images={count}"));
    Ok(token)
}

/// `GET /v1/repositories/<repo>/images` from a client: the image list, and a read token
/// if `want_token` (`X-Docker-Token: true`).
pub async fn pull(
    index: &Index,
    subject: Option<Subject>,
    repo: &RepoName,
    want_token: bool,
) -> Result<(Vec<V1Image>, Option<Token>)> {
    let (who, name, idx) = (subject.clone(), repo.clone(), index.clone());
    let (images, token) = index
        .db
        .transaction(move |c| -> Result<_> {
            let live = live_with(c, who.as_ref(), &name, Action::Pull)?;
            let images = v1::images(c, live.id)?;
            let token = if want_token {
                Some(tokens::create(c, &idx, who.as_ref(), &name, Access::Read)?)
            } else {
                None
            };
            Ok((images, token))
        })
        .await?;
    if let Some(t) = &token {
        tokens::issued(
            index,
            subject.as_ref(),
            t,
            &format!("images={}", images.len()),
        );
    }
    Ok((images, token))
}

/// `GET /v1/repositories/<repo>/images` from the registry, with the client's read or
/// write token: confirm (and use up) the token, answer the image list.
pub async fn confirm_images(index: &Index, token: &Token, repo: &RepoName) -> Result<Vec<V1Image>> {
    let via = format!("GET /v1/repositories/{repo}/images");
    tokens::confirm(index, token, repo, &[Access::Read, Access::Write], &via).await?;
    let name = repo.clone();
    index
        .db
        .run(move |c| -> Result<_> {
            match repositories::find_live(c, name.as_str())? {
                Some(live) => Ok(v1::images(c, live.id)?),
                None => Err(not_found(&name)),
            }
        })
        .await
}

/// `PUT /v1/repositories/<repo>/auth` from the registry, with the client's delete token.
pub async fn confirm_delete(index: &Index, token: &Token, repo: &RepoName) -> Result<()> {
    let via = format!("PUT /v1/repositories/{repo}/auth");
    tokens::confirm(index, token, repo, &[Access::Delete], &via).await
}

/// `PUT /v1/repositories/<repo>/images`: the push is done; record the checksums.
pub async fn push_done(
    index: &Index,
    subject: &Subject,
    repo: &RepoName,
    sums: Vec<(ImageId, String)>,
) -> Result<()> {
    let (who, name) = (subject.clone(), repo.clone());
    let count = sums.len();
    let jti = index
        .db
        .transaction(move |c| -> Result<_> {
            let live = live_with(c, Some(&who), &name, Action::Push)?;
            let sums: Vec<(String, String)> =
                sums.into_iter().map(|(i, s)| (i.to_string(), s)).collect();
            v1::set_checksums(c, live.id, &sums)?;
            Ok(v1::latest_token(c, Some(who.id), name.as_str(), "write")?)
        })
        .await?;
    let jti = jti.unwrap_or_else(|| "-".into());
    let d = detail(&jti, repo, Access::Write, &format!("checksums={count}"));
    record(index, Some(subject), "v1.images.done", repo.as_str(), d);
    Ok(())
}

/// First `DELETE /v1/repositories/<repo>/`: mark the repository deleted (no new tokens,
/// no pulls), queue the index's own deletion job after `v1.delete_grace_seconds` as a
/// safety net, and issue a delete token for the registry.
pub async fn delete_start(index: &Index, subject: &Subject, repo: &RepoName) -> Result<Token> {
    let (who, name, idx) = (subject.clone(), repo.clone(), index.clone());
    let grace = i64::try_from(index.config.v1.delete_grace_seconds).unwrap_or(i64::MAX);
    let token = index
        .db
        .transaction(move |c| -> Result<Token> {
            live_with(c, Some(&who), &name, Action::Delete)?;
            repositories::mark_deleted(c, name.as_str())?;
            let now = db::now();
            deletions::insert_at(
                c,
                &random::id(),
                name.as_str(),
                now,
                now.saturating_add(grace),
            )?;
            tokens::create(c, &idx, Some(&who), &name, Access::Delete)
        })
        .await?;
    tokens::issued(index, Some(subject), &token, "");
    let d = detail(&token.id, repo, Access::Delete, "step=mark");
    record(index, Some(subject), "v1.delete", repo.as_str(), d);
    Ok(token)
}

/// Second `DELETE /v1/repositories/<repo>/` (after the registry deleted it): remove the
/// index's records of it and let the deletion job check the registry now.
pub async fn delete_finish(index: &Index, subject: &Subject, repo: &RepoName) -> Result<()> {
    let (who, name) = (subject.clone(), repo.clone());
    let jti = index
        .db
        .transaction(move |c| -> Result<_> {
            let allowed = policy::repository_actions(c, Some(&who), &name)?;
            let gone = v1::last_deleted(c, name.as_str())?;
            let Some(gone) = gone.filter(|_| allowed.contains(&action_of(Access::Delete))) else {
                return Err(not_found(&name));
            };
            let removed = v1::delete_images(c, gone.id)?;
            let pending = deletions::due_now_for(c, name.as_str(), db::now())?;
            if removed == 0 && pending == 0 {
                return Err(not_found(&name));
            }
            Ok(v1::latest_token(c, Some(who.id), name.as_str(), "delete")?)
        })
        .await?;
    let jti = jti.unwrap_or_else(|| "-".into());
    let d = detail(&jti, repo, Access::Delete, "step=remove");
    record(index, Some(subject), "v1.delete", repo.as_str(), d);
    Ok(())
}
