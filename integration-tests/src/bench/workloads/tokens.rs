//! Token issuance at a Docker token endpoint (pier-index's `/token`): with Basic
//! credentials (GET), and with a refresh token (POST `grant_type=refresh_token`, docker's
//! identity token, fetched once before the clock starts with `offline_token=true`).

use super::Settings;
use crate::bench::runner::{self, Ctx, Op, Unit};

/// The `service` tokens are asked for.
const SERVICE: &str = "pier-registry";

fn scope(s: &Settings) -> String {
    format!("repository:{}:pull,push", s.repo("tokens"))
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .max_idle_connections_per_host(1)
        .build()
}

fn token_of(r: Result<ureq::Response, ureq::Error>, key: &str) -> Result<String, String> {
    let v: serde_json::Value = r
        .map_err(|e| format!("token endpoint: {e}"))?
        .into_json()
        .map_err(|e| format!("token endpoint: {e}"))?;
    v[key]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("token endpoint answered no {key}"))
}

pub fn run(ctx: &Ctx, s: &Settings) -> Result<(), String> {
    let (Some(url), Some(creds)) = (&s.token_url, &s.creds) else {
        return Ok(());
    };
    let (user, password) = creds.split_once(':').unwrap_or((creds, ""));
    let basic = crate::basic_auth(user, password);
    let scope = scope(s);
    if s.wants("token_basic") {
        runner::run(
            ctx,
            &s.plan("token_basic", Unit::Ops, s.c, 10_000_000),
            |_| {
                let a = agent();
                let (basic, scope) = (&basic, &scope);
                Ok(Box::new(move |_: u64| {
                    let r = a
                        .get(url)
                        .query("service", SERVICE)
                        .query("scope", scope)
                        .set("Authorization", basic)
                        .call();
                    token_of(r, "token").map(|_| 0u64)
                }) as Op)
            },
        );
    }
    if s.wants("token_refresh") {
        let r = agent()
            .get(url)
            .query("service", SERVICE)
            .query("offline_token", "true")
            .query("client_id", "pier-bench")
            .set("Authorization", &basic)
            .call();
        let refresh = token_of(r, "refresh_token")?;
        runner::run(
            ctx,
            &s.plan("token_refresh", Unit::Ops, s.c, 10_000_000),
            |_| {
                let a = agent();
                let (refresh, scope) = (&refresh, &scope);
                Ok(Box::new(move |_: u64| {
                    let r = a.post(url).send_form(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", refresh),
                        ("service", SERVICE),
                        ("client_id", "pier-bench"),
                        ("scope", scope),
                    ]);
                    token_of(r, "access_token").map(|_| 0u64)
                }) as Op)
            },
        );
    }
    Ok(())
}
