//! The JWT itself: header (`typ`, `kid` = RFC 7638 thumbprint, `x5c`), signature, claims;
//! the published JWKS and certificate; `GET /v2/` on the index.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{bearer, jwt_parts, token_request, TestIndex};
use sha2::{Digest, Sha256};

/// One DER element: `(tag, contents, rest)`.
fn der(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = input[0];
    let (len, header) = match input[1] {
        n if n < 0x80 => (n as usize, 2),
        n => {
            let k = (n & 0x7f) as usize;
            let len = input[2..2 + k]
                .iter()
                .fold(0usize, |a, b| a << 8 | *b as usize);
            (len, 2 + k)
        }
    };
    (tag, &input[header..header + len], &input[header + len..])
}

/// The uncompressed EC point in a certificate's SubjectPublicKeyInfo.
fn certificate_point(cert: &[u8]) -> Vec<u8> {
    let (_, certificate, _) = der(cert);
    let (_, mut tbs, _) = der(certificate);
    let mut fields = Vec::new();
    while !tbs.is_empty() {
        let (tag, content, rest) = der(tbs);
        fields.push((tag, content));
        tbs = rest;
    }
    // [0] version, serial, signature alg, issuer, validity, subject, SPKI
    assert_eq!(fields[0].0, 0xa0, "explicit version");
    let (_, spki) = fields[6];
    let (_, _algorithm, rest) = der(spki);
    let (tag, bits, _) = der(rest);
    assert_eq!(tag, 0x03, "BIT STRING");
    assert_eq!(bits[0], 0, "no unused bits");
    bits[1..].to_vec()
}

#[actix_web::test]
async fn header_kid_x5c_signature_and_claims() {
    let t = TestIndex::new();
    let app = app!(t);
    let r = call!(app, TestRequest::get().uri("/.well-known/jwks.json"));
    assert_eq!(r.status, StatusCode::OK);
    let jwk = r.json()["keys"][0].clone();
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert_eq!(
        (jwk["alg"].as_str(), jwk["use"].as_str()),
        (Some("ES256"), Some("sig"))
    );

    // RFC 7638, computed here: members in lexicographic order, no whitespace.
    let mut canonical = serde_json::Map::new();
    for k in ["y", "x", "kty", "crv"] {
        canonical.insert(k.into(), jwk[k].clone());
    }
    let canonical = serde_json::to_string(&canonical).unwrap();
    assert!(
        canonical.starts_with(r#"{"crv":"P-256","kty":"EC","x":"#),
        "{canonical}"
    );
    let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
    assert_eq!(jwk["kid"], thumbprint.as_str());

    let q = "service=pier-registry&scope=repository:admin/app:pull,push";
    let r = call!(
        app,
        token_request(q, Some(("admin", common::ADMIN_PASSWORD)))
    );
    let token = r.json()["token"].as_str().unwrap().to_string();
    let (header, claims) = jwt_parts(&token);
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], thumbprint.as_str());

    // x5c: one certificate, whose public key is the JWKS key, equal to certificate.pem.
    let x5c = header["x5c"].as_array().unwrap();
    assert_eq!(x5c.len(), 1);
    assert_eq!(header["x5c"], jwk["x5c"]);
    let cert = STANDARD.decode(x5c[0].as_str().unwrap()).unwrap();
    let point = certificate_point(&cert);
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap();
    assert_eq!(point, [&[4u8][..], &x, &y].concat());
    let pem = call!(app, TestRequest::get().uri("/token/certificate.pem")).text();
    let from_pem = rustls_pemfile::certs(&mut pem.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(from_pem.as_ref(), cert.as_slice());

    // The signature verifies with the published JWK (and not after tampering).
    let jwk_key: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk_key).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&["pier-registry"]);
    let decoded = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &v).unwrap();
    assert_eq!(decoded.claims, claims);
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(claims.to_string().replace("admin/app", "other/app"));
    parts[1] = &forged;
    assert!(jsonwebtoken::decode::<serde_json::Value>(&parts.join("."), &key, &v).is_err());

    // Claims.
    assert_eq!(claims["iss"], "pier-index");
    assert_eq!(claims["sub"], "admin");
    assert_eq!(claims["aud"], "pier-registry");
    let (iat, nbf, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["nbf"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!((iat - chrono::Utc::now().timestamp()).abs() < 10);
    assert_eq!((nbf, exp - iat), (iat, 300));
    assert!(claims["jti"].as_str().unwrap().len() >= 16);
    assert!(claims.get("rti").is_none(), "no refresh token, no rti");
    assert_eq!(
        claims["access"],
        serde_json::json!([{"type": "repository", "name": "admin/app", "actions": ["pull", "push"]}])
    );
    let again = call!(
        app,
        token_request(q, Some(("admin", common::ADMIN_PASSWORD)))
    );
    let (_, claims2) = jwt_parts(again.json()["token"].as_str().unwrap());
    assert_ne!(claims["jti"], claims2["jti"]);
}

#[actix_web::test]
async fn v2_base_challenges_then_accepts_a_token() {
    let t = TestIndex::with(|c| c.http.public_url = "https://index.example:5001/".into());
    let app = app!(t);
    let r = call!(app, TestRequest::get().uri("/v2/"));
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.header("www-authenticate"),
        r#"Bearer realm="https://index.example:5001/token",service="pier-registry""#
    );
    assert_eq!(r.header("docker-distribution-api-version"), "registry/2.0");
    assert_eq!(r.json()["errors"][0]["code"], "UNAUTHORIZED");

    let r = call!(
        app,
        TestRequest::get()
            .uri("/v2/")
            .insert_header(bearer("not.a.jwt"))
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r
        .header("www-authenticate")
        .ends_with(r#",error="invalid_token""#));

    // docker login: a scope-less token with Basic credentials, then /v2/ with it.
    let q = "account=admin&client_id=docker&offline_token=true&service=pier-registry";
    let r = call!(
        app,
        token_request(q, Some(("admin", common::ADMIN_PASSWORD)))
    );
    let token = r.json()["token"].as_str().unwrap().to_string();
    let r = call!(
        app,
        TestRequest::get().uri("/v2/").insert_header(bearer(&token))
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), serde_json::json!({}));
    assert_eq!(r.header("docker-distribution-api-version"), "registry/2.0");
}

#[actix_web::test]
async fn realm_follows_the_request_host_without_a_public_url() {
    let t = TestIndex::new();
    let app = app!(t);
    let req = TestRequest::get()
        .uri("/v2/")
        .insert_header(("Host", "idx.local:7000"));
    let r = call!(app, req);
    assert_eq!(
        r.header("www-authenticate"),
        r#"Bearer realm="http://idx.local:7000/token",service="pier-registry""#
    );
}

#[actix_web::test]
async fn tokens_signed_by_another_key_or_for_another_audience_are_refused() {
    let a = TestIndex::new();
    let b = TestIndex::with(|c| c.token.service = "other".into());
    let (app_a, app_b) = (app!(a), app!(b));
    let r = call!(app_b, token_request("service=other", None));
    let foreign = r.json()["token"].as_str().unwrap().to_string();
    let r = call!(
        app_a,
        TestRequest::get()
            .uri("/v2/")
            .insert_header(bearer(&foreign))
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let ok = call!(app_a, token_request("service=pier-registry", None));
    let ours = ok.json()["token"].as_str().unwrap().to_string();
    let r = call!(
        app_b,
        TestRequest::get().uri("/v2/").insert_header(bearer(&ours))
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
