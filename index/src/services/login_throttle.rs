//! Failed-login throttling, the one place every password check goes through
//! ([`crate::services::tokens::authenticate`] and `login` take a [`Client`], so no entry
//! point can skip it): `/token` (Basic and the password grant), `/v2/` Basic, the JSON
//! API's Basic credentials, the web UI's login form and `/v1`.
//!
//! Failures are counted per (account, client address) and per client address, in the
//! `login_failures` table every replica shares. After `max_failures` failures of one
//! account from one address within `window_seconds`, that pair is refused for
//! `block_seconds`; after `max_address_failures` failures from one address (any
//! accounts), the whole address is. A refused attempt is answered 429 with `Retry-After`
//! **before** the password is looked at — also when it is the right one — so that a
//! blocked client learns nothing and costs no bcrypt. The account itself is never locked:
//! the right password from an address with no failures on record works while the
//! account is being attacked from elsewhere. A successful login clears its pair's count.

use crate::config::LoginThrottleConfig;
use crate::db::login_failures::{self, Failures, ANY_ACCOUNT};
use crate::db::{now, DbError};
use crate::error::{Error, Result};
use crate::state::Index;
use std::future::Future;
use std::net::IpAddr;

/// Where a login attempt comes from (see `pier_shared::client`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `pier_shared::client::client_key` of the address.
    pub key: String,
}

impl Client {
    pub fn new(ip: IpAddr) -> Client {
        Client {
            key: pier_shared::client::client_key(ip),
        }
    }
}

/// Seconds until `rows` stop blocking at `t`, if any of them blocks now.
fn blocked_for(config: &LoginThrottleConfig, rows: &[Failures], t: i64) -> Option<u64> {
    let block = i64::try_from(config.block_seconds).unwrap_or(i64::MAX);
    rows.iter()
        .filter(|r| {
            let max = if r.account == ANY_ACCOUNT {
                config.max_address_failures
            } else {
                config.max_failures
            };
            max > 0 && u64::try_from(r.failures).unwrap_or(0) >= max
        })
        .map(|r| r.last_failure.saturating_add(block).saturating_sub(t))
        .filter(|left| *left > 0)
        .max()
        .and_then(|left| u64::try_from(left).ok())
}

/// Run `attempt` (a password check of `account`) unless `client` is blocked; count its
/// failure (`Error::Unauthenticated`) or clear the pair on success.
pub async fn guard<T, F>(index: &Index, client: &Client, account: &str, attempt: F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    let config = &index.config.login_throttle;
    if config.max_failures == 0 {
        let result = attempt.await;
        if matches!(result, Err(Error::Unauthenticated)) {
            index.metrics.login_failure("bad_credentials");
        }
        return result;
    }
    let (address, name) = (client.key.clone(), account.to_string());
    let rows = index
        .db
        .run(move |c| login_failures::find(c, &address, &name))
        .await?;
    if let Some(retry_after) = blocked_for(config, &rows, now()) {
        log::info!(
            "login of {account:?} from {} refused for {retry_after}s: too many failures",
            client.key
        );
        index.metrics.login_failure("throttled");
        return Err(Error::login_throttled(retry_after));
    }
    let result = attempt.await;
    let (address, name) = (client.key.clone(), account.to_string());
    match &result {
        Err(Error::Unauthenticated) => {
            index.metrics.login_failure("bad_credentials");
            let window = i64::try_from(config.window_seconds).unwrap_or(i64::MAX);
            let per_address = config.max_address_failures > 0;
            index
                .db
                .run(move |c| -> Result<(), DbError> {
                    let t = now();
                    let over = t.saturating_sub(window);
                    login_failures::record(c, &address, &name, t, over)?;
                    if per_address {
                        login_failures::record(c, &address, ANY_ACCOUNT, t, over)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(_) if rows.iter().any(|r| r.account == name) => {
            index
                .db
                .run(move |c| login_failures::clear(c, &address, &name))
                .await?;
        }
        _ => {}
    }
    result
}

/// Drop rows whose window and block are both over (run every minute by `server::bind`).
pub async fn prune(index: &Index) -> Result<usize> {
    let c = &index.config.login_throttle;
    let keep = i64::try_from(c.window_seconds.max(c.block_seconds)).unwrap_or(i64::MAX);
    let before = now().saturating_sub(keep);
    Ok(index
        .db
        .run(move |conn| login_failures::prune(conn, before))
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(account: &str, failures: i64, last_failure: i64) -> Failures {
        Failures {
            account: account.into(),
            address: "1.2.3.4".into(),
            window_start: last_failure - 10,
            failures,
            last_failure,
        }
    }

    #[test]
    fn blocks_at_the_limits_for_block_seconds() {
        let c = LoginThrottleConfig {
            max_failures: 3,
            max_address_failures: 10,
            window_seconds: 600,
            block_seconds: 300,
        };
        assert_eq!(blocked_for(&c, &[row("alice", 2, 1000)], 1001), None);
        assert_eq!(blocked_for(&c, &[row("alice", 3, 1000)], 1001), Some(299));
        assert_eq!(blocked_for(&c, &[row("alice", 3, 1000)], 1300), None);
        // The address row counts against its own, larger limit.
        assert_eq!(blocked_for(&c, &[row("", 9, 1000)], 1001), None);
        assert_eq!(blocked_for(&c, &[row("", 10, 1000)], 1100), Some(200));
        let both = [row("alice", 3, 1000), row("", 12, 1100)];
        assert_eq!(blocked_for(&c, &both, 1101), Some(299));
        let no_address_limit = LoginThrottleConfig {
            max_address_failures: 0,
            ..c
        };
        assert_eq!(
            blocked_for(&no_address_limit, &[row("", 99, 1000)], 1001),
            None
        );
    }
}
