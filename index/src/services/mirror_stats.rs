//! How the registry's pull-through cache serves each mirrored repository (hits, misses,
//! bytes), read from the registry for the web UI's "cached from" marks.
//!
//! ```text
//! GET <registry.url>/pier/v1/mirror/repositories     Authorization: Bearer <registry:catalog:*>
//! 200 {"repositories":[{"name":"hub/library/alpine","prefix":"hub",
//!      "url":"https://registry-1.docker.io","hits":12,"misses":3,"bytes":3145728,
//!      "last_pulled":1764800000}]}
//! ```
//!
//! The registry filters the list to what the token's subject may pull, as it does
//! `_catalog`; the token is minted for the web user like `registry_client`'s. The counts
//! are decoration: callers render the page without them when the registry cannot say.

use super::policy::Subject;
use super::registry_client::{base, token_for};
use crate::error::{Error, Result};
use crate::state::Index;
use pier_shared::Scope;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The list is one document for every cached repository: bound what is read.
const MAX_BODY: usize = 16 << 20;
/// A page waits at most this long for the counts.
const TIMEOUT: Duration = Duration::from_secs(3);

/// One cached repository as the registry reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CachedRepository {
    /// The local name, `<prefix>/<upstream name>`.
    pub name: String,
    pub prefix: String,
    pub url: String,
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests that had to go to the upstream.
    pub misses: u64,
    /// Bytes held in the cache for it.
    #[serde(default)]
    pub bytes: u64,
    /// Unix seconds of the last pull, if any.
    #[serde(default)]
    pub last_pulled: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Listing {
    repositories: Vec<CachedRepository>,
}

/// The registry's answer, by repository name.
pub fn parse(body: &[u8]) -> Result<BTreeMap<String, CachedRepository>> {
    let listing: Listing = serde_json::from_slice(body)
        .map_err(|e| Error::Internal(format!("registry mirror listing: {e}")))?;
    Ok(listing
        .repositories
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect())
}

/// The cached repositories `subject` may pull, by name.
pub async fn cached(
    index: &Index,
    subject: &Subject,
) -> Result<BTreeMap<String, CachedRepository>> {
    let url = format!("{}/pier/v1/mirror/repositories", base(index)?);
    let token = token_for(index, subject, Scope::catalog(), || {
        "list the registry's repositories".into()
    })
    .await?;
    let client = awc::Client::builder().timeout(TIMEOUT).finish();
    let mut res = client
        .get(&url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Accept", "application/json"))
        .send()
        .await
        .map_err(|e| Error::Internal(format!("registry {url}: {e}")))?;
    if !res.status().is_success() {
        return Err(Error::Internal(format!("registry {url}: {}", res.status())));
    }
    let body = res
        .body()
        .limit(MAX_BODY)
        .await
        .map_err(|e| Error::Internal(format!("registry {url}: {e}")))?;
    parse(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_example_parses() {
        let body = br#"{"repositories": [{"name": "hub/library/alpine", "prefix": "hub",
            "url": "https://registry-1.docker.io", "hits": 12, "misses": 3,
            "bytes": 3145728, "last_pulled": 1764800000}]}"#;
        let by_name = parse(body).unwrap();
        assert_eq!(
            by_name["hub/library/alpine"],
            CachedRepository {
                name: "hub/library/alpine".into(),
                prefix: "hub".into(),
                url: "https://registry-1.docker.io".into(),
                hits: 12,
                misses: 3,
                bytes: 3145728,
                last_pulled: Some(1764800000),
            }
        );
    }

    #[test]
    fn optional_members_may_be_missing_or_null_and_unknown_ones_are_ignored() {
        let body = br#"{"repositories": [
            {"name": "hub/a", "prefix": "hub", "url": "u", "hits": 0, "misses": 1},
            {"name": "hub/b", "prefix": "hub", "url": "u", "hits": 2, "misses": 0,
             "bytes": 1, "last_pulled": null, "warm": true}]}"#;
        let by_name = parse(body).unwrap();
        assert_eq!(by_name.len(), 2);
        assert_eq!(
            (by_name["hub/a"].bytes, by_name["hub/a"].last_pulled),
            (0, None)
        );
        assert_eq!(by_name["hub/b"].hits, 2);
        assert!(parse(br#"{"repositories": []}"#).unwrap().is_empty());
    }

    #[test]
    fn a_malformed_answer_is_an_error_not_zero_counts() {
        assert!(parse(b"").is_err());
        assert!(parse(br#"{"errors": []}"#).is_err());
        let negative = br#"{"repositories": [{"name": "hub/a", "prefix": "hub",
            "url": "u", "hits": -1, "misses": 0}]}"#;
        assert!(parse(negative).is_err());
    }
}
