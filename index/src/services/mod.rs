//! The index's rules. Services call the db layer and each other, never routes; they take
//! parsed values and return [`crate::error::Error`], never HTTP types.

pub mod access_tokens;
pub mod audit;
pub mod bootstrap;
pub mod credentials;
pub mod deletions;
pub mod flows;
pub mod introspection;
pub mod login_throttle;
pub mod mirror_stats;
pub mod mirrors;
pub mod namespaces;
pub mod policy;
pub mod random;
pub mod registry_client;
pub mod repositories;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod v1;
pub mod web_sessions;
