//! Reading the `Authorization` header (RFC 6750 §2.1) into what the client presented.
//!
//! Only the header is read: tokens in query strings or form bodies are not accepted. The
//! token itself is never logged or copied into an error.

use actix_web::http::header::{HeaderMap, AUTHORIZATION};

/// Largest token accepted; real registry tokens are a few KiB at most.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// What the request's `Authorization` header holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// No `Authorization` header.
    Absent,
    /// `Bearer <token68>`.
    Bearer(&'a str),
    /// Another scheme (e.g. `Basic`): the client has not fetched a token yet.
    OtherScheme,
    /// A `Bearer` header whose credential is not a token (empty, spaces, bad characters,
    /// too long), or several `Authorization` headers.
    Malformed,
}

fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// Classify the request's credentials.
pub fn credentials(headers: &HeaderMap) -> Credentials<'_> {
    let mut values = headers.get_all(AUTHORIZATION);
    let Some(value) = values.next() else {
        return Credentials::Absent;
    };
    if values.next().is_some() {
        return Credentials::Malformed;
    }
    let Ok(value) = value.to_str() else {
        return Credentials::Malformed;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::OtherScheme;
    }
    let token = rest.trim_start_matches(' ');
    if token.len() > MAX_TOKEN_LEN || !is_token68(token) {
        return Credentials::Malformed;
    }
    Credentials::Bearer(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn with(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn classifies() {
        assert_eq!(credentials(&HeaderMap::new()), Credentials::Absent);
        assert_eq!(
            credentials(&with(&[b"Bearer a.b.c"])),
            Credentials::Bearer("a.b.c")
        );
        assert_eq!(
            credentials(&with(&[b"bearer  a.b-c_d"])),
            Credentials::Bearer("a.b-c_d")
        );
        assert_eq!(
            credentials(&with(&[b"Basic dXNlcjpwYXNz"])),
            Credentials::OtherScheme
        );
        assert_eq!(credentials(&with(&[b"garbage"])), Credentials::OtherScheme);
        for bad in [
            &b"Bearer"[..],
            b"Bearer ",
            b"Bearer a b",
            b"Bearer a\tb",
            b"Bearer \"a.b.c\"",
            b"Bearer a.b.c,",
            b"Bearer \xff\xfe",
            b"Bearer ===",
        ] {
            assert_eq!(
                credentials(&with(&[bad])),
                Credentials::Malformed,
                "{bad:?}"
            );
        }
        assert_eq!(
            credentials(&with(&[b"Bearer a", b"Bearer b"])),
            Credentials::Malformed
        );
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(
            credentials(&with(&[long.as_bytes()])),
            Credentials::Malformed
        );
    }
}
