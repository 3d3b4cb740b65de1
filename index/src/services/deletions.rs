//! Repository deletion at the registry: the second phase of `DELETE /api/v1/repositories`.
//!
//! ```text
//! API / CLI        mark deleted + insert job          (one transaction; no new tokens)
//! worker (1 s)     due job → mint a deletion token → DELETE <registry.url>/pier/v1/repositories/<name>
//! registry         confirms the token with /introspect (always, it is a delete)
//! introspection    jti "pier-deletion:<job id>" + job still pending → active, delete on <name>
//! 202 or 404       job row deleted: done; the name may be pushed again
//! anything else    attempts += 1, retried after min(2^attempts, 300) s
//! ```
//!
//! The job is a database row, so a registry that is down, or an index restarted, only
//! delays it. While a job for a name is pending, nobody is granted push on that name.

use super::policy;
use crate::db::{self, deletions, DbError};
use crate::error::{Error, Result};
use crate::state::Index;
use pier_shared::db::lease;
use pier_shared::{Action, Claims, Introspection, ResourceActions, Scope};
use std::time::Duration;

/// The `jti` of a deletion token is this prefix and the job id; `random::id()` never
/// produces it, so no user token can pass for one.
pub const JTI_PREFIX: &str = "pier-deletion:";

/// Lifetime of a deletion token.
pub const TOKEN_SECONDS: i64 = 300;
/// Longest wait between two attempts.
const MAX_BACKOFF: i64 = 300;

/// A token for the registry allowing only `repository:<name>:delete`, valid while the
/// job is pending.
pub fn mint(index: &Index, job: &deletions::Deletion) -> Result<String> {
    let now = db::now();
    let claims = Claims {
        iss: index.config.token.issuer.clone(),
        sub: String::new(),
        aud: index.config.token.service.clone(),
        exp: now + TOKEN_SECONDS,
        nbf: now,
        iat: now,
        jti: format!("{JTI_PREFIX}{}", job.id),
        access: vec![ResourceActions::from(&Scope::repository(
            &job.name,
            &[Action::Delete],
        ))],
        rti: None,
    };
    index
        .keys
        .sign(&claims)
        .map_err(|e| Error::Internal(format!("signing: {e}")))
}

/// Introspection of a verified deletion token: active, with delete on the job's
/// repository only, while the job is pending.
pub async fn introspect(
    index: &Index,
    claims: &Claims,
    job_id: &str,
    wanted: Option<Vec<Scope>>,
) -> Result<Introspection> {
    let id = job_id.to_string();
    let job = index
        .db
        .run(move |c| -> Result<_, DbError> { deletions::find(c, &id) })
        .await?;
    let Some(job) = job else {
        return Ok(Introspection::default());
    };
    let scope = Scope::repository(&job.name, &[Action::Delete]);
    if !claims.allows("repository", &job.name, &Action::Delete) {
        return Ok(Introspection::default());
    }
    let granted = match &wanted {
        None => true,
        Some(w) => w.iter().any(|s| {
            s.resource_type == "repository"
                && s.name == job.name
                && s.actions.contains(&Action::Delete)
        }),
    };
    Ok(Introspection {
        active: true,
        sub: Some(claims.sub.clone()),
        exp: Some(claims.exp),
        jti: Some(claims.jti.clone()),
        scope: Some(if granted {
            scope.to_string()
        } else {
            String::new()
        }),
        pullable: None,
        pier_mirrored: None,
    })
}

/// May push be granted on `name`? Not while its deletion is pending.
pub fn blocks_push(conn: &mut db::Conn, name: &str) -> Result<bool, DbError> {
    deletions::pending_for(conn, name)
}

/// How long a replica may work on one deletion job before another may take it over. The
/// holder renews it every `RENEW_SECONDS` while its attempt runs (the registry call may
/// take up to its 30 s timeout), so a replica that dies mid-attempt (`kill -9`, a power
/// cut) holds the job up for at most this long; a restarted index is a new owner.
const LEASE_SECONDS: i64 = 15;
/// How often a running attempt renews its job's lease.
const RENEW_SECONDS: u64 = 5;

/// Run `work` while renewing the lease `name` for `owner` every `RENEW_SECONDS`.
async fn renewing<T>(
    index: &Index,
    name: &str,
    owner: &str,
    work: impl std::future::Future<Output = T>,
) -> T {
    let renew = async {
        loop {
            actix_web::rt::time::sleep(Duration::from_secs(RENEW_SECONDS)).await;
            let (n, o) = (name.to_string(), owner.to_string());
            match index
                .db
                .run(move |c| lease::try_acquire(c, &n, &o, LEASE_SECONDS))
                .await
            {
                Ok(true) => {}
                // Another replica may now try too: harmless, a second delete is a 404.
                Ok(false) => log::warn!("lease {name} was taken over during its attempt"),
                Err(e) => log::warn!("renewing lease {name}: {}", Error::from(e).public_detail()),
            }
        }
    };
    futures_util::pin_mut!(work);
    futures_util::pin_mut!(renew);
    match futures_util::future::select(work, renew).await {
        futures_util::future::Either::Left((t, _)) => t,
        futures_util::future::Either::Right(((), work)) => work.await,
    }
}

/// What one attempt ended with.
#[derive(Debug, PartialEq)]
pub enum Attempt {
    Done,
    Retry(String),
}

/// Ask the registry to delete the job's repository once.
async fn attempt(index: &Index, client: &awc::Client, job: &deletions::Deletion) -> Attempt {
    let base = index.config.registry.url.trim_end_matches('/');
    let token = match mint(index, job) {
        Ok(t) => t,
        Err(e) => return Attempt::Retry(e.public_detail()),
    };
    let url = format!("{base}/pier/v1/repositories/{}", job.name);
    match client
        .delete(&url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
    {
        Ok(res) if res.status().as_u16() == 202 || res.status().as_u16() == 404 => Attempt::Done,
        Ok(res) => Attempt::Retry(format!("{url}: answered {}", res.status().as_u16())),
        Err(e) => Attempt::Retry(format!("{url}: {e}")),
    }
}

/// Run every due job once. Returns how many finished.
pub async fn run_due(index: &Index, client: &awc::Client) -> Result<usize> {
    let jobs = index
        .db
        .run(|c| -> Result<_, DbError> { deletions::due(c, db::now(), 20) })
        .await?;
    if jobs.is_empty() {
        return Ok(0);
    }
    if index.config.registry.url.is_empty() {
        log::warn!(
            "{} repository deletion(s) wait: registry.url is not set",
            jobs.len()
        );
        let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
        index
            .db
            .run(move |c| -> Result<_, DbError> {
                for id in &ids {
                    deletions::retry_at(c, id, db::now() + 60, "registry.url is not set")?;
                }
                Ok(())
            })
            .await?;
        return Ok(0);
    }
    let mut finished = 0;
    // Of several replicas, one works on a job at a time: the lease `deletion:<id>`, held
    // for the attempt and released after (a replica that dies loses it in LEASE_SECONDS).
    let owner = super::random::id();
    for job in jobs {
        let (lease, o) = (format!("deletion:{}", job.id), owner.clone());
        let taken = index
            .db
            .run(move |c| lease::try_acquire(c, &lease, &o, LEASE_SECONDS))
            .await?;
        if !taken {
            continue;
        }
        let (lease, o) = (format!("deletion:{}", job.id), owner.clone());
        let outcome = renewing(index, &lease, &o, attempt(index, client, &job)).await;
        let (id, name) = (job.id.clone(), job.name.clone());
        match outcome {
            Attempt::Done => {
                index
                    .db
                    .run(move |c| -> Result<_, DbError> { deletions::done(c, &id) })
                    .await?;
                log::info!("repository {name} deleted at the registry");
                index
                    .audit
                    .record(&index.db, "index", "repository.purge", &name, None);
                finished += 1;
            }
            Attempt::Retry(why) => {
                let wait = 1i64 << job.attempts.clamp(0, 9);
                let wait = wait.min(MAX_BACKOFF);
                log::warn!(
                    "deleting repository {name} at the registry failed (attempt {}), \
                     retrying in {wait} s: {why}",
                    job.attempts + 1
                );
                index
                    .db
                    .run(move |c| -> Result<_, DbError> {
                        deletions::retry_at(c, &id, db::now() + wait, &why)
                    })
                    .await?;
            }
        }
        index.db.run(move |c| lease::release(c, &lease, &o)).await?;
    }
    Ok(finished)
}

/// The worker: every second, run the due jobs (on the current actix system).
pub fn spawn(index: Index) {
    actix_web::rt::spawn(async move {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish();
        loop {
            if let Err(e) = run_due(&index, &client).await {
                log::warn!("repository deletion worker: {}", e.public_detail());
            }
            actix_web::rt::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// Is `claims` a deletion token? Its job id.
pub fn job_of(claims: &Claims) -> Option<&str> {
    claims.jti.strip_prefix(JTI_PREFIX)
}

/// Keep `policy` from granting push on names with a pending deletion.
pub fn filter_push(
    conn: &mut db::Conn,
    name: &str,
    actions: &mut policy::Actions,
) -> Result<(), DbError> {
    if actions.contains(&Action::Push) && blocks_push(conn, name)? {
        actions.remove(&Action::Push);
    }
    Ok(())
}
