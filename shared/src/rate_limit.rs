//! `[rate_limit]`: requests per second per user and per anonymous client address, as token
//! buckets (a bucket holds `*_burst` requests and refills at `*_per_second`). Off by
//! default. Kept in this process's memory: with several replicas behind a load balancer
//! each allows the rate, so the cluster allows replicas × rate (docs/reliability.md says
//! why that is acceptable for a request-rate limit, unlike for failed logins).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Limit requests at all.
    pub enabled: bool,
    /// Sustained requests per second of one authenticated user (the verified token's
    /// subject), over all their clients.
    pub user_per_second: f64,
    /// Requests a user may make at once above the sustained rate.
    pub user_burst: u32,
    /// Sustained requests per second of one client address without a token.
    pub anonymous_per_second: f64,
    /// Requests an anonymous client address may make at once.
    pub anonymous_burst: u32,
    /// Most buckets kept (users and addresses); full buckets are dropped first.
    pub max_clients: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: false,
            user_per_second: 50.0,
            user_burst: 200,
            anonymous_per_second: 10.0,
            anonymous_burst: 50,
            max_clients: 100_000,
        }
    }
}

impl RateLimitConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.user_per_second) || !positive(self.anonymous_per_second) {
            return Err("rate_limit.*_per_second must be positive".into());
        }
        if self.user_burst == 0 || self.anonymous_burst == 0 || self.max_clients == 0 {
            return Err("rate_limit.*_burst and max_clients must be positive".into());
        }
        Ok(())
    }
}

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Who {
    /// A verified token's subject.
    User(String),
    /// No token: the client address key (`pier_shared::client::client_key`).
    Anonymous(String),
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<Who, Bucket>>,
}

impl RateLimiter {
    pub fn new(config: &RateLimitConfig) -> RateLimiter {
        RateLimiter {
            config: config.clone(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    fn limits(&self, who: &Who) -> (f64, f64) {
        match who {
            Who::User(_) => (
                self.config.user_per_second,
                f64::from(self.config.user_burst),
            ),
            Who::Anonymous(_) => (
                self.config.anonymous_per_second,
                f64::from(self.config.anonymous_burst),
            ),
        }
    }

    /// Take one request from `who`'s bucket: `Err(seconds)` to wait (`Retry-After`) when
    /// it is empty. Always `Ok` when disabled.
    pub fn check(&self, who: Who) -> Result<(), u64> {
        self.check_at(who, Instant::now())
    }

    fn check_at(&self, who: Who, now: Instant) -> Result<(), u64> {
        if !self.config.enabled {
            return Ok(());
        }
        let (rate, burst) = self.limits(&who);
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= self.config.max_clients && !buckets.contains_key(&who) {
            let (ur, ub) = self.limits(&Who::User(String::new()));
            let (ar, ab) = self.limits(&Who::Anonymous(String::new()));
            buckets.retain(|w, b| {
                let (r, cap) = if matches!(w, Who::User(_)) {
                    (ur, ub)
                } else {
                    (ar, ab)
                };
                b.tokens + now.duration_since(b.at).as_secs_f64() * r < cap
            });
            if buckets.len() >= self.config.max_clients {
                // Still full of active clients: refuse newcomers rather than grow.
                return Err(1);
            }
        }
        let b = buckets.entry(who).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter() -> RateLimiter {
        RateLimiter::new(&RateLimitConfig {
            enabled: true,
            user_per_second: 2.0,
            user_burst: 3,
            anonymous_per_second: 1.0,
            anonymous_burst: 1,
            max_clients: 10,
        })
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let l = limiter();
        let t = Instant::now();
        let alice = || Who::User("alice".into());
        for _ in 0..3 {
            assert_eq!(l.check_at(alice(), t), Ok(()));
        }
        assert_eq!(l.check_at(alice(), t), Err(1));
        // Bob and anonymous callers have buckets of their own.
        assert_eq!(l.check_at(Who::User("bob".into()), t), Ok(()));
        assert_eq!(l.check_at(Who::Anonymous("1.2.3.4".into()), t), Ok(()));
        assert_eq!(l.check_at(Who::Anonymous("1.2.3.4".into()), t), Err(1));
        // Half a second refills one request at 2/s.
        assert_eq!(l.check_at(alice(), t + Duration::from_millis(500)), Ok(()));
        assert!(l.check_at(alice(), t + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn off_by_default_and_bounded() {
        let off = RateLimiter::new(&RateLimitConfig::default());
        for _ in 0..10_000 {
            assert_eq!(off.check(Who::Anonymous("a".into())), Ok(()));
        }
        let l = limiter();
        let t = Instant::now();
        for i in 0..10 {
            let _ = l.check_at(Who::Anonymous(format!("10.0.0.{i}")), t);
        }
        // Ten empty buckets: a newcomer waits; once they refill they are dropped.
        assert_eq!(l.check_at(Who::Anonymous("10.0.1.1".into()), t), Err(1));
        let later = t + Duration::from_secs(2);
        assert_eq!(l.check_at(Who::Anonymous("10.0.1.1".into()), later), Ok(()));
        assert!(l.buckets.lock().unwrap().len() <= 10);
    }
}
