//! Helpers for Pier's integration tests: start the real binaries on free 127.0.0.1 ports,
//! stop them on drop, make OCI image layouts on disk, and run third-party clients.
//!
//! Tests here never talk to an address other than 127.0.0.1. A client a test needs that is
//! not installed is a test failure (see `require_tool`), never a silent skip.

pub mod artifacts;
pub mod bench;
pub mod browser;
pub mod crash;
pub mod docker;
pub mod image;
pub mod logscan;
pub mod mirror;
pub mod nginx;
pub mod pier;
pub mod proxy;
pub mod replicas;
pub mod rng;
pub mod server;
pub mod stored;
pub mod stress;
pub mod tls;
pub mod tools;
pub mod ui;
pub mod v1;

pub use image::{OciLayout, Platform};
pub use pier::Pier;
pub use server::{Registry, Service};
pub use tools::{docker_engine_available, manifest_digest, require_tool, run, run_ok};

/// An HTTP Basic `Authorization` header value.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// `sha256:<hex>` of `data`.
pub fn sha256(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}
