//! User accounts: create (with the user's own namespace), list, disable/enable, passwords,
//! and importing an htpasswd file. `actor` names who did it, for the audit trail.

use super::random;
use crate::db::users::{self, User};
use crate::db::{namespaces, DbError};
use crate::error::{Error, Result};
use crate::state::Index;

/// Longest password accepted: bcrypt ignores everything after 72 bytes.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// A user or organization name: one repository-name component (`[a-z0-9]+` with `.`, `_`,
/// `__` or `-` separators), so that it can be a namespace.
pub fn validate_name(name: &str) -> Result<()> {
    let ok =
        !name.contains('/') && name.len() <= 64 && name.parse::<pier_shared::RepoName>().is_ok();
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "invalid name {:?}: use lowercase letters, digits and single . _ - separators",
            name.chars().take(80).collect::<String>()
        )))
    }
}

pub fn validate_password(password: &str) -> Result<()> {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::BadRequest(format!(
            "a password has 1 to {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

async fn insert_with_hash(
    index: &Index,
    name: &str,
    hash: String,
    email: Option<String>,
    is_admin: bool,
) -> Result<User> {
    let name = name.to_string();
    index
        .db
        .transaction(move |c| -> Result<User> {
            if namespaces::find(c, &name)?.is_some() {
                return Err(Error::Conflict(format!("the name {name} is taken")));
            }
            let user = users::insert(c, &name, &hash, email.as_deref(), is_admin)
                .map_err(|e| conflict_or(e, &name))?;
            namespaces::insert(c, &name, namespaces::USER)?;
            Ok(user)
        })
        .await
}

fn conflict_or(e: DbError, name: &str) -> Error {
    if e.is_conflict() {
        Error::Conflict(format!("the name {name} is taken"))
    } else {
        Error::Db(e)
    }
}

/// Create a user and their namespace. Without a password, one is generated and returned.
pub async fn create(
    index: &Index,
    actor: &str,
    name: &str,
    password: Option<&str>,
    email: Option<String>,
    is_admin: bool,
) -> Result<(User, Option<String>)> {
    validate_name(name)?;
    let generated = password.is_none().then(random::password);
    let password = password.or(generated.as_deref()).unwrap_or_default();
    validate_password(password)?;
    let hash = index.credentials.hash(password).await?;
    let user = insert_with_hash(index, name, hash, email, is_admin).await?;
    let detail = Some(format!("admin={is_admin}"));
    index
        .audit
        .record(&index.db, actor, "user.create", name, detail);
    Ok((user, generated))
}

pub async fn list(index: &Index) -> Result<Vec<User>> {
    index.db.run(|c| Ok::<_, Error>(users::list(c)?)).await
}

pub async fn find(index: &Index, name: &str) -> Result<User> {
    let owned = name.to_string();
    index
        .db
        .run(move |c| Ok::<_, Error>(users::find(c, &owned)?))
        .await?
        .ok_or_else(|| Error::NotFound(format!("no user {name}")))
}

pub async fn set_disabled(index: &Index, actor: &str, name: &str, disabled: bool) -> Result<()> {
    let owned = name.to_string();
    let found = index
        .db
        .run(move |c| Ok::<_, Error>(users::set_disabled(c, &owned, disabled)?))
        .await?;
    if !found {
        return Err(Error::NotFound(format!("no user {name}")));
    }
    index.credentials.forget(name);
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    index.audit.record(&index.db, actor, action, name, None);
    Ok(())
}

/// Set `name`'s password; without one, generate it and return it.
pub async fn set_password(
    index: &Index,
    actor: &str,
    name: &str,
    password: Option<&str>,
) -> Result<Option<String>> {
    let generated = password.is_none().then(random::password);
    let password = password.or(generated.as_deref()).unwrap_or_default();
    validate_password(password)?;
    let hash = index.credentials.hash(password).await?;
    let owned = name.to_string();
    let found = index
        .db
        .run(move |c| Ok::<_, Error>(users::set_password_hash(c, &owned, &hash)?))
        .await?;
    if !found {
        return Err(Error::NotFound(format!("no user {name}")));
    }
    index.credentials.forget(name);
    index
        .audit
        .record(&index.db, actor, "user.password", name, None);
    Ok(generated)
}

/// What an htpasswd import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: Vec<String>,
    /// `(line number, reason)`; never the line itself (it holds a hash).
    pub skipped: Vec<(usize, String)>,
}

/// Import `name:$2y$…` / `name:$2b$…` lines (as `htpasswd -B` writes them); other hash
/// kinds, bad names and existing users are skipped and reported.
pub async fn import_htpasswd(index: &Index, actor: &str, text: &str) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, hash)) = line.split_once(':') else {
            report.skipped.push((i + 1, "not name:hash".into()));
            continue;
        };
        let bcrypt = (hash.starts_with("$2y$") || hash.starts_with("$2b$")) && hash.len() == 60;
        if !bcrypt {
            report
                .skipped
                .push((i + 1, format!("{name}: not a bcrypt ($2y$/$2b$) hash")));
            continue;
        }
        if let Err(e) = validate_name(name) {
            report.skipped.push((i + 1, e.to_string()));
            continue;
        }
        match insert_with_hash(index, name, hash.to_string(), None, false).await {
            Ok(_) => report.imported.push(name.to_string()),
            Err(Error::Conflict(m)) => report.skipped.push((i + 1, m)),
            Err(e) => return Err(e),
        }
    }
    for name in &report.imported {
        index
            .audit
            .record(&index.db, actor, "user.import", name, None);
    }
    Ok(report)
}
