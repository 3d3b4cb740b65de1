//! Refresh tokens (login sessions) as their owner sees them: list and revoke. Revoking one
//! makes every access token issued from it (its `rti`) inactive at `/introspect`.

use super::policy::Subject;
use crate::db::now;
use crate::db::refresh_tokens::{self, RefreshToken};
use crate::error::{Error, Result};
use crate::state::Index;

#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionView {
    pub id: String,
    pub client_id: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub active: bool,
}

fn rfc3339(t: i64) -> String {
    let t = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl From<RefreshToken> for SessionView {
    fn from(t: RefreshToken) -> Self {
        SessionView {
            active: t.is_valid_at(now()),
            id: t.id,
            client_id: t.client_id,
            created_at: rfc3339(t.created_at),
            expires_at: rfc3339(t.expires_at),
            revoked_at: t.revoked_at.map(rfc3339),
        }
    }
}

pub async fn list(index: &Index, subject: &Subject) -> Result<Vec<SessionView>> {
    let id = subject.id;
    let all = index
        .db
        .run(move |c| Ok::<_, Error>(refresh_tokens::list_for_user(c, id)?))
        .await?;
    Ok(all.into_iter().map(SessionView::from).collect())
}

/// Revoke one of `subject`'s refresh tokens (admins: anyone's).
pub async fn revoke(index: &Index, subject: &Subject, id: &str) -> Result<()> {
    let (who, owned) = (subject.clone(), id.to_string());
    index
        .db
        .transaction(move |c| -> Result<()> {
            let missing = || Error::NotFound(format!("no refresh token {owned}"));
            let t = refresh_tokens::find(c, &owned)?.ok_or_else(missing)?;
            if t.user_id != who.id && !who.is_admin {
                return Err(missing());
            }
            refresh_tokens::revoke(c, &owned)?;
            Ok(())
        })
        .await?;
    index
        .audit
        .record(&index.db, &subject.name, "refresh_token.revoke", id, None);
    Ok(())
}
