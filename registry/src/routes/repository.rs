//! `DELETE /pier/v1/repositories/<name>`: delete a whole repository (Pier's own API, not
//! OCI; outside `/v2` so that no repository name can collide with it).
//!
//! ```text
//! DELETE /pier/v1/repositories/a/b   Authorization: Bearer <token with repository:a/b:delete>
//!   → 202  metadata deleted (manifests, tags, links, uploads); bytes left to GC
//!   → 404  NAME_UNKNOWN: nothing to delete (the index's deletion job treats it as done)
//! ```
//!
//! The token is confirmed with the index, as every delete is. The index calls this from its
//! deletion worker (docs/deletion.md).

use crate::auth::access::Required;
use crate::error::{Error, Result};
use crate::services::repositories;
use crate::state::Registry;
use actix_web::{web, HttpRequest, HttpResponse};
use pier_shared::{Action, ErrorCode, RepoName, Scope};

pub const PATH: &str = "/pier/v1/repositories/{name:.*}";

pub async fn delete(req: HttpRequest, reg: web::Data<Registry>) -> Result<HttpResponse> {
    let raw = req.match_info().query("name");
    let name: RepoName = raw
        .parse()
        .map_err(|e: pier_shared::NameError| Error::oci(ErrorCode::NameInvalid, e.to_string()))?;
    let need = Required {
        needed: vec![Scope::repository(name.as_str(), &[Action::Delete])],
        mount_from: None,
        mount: false,
        always_confirm: true,
        catalog: false,
    };
    let grant = reg.auth.authorize(req.headers(), &need).await?;
    let origin = super::origin::of(&reg, &req, grant.subject.as_deref());
    repositories::delete(&reg, &origin, &name).await?;
    log::info!("repository {name} deleted");
    Ok(HttpResponse::Accepted().finish())
}
