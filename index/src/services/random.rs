//! Secure random values: generated passwords, refresh tokens, token ids.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

/// `N` random bytes from the operating system.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The system RNG failing is not something a server can carry on from.
    SystemRandom::new()
        .fill(&mut b)
        .expect("the operating system's random number generator failed");
    b
}

/// 32 random bytes, base64url: refresh tokens.
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(bytes::<32>())
}

/// A generated password: 18 random bytes, base64url (24 characters).
pub fn password() -> String {
    URL_SAFE_NO_PAD.encode(bytes::<18>())
}

/// A token id (`jti`) or refresh-token id: 16 random bytes, base64url.
pub fn id() -> String {
    URL_SAFE_NO_PAD.encode(bytes::<16>())
}
