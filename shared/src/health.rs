//! The two health endpoints both services serve for load balancers and orchestrators,
//! unauthenticated and cheap:
//!
//! ```text
//! GET /healthz   → 200 {"status":"ok"}                      the process answers
//! GET /readyz    → 200 {"status":"ok","checks":{"database":"ok","storage":"ok"}}
//!                → 503 {"status":"unavailable","checks":{"database":"timed out after 2s","storage":"ok"}}
//! ```
//!
//! Each service runs its own checks (the registry: database and storage; the index: the
//! database) through [`check`], which bounds each one by [`CHECK_TIMEOUT`], and answers
//! with [`Readiness::response`]. A check's failure is reported as a short fixed phrase the
//! service chooses (never an error's text, which may name a host, a path or a URL with
//! credentials); the cause itself goes to the log.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::HttpResponse;
use std::future::Future;
use std::time::Duration;

/// The longest one readiness check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 `{"status":"ok"}` whenever the process can answer at all.
pub fn healthz() -> HttpResponse {
    json(actix_web::http::StatusCode::OK, r#"{"status":"ok"}"#.into())
}

/// The outcome of every readiness check, in the order they were added.
#[derive(Debug, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Result<(), String>)>,
}

impl Readiness {
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// Record check `name`: `Ok`, or the phrase to show (already free of secrets).
    pub fn add(&mut self, name: &'static str, outcome: Result<(), String>) {
        self.checks.push((name, outcome));
    }

    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|(_, r)| r.is_ok())
    }

    /// 200 when every check passed, otherwise 503; the body names each check's state.
    pub fn response(&self) -> HttpResponse {
        use actix_web::http::StatusCode;
        let checks: serde_json::Map<String, serde_json::Value> = self
            .checks
            .iter()
            .map(|(name, r)| {
                let state = match r {
                    Ok(()) => "ok".to_string(),
                    Err(reason) => reason.clone(),
                };
                (name.to_string(), serde_json::Value::String(state))
            })
            .collect();
        let (status, word) = if self.is_ready() {
            (StatusCode::OK, "ok")
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        };
        let body = serde_json::json!({ "status": word, "checks": checks });
        json(status, body.to_string())
    }
}

/// Run one check within [`CHECK_TIMEOUT`]. `describe` turns its error into the public
/// phrase (and is where the service logs the cause).
pub async fn check<F, E>(
    name: &'static str,
    f: F,
    describe: impl FnOnce(&E) -> String,
) -> Result<(), String>
where
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    match actix_web::rt::time::timeout(CHECK_TIMEOUT, f).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            log::warn!("readiness check {name} failed: {e}");
            Err(describe(&e))
        }
        Err(_) => {
            log::warn!("readiness check {name} timed out");
            Err(format!("timed out after {}s", CHECK_TIMEOUT.as_secs()))
        }
    }
}

/// The public phrase for a database that failed its ping.
pub fn describe_db_error(e: &crate::db::DbError) -> String {
    match e {
        crate::db::DbError::Pool(_) => "no connection".into(),
        e if e.is_unavailable() => "unavailable".into(),
        _ => "query failed".into(),
    }
}

fn json(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_failed_or_slow_check_is_503_with_its_phrase() {
        let ok = check("a", async { Ok::<(), String>(()) }, |_| "x".into()).await;
        let failed = check(
            "b",
            async { Err::<(), String>("postgres://u:pw@h/db refused".into()) },
            |_| "no connection".into(),
        )
        .await;
        assert_eq!(failed, Err("no connection".to_string()));
        let mut r = Readiness::new();
        r.add("a", ok);
        r.add("b", failed);
        assert!(!r.is_ready());
        let res = r.response();
        assert_eq!(res.status(), 503);
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"status":"unavailable","checks":{"a":"ok","b":"no connection"}})
        );
    }

    #[actix_web::test]
    async fn all_checks_passing_is_200() {
        let mut r = Readiness::new();
        r.add("database", Ok(()));
        assert_eq!(r.response().status(), 200);
        assert_eq!(healthz().status(), 200);
    }
}
