//! The legacy Docker v1 index protocol (docs/legacy-v1.md): one-time tokens bound to a
//! repository and an access, the image lists of repositories, the push/pull/delete
//! workflows and search. Rules only; the wire format is in `routes::v1`.
//!
//! Every step is recorded in the audit log as `v1.*` with detail
//! `jti=<token id> repository=<ns/repo> access=<read|write|delete> …`, so that the steps
//! of one flow can be found by the token id (`pier walkthrough`, the web UI).

pub mod repositories;
pub mod search;
pub mod tokens;
pub mod users;

use super::policy::Subject;
use crate::state::Index;
use pier_shared::v1::Access;
use pier_shared::RepoName;

/// The audit detail of a step of the flow of token `jti`.
pub fn detail(jti: &str, repo: &RepoName, access: Access, extra: &str) -> String {
    let mut d = format!("jti={jti} repository={repo} access={access}");
    if !extra.is_empty() {
        d.push(' ');
        d.push_str(extra);
    }
    d
}

/// Record one v1 step.
pub fn record(index: &Index, actor: Option<&Subject>, action: &str, target: &str, detail: String) {
    let actor = actor.map_or("anonymous", |s| s.name.as_str());
    index
        .audit
        .record(&index.db, actor, action, target, Some(detail));
}
