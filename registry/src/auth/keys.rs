//! The keys tokens may be signed with: a JWKS file read at start and/or the index's JWKS
//! URL, fetched at start and again when a token names a `kid` we do not know (key
//! rotation), at most once per `jwks_refetch_seconds` (once per second after a failure).
//!
//! Only asymmetric keys (EC, RSA, OKP) are trusted: a symmetric (`oct`) key in a JWKS would
//! let anyone who read the JWKS sign tokens, so it is skipped. Keys without a `kid` are
//! skipped too: tokens select their key by `kid`.

use super::client::IndexClient;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// One trusted key.
pub struct Key {
    pub decoding: DecodingKey,
    /// The JWK's `alg`, if it names one: tokens must then use exactly that algorithm.
    pub alg: Option<Algorithm>,
}

type KeyMap = HashMap<String, Arc<Key>>;

/// Parse a JWKS document into trusted keys by `kid`.
pub fn parse_jwks(text: &str) -> Result<KeyMap, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if matches!(
            jwk.algorithm,
            AlgorithmParameters::OctetKey(_) | AlgorithmParameters::Other(_)
        ) {
            log::warn!("JWKS key {kid:?} is not an asymmetric key; ignored");
            continue;
        }
        let decoding = match DecodingKey::from_jwk(jwk) {
            Ok(k) => k,
            Err(e) => {
                log::warn!("JWKS key {kid:?} unusable: {e}");
                continue;
            }
        };
        let alg = jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<Algorithm>().ok());
        keys.insert(kid, Arc::new(Key { decoding, alg }));
    }
    Ok(keys)
}

/// The answer to "which key is `kid`?".
pub enum Lookup {
    Found(Arc<Key>),
    /// No such key, even after asking the index.
    Unknown,
    /// The key is not known and the index could not be asked.
    Unavailable,
}

struct Fetch {
    at: Instant,
    ok: bool,
}

pub struct KeyStore {
    /// Keys from `jwks_file`, always trusted.
    file: KeyMap,
    /// Keys from `jwks_url`, replaced on every successful fetch.
    fetched: RwLock<KeyMap>,
    url: Option<String>,
    min_interval: Duration,
    client: Arc<IndexClient>,
    last: tokio::sync::Mutex<Option<Fetch>>,
}

impl KeyStore {
    pub fn new(
        file_keys: KeyMap,
        url: Option<String>,
        min_interval: Duration,
        client: Arc<IndexClient>,
    ) -> KeyStore {
        KeyStore {
            file: file_keys,
            fetched: RwLock::new(HashMap::new()),
            url,
            min_interval,
            client,
            last: tokio::sync::Mutex::new(None),
        }
    }

    fn known(&self, kid: &str) -> Option<Arc<Key>> {
        if let Some(k) = self.file.get(kid) {
            return Some(Arc::clone(k));
        }
        let fetched = self.fetched.read().unwrap_or_else(|p| p.into_inner());
        fetched.get(kid).cloned()
    }

    /// The key named `kid`, fetching the JWKS again if allowed.
    pub async fn get(&self, kid: &str) -> Lookup {
        if let Some(k) = self.known(kid) {
            return Lookup::Found(k);
        }
        let Some(url) = &self.url else {
            return Lookup::Unknown;
        };
        // One fetch at a time; whoever waited re-checks what the last one brought.
        let mut last = self.last.lock().await;
        if let Some(k) = self.known(kid) {
            return Lookup::Found(k);
        }
        if let Some(f) = last.as_ref() {
            let wait = if f.ok {
                self.min_interval
            } else {
                Duration::from_secs(1)
            };
            if f.at.elapsed() < wait {
                return if f.ok {
                    Lookup::Unknown
                } else {
                    Lookup::Unavailable
                };
            }
        }
        let ok = self.fetch(url).await;
        *last = Some(Fetch {
            at: Instant::now(),
            ok,
        });
        drop(last);
        match (self.known(kid), ok) {
            (Some(k), _) => Lookup::Found(k),
            (None, true) => Lookup::Unknown,
            (None, false) => Lookup::Unavailable,
        }
    }

    /// Fetch `url` now (at start, or on an unknown `kid`); false if it failed.
    async fn fetch(&self, url: &str) -> bool {
        let keys = match self.client.get_text(url).await {
            Ok(text) => parse_jwks(&text),
            Err(e) => Err(e.to_string()),
        };
        match keys {
            Ok(keys) => {
                log::info!("token signing keys from {url}: {} key(s)", keys.len());
                *self.fetched.write().unwrap_or_else(|p| p.into_inner()) = keys;
                true
            }
            Err(e) => {
                log::warn!("cannot load token signing keys: {e}");
                false
            }
        }
    }

    /// The fetch at start (not rate limited, it is the first).
    pub async fn prefetch(&self) {
        if let Some(url) = &self.url {
            let mut last = self.last.lock().await;
            let ok = self.fetch(url).await;
            *last = Some(Fetch {
                at: Instant::now(),
                ok,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_asymmetric_keys_only() {
        let jwks = r#"{"keys":[
          {"kty":"EC","crv":"P-256","kid":"ec1","alg":"ES256",
           "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
           "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
          {"kty":"EC","crv":"P-256",
           "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
           "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
          {"kty":"oct","kid":"sym","k":"c2VjcmV0"}
        ]}"#;
        let keys = parse_jwks(jwks).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys["ec1"].alg, Some(Algorithm::ES256));
        assert!(parse_jwks("{}").is_err());
        assert!(parse_jwks("not json").is_err());
    }
}
