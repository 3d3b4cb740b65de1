//! One token signing key: an ES256 (P-256) key pair and a self-signed certificate for it.
//!
//! Every token header carries `kid` = the RFC 7638 JWK thumbprint of the public key
//! (distribution v3 keys `rootcertbundle` certificates by it) and `x5c` = [the certificate]
//! (distribution v2.8 checks `x5c` first, against `rootcertbundle`).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use pier_shared::Claims;
use sha2::{Digest, Sha256};

/// Leeway on `exp` / `nbf`, as distribution's verifier.
pub const LEEWAY_SECONDS: u64 = 60;

pub struct SigningKey {
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

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey {{ kid: {}, private key: <redacted> }}",
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

/// A self-signed CA certificate (PEM) for `key`, as distribution's `rootcertbundle` wants.
pub fn self_signed(key: &rcgen::KeyPair, common_name: &str) -> Result<String, String> {
    let mut params =
        rcgen::CertificateParams::new(vec![common_name.to_string()]).map_err(|e| e.to_string())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    Ok(params.self_signed(key).map_err(|e| e.to_string())?.pem())
}

/// A new P-256 key: its PKCS#8 DER and a self-signed certificate (PEM).
pub fn generate(common_name: &str) -> Result<(Vec<u8>, String), String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("generating a signing key: {e}"))?;
    let cert = self_signed(&key, common_name)?;
    Ok((key.serialize_der(), cert))
}

impl SigningKey {
    /// A key from its PKCS#8 DER and the certificate (PEM) of its public key.
    pub fn from_pkcs8(pkcs8: &[u8], cert_pem: String) -> Result<SigningKey, String> {
        let rng = ring::rand::SystemRandom::new();
        let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8,
            &rng,
        )
        .map_err(|e| format!("not a P-256 private key: {e}"))?;
        let point = ring::signature::KeyPair::public_key(&signer).as_ref();
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
        let kid = jwk_thumbprint(&x, &y);
        let cert_der_b64 = STANDARD.encode(cert_der.as_ref());
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("JWT".into());
        header.kid = Some(kid.clone());
        header.x5c = Some(vec![cert_der_b64.clone()]);
        let header_json = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
        let header_b64 = URL_SAFE_NO_PAD.encode(header_json);
        Ok(SigningKey {
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

    /// This key as a JWK (one entry of `GET /.well-known/jwks.json`).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": self.x,
            "y": self.y,
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
            "x5c": [self.cert_der_b64],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let (der, cert) = generate("pier-index").unwrap();
        let a = SigningKey::from_pkcs8(&der, cert.clone()).unwrap();
        let b = SigningKey::from_pkcs8(&der, cert).unwrap();
        assert_eq!(a.kid(), b.kid());
        let (_, other_cert) = generate("pier-index").unwrap();
        assert!(SigningKey::from_pkcs8(&der, other_cert).is_err());
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
