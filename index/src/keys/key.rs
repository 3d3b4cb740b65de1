//! The token signing key: an ES256 (P-256) key pair and a self-signed certificate for it,
//! made on first start under `token.key_dir` and reused after.
//!
//! Every token header carries `kid` = the RFC 7638 JWK thumbprint of the public key
//! (distribution v3 keys `rootcertbundle` certificates by it) and `x5c` = [the certificate]
//! (distribution v2.8 checks `x5c` first, against `rootcertbundle`). This module owns the
//! key files; it knows nothing of users or policy.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use pier_shared::Claims;
use sha2::{Digest, Sha256};
use std::path::Path;

const KEY_FILE: &str = "token-signing-key.pem";
const CERT_FILE: &str = "token-signing-cert.pem";

/// Leeway on `exp` / `nbf`, as distribution's verifier.
pub const LEEWAY_SECONDS: u64 = 60;

pub struct SigningKeys {
    /// ring's ECDSA (assembly-optimised): signing is the hot path of token issuance, and
    /// the pure-Rust P-256 behind jsonwebtoken's `rust_crypto` backend spent ~70% of the
    /// index's CPU there. Verification stays with jsonwebtoken.
    signer: ring::signature::EcdsaKeyPair,
    rng: ring::rand::SystemRandom,
    /// The base64url JOSE header, the same for every token.
    header_b64: String,
    decoding: DecodingKey,
    kid: String,
    /// Public key coordinates, base64url without padding.
    x: String,
    y: String,
    cert_der_b64: String,
    cert_pem: String,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKeys {{ kid: {}, private key: <redacted> }}",
            self.kid
        )
    }
}

/// RFC 7638 thumbprint of a P-256 public key: SHA-256 over the canonical JWK
/// `{"crv":"P-256","kty":"EC","x":…,"y":…}`, base64url without padding.
pub fn jwk_thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn self_signed(key: &rcgen::KeyPair, common_name: &str) -> Result<String, rcgen::Error> {
    let mut params = rcgen::CertificateParams::new(vec![common_name.to_string()])?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    Ok(params.self_signed(key)?.pem())
}

impl SigningKeys {
    /// Load the key and certificate from `dir`, creating them on first use.
    pub fn load_or_create(dir: &Path, common_name: &str) -> Result<SigningKeys, String> {
        let err = |what: &str, e: &dyn std::fmt::Display| format!("{}: {what}: {e}", dir.display());
        std::fs::create_dir_all(dir).map_err(|e| err("create", &e))?;
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        let key = if key_path.exists() {
            let pem = std::fs::read_to_string(&key_path).map_err(|e| err(KEY_FILE, &e))?;
            rcgen::KeyPair::from_pem(&pem).map_err(|e| err(KEY_FILE, &e))?
        } else {
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| err("generate key", &e))?;
            write_private(&key_path, &key.serialize_pem()).map_err(|e| err(KEY_FILE, &e))?;
            let _ = std::fs::remove_file(&cert_path); // a certificate for an older key
            key
        };
        if !key.is_compatible(&rcgen::PKCS_ECDSA_P256_SHA256) {
            return Err(err(KEY_FILE, &"not a P-256 key"));
        }
        let cert_pem = if cert_path.exists() {
            std::fs::read_to_string(&cert_path).map_err(|e| err(CERT_FILE, &e))?
        } else {
            let pem = self_signed(&key, common_name).map_err(|e| err("certificate", &e))?;
            write_private(&cert_path, &pem).map_err(|e| err(CERT_FILE, &e))?;
            pem
        };
        Self::from_parts(&key, cert_pem).map_err(|e| err(CERT_FILE, &e))
    }

    fn from_parts(key: &rcgen::KeyPair, cert_pem: String) -> Result<SigningKeys, String> {
        let point = key.public_key_raw();
        if point.len() != 65 || point[0] != 4 {
            return Err("unexpected public key encoding".into());
        }
        let cert_der = rustls_pemfile::certs(&mut cert_pem.as_bytes())
            .next()
            .ok_or("no certificate")?
            .map_err(|e| e.to_string())?;
        if !cert_der.windows(65).any(|w| w == point) {
            return Err("the certificate is not for the signing key".into());
        }
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        let decoding = DecodingKey::from_ec_components(&x, &y).map_err(|e| e.to_string())?;
        let rng = ring::rand::SystemRandom::new();
        let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
            &rng,
        )
        .map_err(|e| format!("signing key: {e}"))?;
        let kid = jwk_thumbprint(&x, &y);
        let cert_der_b64 = STANDARD.encode(cert_der.as_ref());
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("JWT".into());
        header.kid = Some(kid.clone());
        header.x5c = Some(vec![cert_der_b64.clone()]);
        let header_json = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
        let header_b64 = URL_SAFE_NO_PAD.encode(header_json);
        Ok(SigningKeys {
            signer,
            rng,
            header_b64,
            decoding,
            kid,
            cert_der_b64,
            x,
            y,
            cert_pem,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The certificate, PEM (for distribution's `auth.token.rootcertbundle`).
    pub fn certificate_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Sign `claims` as a JWT with `typ`, `kid` and `x5c` in the header.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let payload = serde_json::to_vec(claims).map_err(jsonwebtoken::errors::Error::from)?;
        let mut token = format!("{}.{}", self.header_b64, URL_SAFE_NO_PAD.encode(payload));
        // ES256 in JWS is the fixed-length r || s signature (RFC 7518 §3.4).
        let signature = self
            .signer
            .sign(&self.rng, token.as_bytes())
            .map_err(|_| jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey)?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
        Ok(token)
    }

    /// Verify signature (ES256 only), `iss`, `aud` ∈ `audiences`, `exp`/`nbf` with leeway.
    /// Any failure is `None`: callers answer "invalid token" without saying why.
    pub fn verify(&self, token: &str, issuer: &str, audiences: &[&str]) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::ES256);
        v.leeway = LEEWAY_SECONDS;
        v.validate_nbf = true;
        v.set_issuer(&[issuer]);
        v.set_audience(audiences);
        v.set_required_spec_claims(&["exp", "nbf", "iss", "aud"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
    }

    /// The JWK Set with this key (`GET /.well-known/jwks.json`, distribution's `jwks`).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "EC",
                "crv": "P-256",
                "x": self.x,
                "y": self.y,
                "kid": self.kid,
                "alg": "ES256",
                "use": "sig",
                "x5c": [self.cert_der_b64],
            }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_persist_and_tokens_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let a = SigningKeys::load_or_create(dir.path(), "pier-index").unwrap();
        let b = SigningKeys::load_or_create(dir.path(), "pier-index").unwrap();
        assert_eq!(a.kid(), b.kid());
        assert_eq!(a.certificate_pem(), b.certificate_pem());
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: "pier-index".into(),
            sub: "alice".into(),
            aud: "pier-registry".into(),
            exp: now + 300,
            nbf: now,
            iat: now,
            jti: "j".into(),
            access: vec![],
            rti: None,
        };
        let t = a.sign(&claims).unwrap();
        assert_eq!(
            b.verify(&t, "pier-index", &["pier-registry"]),
            Some(claims.clone())
        );
        assert!(b.verify(&t, "other", &["pier-registry"]).is_none());
        assert!(b.verify(&t, "pier-index", &["other"]).is_none());
        let expired = Claims {
            exp: now - 61,
            ..claims
        };
        assert!(b
            .verify(&a.sign(&expired).unwrap(), "pier-index", &["pier-registry"])
            .is_none());
    }
}
