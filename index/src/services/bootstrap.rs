//! First start: create the `admin` user (site admin) if there is none.

use crate::db::users;
use crate::error::Result;
use crate::state::Index;

/// Create `admin` unless it exists, with `admin.password` or a generated password.
/// Returns the password only when it was generated, for the caller to print once.
pub async fn ensure_admin(index: &Index) -> Result<Option<String>> {
    let exists = index
        .db
        .run(|c| Ok::<_, crate::error::Error>(users::find(c, "admin")?))
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    let configured = index.config.admin.password.expose().to_string();
    let given = (!configured.is_empty()).then_some(configured.as_str());
    let (_, generated) =
        super::users::create(index, "bootstrap", "admin", given, None, true).await?;
    Ok(generated)
}
