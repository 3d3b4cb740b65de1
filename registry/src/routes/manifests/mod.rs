//! The manifest endpoints, one file each, over `services::manifests`.

pub mod delete;
pub mod get;
pub mod put;
