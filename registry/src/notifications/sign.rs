//! `X-Pier-Signature: sha256=<hex HMAC-SHA256 of the body>` with the endpoint's secret,
//! so that a receiver can tell Pier's requests from anyone else's (GitHub's webhook
//! habit). ring is already the workspace's crypto provider (rustls).

pub const HEADER: &str = "X-Pier-Signature";

/// The header's value for `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    format!(
        "sha256={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    )
}

#[cfg(test)]
mod tests {
    /// RFC 4231, test case 2.
    #[test]
    fn matches_the_rfc_4231_vector() {
        assert_eq!(
            super::signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
