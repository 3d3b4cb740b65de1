//! Local verification of a registry token, in microseconds: structure, algorithm
//! allow-list, key by `kid`, signature, `iss`, `aud`, `exp`/`nbf` with leeway, claim shape.
//!
//! Everything that fails here is an `invalid_token` for the client; the reason is for the
//! log only and never contains the token. The `x5c` header is not used: the trusted keys are
//! the JWKS (file or index URL), so a chain in the token cannot introduce a key.
//!
//! A token that passed is remembered (by its SHA-256, never the token) for
//! [`VERIFIED_TTL`]: the same bytes carry the same signature, so a client's next requests
//! with it cost a hash and a map lookup instead of an ECDSA verification (which was two
//! thirds of the registry's CPU under bearer load, issue #6). `exp` and `nbf` are checked
//! again on every use; a key removed from the JWKS stops its tokens within the TTL, and
//! revocation is the index's answer (confirm.rs), which is asked as before.

use super::cache::{self, TtlCache};
use super::keys::{KeyStore, Lookup};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use pier_shared::Claims;
use std::sync::Arc;
use std::time::Duration;

/// How long a verified token is remembered.
pub const VERIFIED_TTL: Duration = Duration::from_secs(60);

/// Why a token is refused (for the log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("malformed token")]
    Malformed,
    #[error("algorithm {0} not allowed")]
    Algorithm(String),
    #[error("no kid in the token header")]
    NoKid,
    #[error("signed by an unknown key")]
    UnknownKey,
    #[error("bad signature")]
    Signature,
    #[error("expired")]
    Expired,
    #[error("not valid yet")]
    NotYetValid,
    #[error("wrong issuer")]
    Issuer,
    #[error("wrong audience")]
    Audience,
    #[error("claims: {0}")]
    Claims(String),
}

/// Verification failed: the token is bad, or the keys could not be loaded.
#[derive(Debug)]
pub enum Failure {
    Invalid(Invalid),
    /// The token names a key we do not have and the index could not be asked for it.
    KeysUnavailable,
}

/// Parse an algorithm name of the allow-list; symmetric ones are refused (the registry
/// holds only public keys, and an HS* "key" could be anything public).
pub fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    let alg: Algorithm = name
        .parse()
        .map_err(|_| format!("unknown algorithm {name:?}"))?;
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Err(format!(
            "{name} is symmetric; only public-key algorithms can be verified"
        )),
        a => Ok(a),
    }
}

/// `exp` and `nbf` hold at `now`, with the leeway (as jsonwebtoken checks them).
fn current(c: &Claims, leeway: u64, now: i64) -> bool {
    let leeway = i64::try_from(leeway).unwrap_or(i64::MAX);
    c.exp.saturating_add(leeway) >= now && c.nbf.saturating_sub(leeway) <= now
}

pub struct Verifier {
    pub keys: KeyStore,
    pub algorithms: Vec<Algorithm>,
    pub issuer: String,
    pub audience: String,
    pub leeway: u64,
    /// Tokens verified in the last [`VERIFIED_TTL`].
    pub verified: TtlCache<Arc<Claims>>,
}

impl Verifier {
    /// The token's claims, if it is genuine, current and meant for this registry.
    pub async fn verify(&self, token: &str) -> Result<Claims, Failure> {
        let key = cache::key(token, "");
        if let Some(claims) = self.verified.get(&key) {
            if current(&claims, self.leeway, chrono::Utc::now().timestamp()) {
                return Ok(Claims::clone(&claims));
            }
        }
        let claims = self.verify_signed(token).await?;
        self.verified.put(key, Arc::new(claims.clone()));
        Ok(claims)
    }

    /// Full verification: header, key, signature, claims.
    async fn verify_signed(&self, token: &str) -> Result<Claims, Failure> {
        let bad = |i| Err(Failure::Invalid(i));
        let header = match jsonwebtoken::decode_header(token) {
            Ok(h) => h,
            Err(_) => return bad(Invalid::Malformed),
        };
        if !self.algorithms.contains(&header.alg) {
            return bad(Invalid::Algorithm(format!("{:?}", header.alg)));
        }
        let Some(kid) = header.kid.as_deref() else {
            return bad(Invalid::NoKid);
        };
        let key = match self.keys.get(kid).await {
            Lookup::Found(k) => k,
            Lookup::Unknown => return bad(Invalid::UnknownKey),
            Lookup::Unavailable => return Err(Failure::KeysUnavailable),
        };
        if key.alg.is_some_and(|a| a != header.alg) || key.decoding.family() != header.alg.family()
        {
            return bad(Invalid::Algorithm(format!("{:?} for this key", header.alg)));
        }
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "nbf", "iss", "aud"]);
        v.validate_exp = true;
        v.validate_nbf = true;
        v.leeway = self.leeway;
        match jsonwebtoken::decode::<Claims>(token, &key.decoding, &v) {
            Ok(data) => Ok(data.claims),
            Err(e) => bad(match e.kind() {
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidEcdsaKey
                | ErrorKind::InvalidKeyFormat => Invalid::Signature,
                ErrorKind::ExpiredSignature => Invalid::Expired,
                ErrorKind::ImmatureSignature => Invalid::NotYetValid,
                ErrorKind::InvalidIssuer => Invalid::Issuer,
                ErrorKind::InvalidAudience => Invalid::Audience,
                ErrorKind::InvalidAlgorithm => Invalid::Algorithm(format!("{:?}", header.alg)),
                ErrorKind::MissingRequiredClaim(c) => Invalid::Claims(format!("{c} missing")),
                ErrorKind::Json(_) => Invalid::Claims("not the registry token claim set".into()),
                _ => Invalid::Malformed,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_names() {
        assert_eq!(parse_algorithm("ES256"), Ok(Algorithm::ES256));
        assert_eq!(parse_algorithm("RS256"), Ok(Algorithm::RS256));
        assert!(parse_algorithm("HS256").is_err());
        assert!(parse_algorithm("none").is_err());
        assert!(parse_algorithm("es256").is_err());
    }

    #[test]
    fn a_remembered_token_is_still_checked_for_time() {
        let c = Claims {
            iss: "i".into(),
            sub: "alice".into(),
            aud: "a".into(),
            exp: 1_000,
            nbf: 100,
            iat: 100,
            jti: "j".into(),
            access: Vec::new(),
            rti: None,
        };
        assert!(current(&c, 0, 500));
        assert!(current(&c, 60, 1_060), "within the leeway");
        assert!(!current(&c, 60, 1_061), "expired");
        assert!(!current(&c, 0, 99), "not valid yet");
        assert!(current(&c, 10, 90));
    }
}
