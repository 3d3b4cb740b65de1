//! The legacy Docker v1 registry protocol (docs/legacy-v1.md): token checks with the
//! index and the session that carries a confirmed grant ([`access`]), images — json,
//! layer, checksum, ancestry — ([`images`]) and repository tags ([`tags`]).
//!
//! Layers are ordinary content-addressed blobs (uploaded through `services::uploads`);
//! image json, ancestry and tags are rows (`db::v1`).

pub mod access;
pub mod error;
pub mod images;
pub mod tags;

pub use access::{Authorized, Need, V1State};
pub use error::V1Error;
