//! The `Authorization` header, as each server reads it: the registry's Bearer check
//! (`auth::header::credentials`), the index's Basic/Bearer parser (`routes::auth`), the
//! index's v1 `Token …`/`Basic …` parser (`routes::v1`), and the v1 token the registry
//! accepts (`pier_shared::v1::Token`).
//!
//! Input: one header value.
#![no_main]

use actix_web::http::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use libfuzzer_sys::fuzz_target;
use pier_index::routes::auth::{self, Credentials as IndexCredentials};
use pier_index::routes::v1::{self as index_v1, Presented};
use pier_registry::auth::header::{self as registry_header, Credentials};
use pier_shared::v1::Token;

fn check_token(t: &Token) {
    assert!(!t.id.is_empty() && !t.secret.is_empty() && !t.id.contains('.'));
    assert_eq!(t.repository.as_str().split('/').count(), 2);
    // What the index hands out is what it reads back.
    assert_eq!(&Token::parse(&t.header_value()).expect("re-parse"), t);
}

fuzz_target!(|data: &[u8]| {
    // actix refuses a request whose header is not a valid value before any handler runs.
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value.clone());
    if let Credentials::Bearer(token) = registry_header::credentials(&headers) {
        assert!(!token.is_empty() && token.len() <= 16 * 1024);
        assert!(!token.contains(' ') && data.ends_with(token.as_bytes()));
    }
    match auth::parse_credentials(&value) {
        Ok(IndexCredentials::Basic { user, password: _ }) => assert!(!user.contains(':')),
        Ok(IndexCredentials::Bearer(token)) => assert!(!token.is_empty()),
        Err(_) => {}
    }
    match index_v1::parse_presented(&value) {
        Ok(Presented::Token(t)) => check_token(&t),
        Ok(Presented::Basic(user, _)) => assert!(!user.contains(':')),
        Ok(Presented::None) => panic!("a header is not None"),
        Err(_) => {}
    }
    if let Ok(text) = value.to_str() {
        if let Some(Ok(t)) = Token::from_authorization(text) {
            check_token(&t);
        }
    }
});
