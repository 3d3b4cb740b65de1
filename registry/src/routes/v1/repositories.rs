//! `/v1/repositories/<ns>/<repo>/…` (a one-component name is `library/<repo>`):
//!
//! ```text
//! GET    …/tags          {"<tag>": "<image id>"}        (read)
//! GET    …/tags/<tag>    "<image id>"                   (read)
//! PUT    …/tags/<tag>    body "<image id>" (JSON string) → 200 true   (write)
//! DELETE …/tags/<tag>    → 200 true                      (delete)
//! DELETE …/              the whole repository → 200 true (delete, confirmed with PUT …/auth)
//! ```

use super::{authorize, json, ok_true, then, Refusal, Result};
use crate::services::v1::{tags, Need, V1Error};
use crate::state::Registry;
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use pier_shared::v1::{self, Access, ImageId};
use pier_shared::RepoName;

enum Target {
    Repository,
    Tags,
    Tag(String),
}

fn bad(msg: impl Into<String>) -> Refusal {
    Refusal::from(V1Error::BadRequest(msg.into()))
}

fn parse(tail: &str) -> Result<(RepoName, Target)> {
    let parts: Vec<&str> = tail.split('/').collect();
    let (repo, target) = match parts.as_slice() {
        [repo @ .., ""] => (repo.to_vec(), Target::Repository),
        [ns, name, "tags"] => (vec![*ns, *name], Target::Tags),
        [ns, name, "tags", tag] => (vec![*ns, *name], Target::Tag(tag.to_string())),
        [name, "tags"] => (vec![*name], Target::Tags),
        [name, "tags", tag] => (vec![*name], Target::Tag(tag.to_string())),
        _ => return Err(V1Error::NotFound("no such endpoint".into()).into()),
    };
    let repo = v1::repository(&repo).map_err(bad)?;
    if let Target::Tag(t) = &target {
        if !v1::valid_tag(t) {
            return Err(bad(format!("invalid tag {t:?}")));
        }
    }
    Ok((repo, target))
}

pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    reg: web::Data<Registry>,
) -> Result<HttpResponse> {
    let limit = reg.config.limits.json_max_bytes;
    let body = match payload.to_bytes_limited(limit).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return Err(V1Error::BadRequest(format!("reading the body: {e}")).into()),
        Err(_) => return Err(V1Error::TooLarge(limit).into()),
    };
    let (repo, target) = parse(req.match_info().query("tail"))?;
    let m = req.method().clone();
    let access = match (&target, &m) {
        (Target::Tags | Target::Tag(_), &Method::GET) => Access::Read,
        (Target::Tag(_), &Method::PUT) => Access::Write,
        (Target::Tag(_) | Target::Repository, &Method::DELETE) => Access::Delete,
        _ => return Err(V1Error::NotFound(format!("{m} is not supported here")).into()),
    };
    let need = Need {
        access,
        repository: Some(&repo),
    };
    let auth = authorize(&reg, &req, need).await?;
    then(&auth, async {
        match (target, m) {
            (Target::Tags, _) => Ok(json(&auth, &tags::list(&reg, &repo).await?)),
            (Target::Tag(t), Method::GET) => Ok(json(&auth, &tags::get(&reg, &repo, &t).await?)),
            (Target::Tag(t), Method::PUT) => {
                let not_string =
                    || V1Error::BadRequest("the body must be a JSON string: the image id".into());
                let value: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|_| not_string())?;
                let image: ImageId = value
                    .as_str()
                    .ok_or_else(not_string)?
                    .parse()
                    .map_err(V1Error::BadRequest)?;
                tags::put(&reg, &repo, &t, &image).await?;
                Ok(ok_true(&auth))
            }
            (Target::Tag(t), _) => {
                tags::delete(&reg, &repo, &t).await?;
                Ok(ok_true(&auth))
            }
            (Target::Repository, _) => {
                // A v1 session does not keep the token's subject: the event has no actor.
                let origin = crate::routes::origin::of(&reg, &req, None);
                tags::delete_repository(&reg, &origin, &repo).await?;
                log::info!("v1: repository {repo} deleted");
                Ok(ok_true(&auth))
            }
        }
    })
    .await
}
