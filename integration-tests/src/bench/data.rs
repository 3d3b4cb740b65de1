//! Test data, generated before the timed part: blobs of one size share a random body and
//! differ in a 16-byte tail, so thousands of distinct blobs cost one buffer, and each digest
//! is the shared body's hash state (computed once) finished with its tail.

use sha2::{Digest, Sha256};

/// Bytes that differ between the blobs of one [`BlobSet`].
pub const TAIL: usize = 16;

/// `count` distinct blobs of `size` bytes (`size` ≥ [`TAIL`]).
pub struct BlobSet {
    pub head: Vec<u8>,
    pub tails: Vec<[u8; TAIL]>,
    pub digests: Vec<String>,
}

impl BlobSet {
    /// `salt` keeps sets of different runs (rounds, targets) apart.
    pub fn new(size: usize, count: usize, salt: u64) -> BlobSet {
        assert!(size >= TAIL, "blob size below {TAIL} bytes");
        let head = random_bytes(size - TAIL, salt ^ size as u64);
        let state = Sha256::new_with_prefix(&head);
        let mut tails = Vec::with_capacity(count);
        let mut digests = Vec::with_capacity(count);
        for i in 0..count {
            let mut tail = [0u8; TAIL];
            tail[..8].copy_from_slice(&salt.to_le_bytes());
            tail[8..].copy_from_slice(&(i as u64).to_le_bytes());
            digests.push(format!(
                "sha256:{}",
                hex::encode(state.clone().chain_update(tail).finalize())
            ));
            tails.push(tail);
        }
        BlobSet {
            head,
            tails,
            digests,
        }
    }

    pub fn size(&self) -> u64 {
        (self.head.len() + TAIL) as u64
    }

    pub fn len(&self) -> usize {
        self.tails.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tails.is_empty()
    }

    /// The body of blob `i`.
    pub fn body(&self, i: usize) -> crate::bench::client::Body<'_> {
        crate::bench::client::Body {
            head: &self.head,
            tail: &self.tails[i],
        }
    }
}

/// Pseudo-random bytes (xorshift64*; not for secrets, only incompressible test data).
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// `sha256:<hex>` of a body.
pub fn digest_of(body: &crate::bench::client::Body) -> String {
    let d = Sha256::new_with_prefix(body.head)
        .chain_update(body.tail)
        .finalize();
    format!("sha256:{}", hex::encode(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_the_bodies() {
        let set = BlobSet::new(1000, 3, 7);
        assert_eq!(set.size(), 1000);
        for i in 0..3 {
            assert_eq!(digest_of(&set.body(i)), set.digests[i]);
        }
        assert_ne!(set.digests[0], set.digests[1]);
    }
}
