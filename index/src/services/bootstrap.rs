//! First start: create the `admin` user (site admin) if there is none. Synchronous, so
//! that `server::bind` has done it before it returns.

use crate::db::audit::NewEvent;
use crate::db::{audit, namespaces, now, users};
use crate::error::{Error, Result};
use crate::state::Index;

/// Create `admin` unless it exists, with `admin.password` or a generated password.
/// Returns the password only when it was generated, for the caller to print once.
pub fn ensure_admin(index: &Index) -> Result<Option<String>> {
    if index
        .db
        .run_sync(|c| Ok::<_, Error>(users::find(c, "admin")?))?
        .is_some()
    {
        return Ok(None);
    }
    let configured = index.config.admin.password.expose();
    let generated = configured.is_empty().then(super::random::password);
    let password = generated.as_deref().unwrap_or(configured);
    super::users::validate_password(password)?;
    let hash = bcrypt::hash(password, index.config.passwords.bcrypt_cost)
        .map_err(|e| Error::Internal(e.to_string()))?;
    index.db.transaction_sync(|c| -> Result<()> {
        if users::find(c, "admin")?.is_some() {
            return Ok(()); // another process won the race; its password stands
        }
        users::insert(c, "admin", &hash, None, true)?;
        if namespaces::find(c, "admin")?.is_none() {
            namespaces::insert(c, "admin", namespaces::USER)?;
        }
        let event = NewEvent {
            time: now(),
            actor: "bootstrap".into(),
            action: "user.create".into(),
            target: "admin".into(),
            detail: Some("admin=true".into()),
        };
        Ok(audit::insert_all(c, &[event])?)
    })?;
    Ok(generated)
}
