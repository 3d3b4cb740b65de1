//! `/v1/users/`: the v1 login check, registration (when `v1.registration` is on) and
//! account updates, on the same users as the rest of the index.

use crate::db::users;
use crate::error::{Error, Result};
use crate::services::login_throttle::Client;
use crate::services::policy::Subject;
use crate::services::{tokens, users as accounts};
use crate::state::Index;

/// The answer old clients take as "the account exists, check the login with GET".
pub const ALREADY_EXISTS: &str = "Username or email already exists";

/// `GET /v1/users/`: the credentials are good (the subject), wrong (401) or belong to a
/// disabled account (403 "Account is not Active"; said only to who knows the password).
pub async fn login(index: &Index, client: &Client, name: &str, password: &str) -> Result<Subject> {
    let result = match tokens::authenticate(index, client, name, password).await {
        Ok(s) => Ok(s),
        Err(Error::Unauthenticated) => {
            let owned = name.to_string();
            let user = index.db.run(move |c| users::find(c, &owned)).await?;
            match user {
                Some(mut u) if u.disabled => {
                    u.disabled = false;
                    if index.credentials.check(&u, password).await {
                        index.credentials.forget(name);
                        Err(Error::Forbidden("Account is not Active".into()))
                    } else {
                        Err(Error::Unauthenticated)
                    }
                }
                _ => Err(Error::Unauthenticated),
            }
        }
        Err(e) => Err(e),
    };
    let status = match &result {
        Ok(_) => "200",
        Err(Error::Forbidden(_)) => "403",
        Err(_) => "401",
    };
    index.audit.record(
        &index.db,
        name,
        "v1.login",
        name,
        Some(format!("status={status}")),
    );
    result
}

/// `POST /v1/users/` with registration on: create the account (and its namespace).
pub async fn register(
    index: &Index,
    name: &str,
    password: &str,
    email: Option<String>,
) -> Result<()> {
    if !index.config.v1.registration {
        return Err(Error::Conflict(ALREADY_EXISTS.into()));
    }
    if password.len() < 5 {
        return Err(Error::BadRequest(
            "the password needs at least 5 characters".into(),
        ));
    }
    match accounts::create(index, "v1-registration", name, Some(password), email, false).await {
        Ok(_) => Ok(()),
        Err(Error::Conflict(_)) => Err(Error::Conflict(ALREADY_EXISTS.into())),
        Err(e) => Err(e),
    }
}

/// `PUT /v1/users/<name>/`: the user themselves (or an admin) changes password or email.
pub async fn update(
    index: &Index,
    caller: &Subject,
    name: &str,
    password: Option<&str>,
    email: Option<String>,
) -> Result<()> {
    if caller.name != name && !caller.is_admin {
        return Err(Error::Forbidden(format!("you may not change {name}")));
    }
    if let Some(pw) = password {
        accounts::set_password(index, &caller.name, name, Some(pw)).await?;
    }
    if let Some(email) = email {
        let owned = name.to_string();
        let found = index
            .db
            .run(move |c| users::set_email(c, &owned, &email))
            .await?;
        if !found {
            return Err(Error::NotFound(format!("no user {name}")));
        }
        index
            .audit
            .record(&index.db, &caller.name, "user.email", name, None);
    }
    Ok(())
}
