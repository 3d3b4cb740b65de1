//! The index's token endpoint: `GET /token`'s query string (`routes::token::query_params`,
//! `query_scopes`) and `POST /token`'s form body (`routes::token::form`, `scopes`).
//!
//! Input: a query string / form body (the same `application/x-www-form-urlencoded` text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pier_index::routes::token;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(params) = token::query_params(s) {
            // Re-encoded, the parameters read back the same, in the same order.
            let text = serde_urlencoded::to_string(&params).expect("encode");
            assert_eq!(token::query_params(&text).expect("re-parse"), params);
            if let Ok(scopes) = token::query_scopes(&params) {
                let asked = params.iter().filter(|(k, _)| k == "scope").count();
                assert!(asked > 0 || scopes.is_empty());
            }
        }
    }
    if let Ok(form) = token::form(data) {
        if let Ok(scopes) = token::scopes(form.scope.iter().map(String::as_str)) {
            assert!(form.scope.is_some() || scopes.is_empty());
        }
    }
});
