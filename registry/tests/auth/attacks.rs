//! Every "Bad input" of issue #3: each is a 401 with the right challenge, never a 500, and
//! neither the token nor the introspection secret reaches the log or the body.

use crate::common::{b64url, claims, now, start, start_with, Keys, Res, SECRET};
use crate::logs;
use actix_web::http::header::HeaderValue;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

const URI: &str = "/v2/alice/app/tags/list";
const INVALID: &str = r#",scope="repository:alice/app:pull",error="invalid_token""#;

fn header_b64(h: &Value) -> String {
    b64url(h.to_string().as_bytes())
}

/// Assert the refusal, and that the token is neither echoed nor logged.
#[track_caller]
fn refused(res: &Res, token: &str) {
    res.expect_challenge(INVALID);
    if !token.is_empty() {
        assert!(!res.text().contains(token));
        logs::assert_none_contains(&[token, SECRET]);
    }
}

#[actix_web::test]
async fn malformed_authorization_headers() {
    logs::capture();
    let env = start().await;
    for bad in [
        &b"Bearer"[..],
        b"Bearer ",
        b"bearer a b",
        b"Bearer \"a.b.c\"",
        b"Bearer a.b.c;",
        b"Bearer \xc3\xa9t\xc3\xa9.x.y",
    ] {
        let r = TestRequest::with_uri(URI)
            .insert_header(("Authorization", HeaderValue::from_bytes(bad).unwrap()));
        env.raw(r).await.expect_challenge(INVALID);
    }
    let two = TestRequest::with_uri(URI)
        .append_header(("Authorization", "Bearer a.b.c"))
        .append_header(("Authorization", "Bearer d.e.f"));
    env.raw(two).await.expect_challenge(INVALID);
    // Not a Bearer header at all: the client is told to fetch a token (no error).
    for other in ["Basic", "Bearertoken", "Digest x=y", "Token abc"] {
        let r = TestRequest::with_uri(URI).insert_header(("Authorization", other));
        env.raw(r)
            .await
            .expect_challenge(r#",scope="repository:alice/app:pull""#);
    }
    assert_eq!(env.index.state.calls(), 0);
}

#[actix_web::test]
async fn garbage_and_truncated_tokens() {
    logs::capture();
    let env = start().await;
    let good = env.token(&["repository:alice/app:pull"]);
    let (head, rest) = good.split_once('.').unwrap();
    let (payload, _sig) = rest.split_once('.').unwrap();
    let not_json = format!("{head}.{}.{_sig}", b64url(b"{not json"));
    let bad_b64 = format!("{head}.{payload}!.{_sig}");
    for t in [
        "garbage".to_string(),
        "a.b.c".into(),
        "...".into(),
        good[..good.len() - 10].to_string(),
        good[..good.rfind('.').unwrap()].to_string(),
        format!("{head}.{payload}."),
        format!("{head}.{payload}"),
        format!("!!!.{payload}.{_sig}"),
        bad_b64,
        not_json,
        format!("{}.{payload}.{_sig}", b64url(b"[]")),
    ] {
        let res = env.get(URI, &t).await;
        refused(&res, &t);
    }
    assert_eq!(
        env.index.state.calls(),
        0,
        "bad tokens never reach the index"
    );
    env.get(URI, &good).await.expect(404); // the good one passes (no such repository)
}

#[actix_web::test]
async fn alg_none_and_hs256_with_the_public_key_are_refused() {
    logs::capture();
    let env = start().await;
    let c = claims("alice", &["repository:alice/app:pull"]);
    let payload = b64url(c.to_string().as_bytes());
    for alg in ["none", "None", "NONE"] {
        let h = json!({"alg": alg, "typ": "JWT", "kid": env.keys.kid});
        let t = format!("{}.{payload}.", header_b64(&h));
        refused(&env.get(URI, &t).await, &t);
    }
    // Key confusion: HMAC with the public key's PEM (and its DER-ish bytes) as the secret.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some(env.keys.kid.clone());
    for secret in [
        env.keys.public_pem.as_bytes().to_vec(),
        env.keys.jwk.to_string().into_bytes(),
    ] {
        let k = jsonwebtoken::EncodingKey::from_secret(&secret);
        let t = jsonwebtoken::encode(&h, &c, &k).unwrap();
        refused(&env.get(URI, &t).await, &t);
    }
    // ES384 is not on the allow-list either, whatever it is signed with.
    let h = json!({"alg": "ES384", "typ": "JWT", "kid": env.keys.kid});
    let t = format!("{}.{payload}.{}", header_b64(&h), b64url(&[1; 96]));
    refused(&env.get(URI, &t).await, &t);
}

#[actix_web::test]
async fn time_claims_outside_the_leeway() {
    logs::capture();
    let env = start().await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims("alice", &["repository:alice/app:pull"]);
        f(&mut c);
        env.keys.sign(&c)
    };
    let t = now();
    for bad in [
        with(&|c| c["exp"] = json!(t - 120)),
        with(&|c| c["nbf"] = json!(t + 120)),
        with(&|c| {
            c.as_object_mut().unwrap().remove("exp");
        }),
        with(&|c| {
            c.as_object_mut().unwrap().remove("nbf");
        }),
        with(&|c| c["exp"] = json!("tomorrow")),
    ] {
        refused(&env.get(URI, &bad).await, &bad);
    }
    // Within the 60 s leeway, clocks may differ.
    env.get(URI, &with(&|c| c["exp"] = json!(t - 30)))
        .await
        .expect(404);
    env.get(URI, &with(&|c| c["nbf"] = json!(t + 30)))
        .await
        .expect(404);
}

#[actix_web::test]
async fn wrong_audience_or_issuer_and_tampered_claims() {
    logs::capture();
    let env = start().await;
    let sign = |f: &dyn Fn(&mut Value)| {
        let mut c = claims("alice", &["repository:alice/app:pull"]);
        f(&mut c);
        env.keys.sign(&c)
    };
    for bad in [
        sign(&|c| c["aud"] = json!("another-registry")),
        sign(&|c| c["aud"] = json!("")),
        sign(&|c| c["iss"] = json!("evil-index")),
        sign(&|c| {
            c.as_object_mut().unwrap().remove("iss");
        }),
        sign(&|c| c["access"] = json!("everything")),
        sign(&|c| {
            c.as_object_mut().unwrap().remove("jti");
        }),
    ] {
        refused(&env.get(URI, &bad).await, &bad);
    }
    // Tampered: the payload edited to grant push, the signature kept.
    let good = sign(&|_| {});
    let mut parts: Vec<String> = good.split('.').map(String::from).collect();
    let mut c = claims("alice", &["repository:alice/app:pull,push,delete"]);
    c["sub"] = json!("admin");
    parts[1] = b64url(c.to_string().as_bytes());
    let forged = parts.join(".");
    refused(&env.get(URI, &forged).await, &forged);
    // The same with a flipped signature byte.
    let mut sig = good.into_bytes();
    let last = sig.len() - 5;
    sig[last] = if sig[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(sig).unwrap();
    refused(&env.get(URI, &flipped).await, &flipped);
}

#[actix_web::test]
async fn unknown_kid_refetches_the_jwks_at_most_once_per_interval() {
    let env = start_with(|c| c.auth.jwks_refetch_seconds = 1).await;
    let c = claims("alice", &["repository:alice/app:pull"]);
    env.get(URI, &env.keys.sign(&c)).await.expect(404);
    assert_eq!(env.index.state.fetches(), 1, "keys fetched on first use");
    let stranger = Keys::generate();
    let t = stranger.sign(&c);
    refused(&env.get(URI, &t).await, &t);
    assert_eq!(
        env.index.state.fetches(),
        1,
        "not again within the interval"
    );
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    refused(&env.get(URI, &t).await, &t);
    assert_eq!(
        env.index.state.fetches(),
        2,
        "an unknown kid refetches after it"
    );
    refused(&env.get(URI, &Keys::generate().sign(&c)).await, "");
    assert_eq!(env.index.state.fetches(), 2);
    // A token whose kid names the index's key but signed by another key.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some(env.keys.kid.clone());
    let t = jsonwebtoken::encode(&h, &c, &stranger.enc).unwrap();
    refused(&env.get(URI, &t).await, &t);
    // No kid at all.
    let t = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
        &c,
        &env.keys.enc,
    )
    .unwrap();
    refused(&env.get(URI, &t).await, &t);
}

#[actix_web::test]
async fn a_rotated_key_is_picked_up() {
    let env = start_with(|c| c.auth.jwks_refetch_seconds = 0).await;
    let c = claims("alice", &["repository:alice/app:pull"]);
    env.get(URI, &env.keys.sign(&c)).await.expect(404);
    let next = Keys::generate();
    env.index.state.jwks.lock().unwrap().push(next.jwk.clone());
    env.get(URI, &next.sign(&c)).await.expect(404);
    assert_eq!(env.index.state.fetches(), 2);
}
