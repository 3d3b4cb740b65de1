//! pier-index: Pier's index and token service. It authenticates users, keeps namespaces,
//! organizations, teams and repositories (with their visibility), decides who may do what,
//! issues Docker registry tokens (ES256 JWTs) and confirms them for the registry (RFC 7662).
//!
//! Layers, each allowed to call only the ones below it:
//!
//! ```text
//! routes    HTTP only: extract, call one service, respond       (routes/)
//! web       the HTML UI under /ui/, a routes layer of its own    (web/)
//! services  rules: policy, tokens, credentials, users, teams    (services/)
//! db        SQL, one module per table group                     (db/)
//! keys      the signing keys: sealed in the db, a set in memory  (keys/)
//! ```
//!
//! [`server::app`] builds the actix application for tests; [`server::bind`] serves it.

pub mod cli;
mod cli_keys;
pub mod config;
pub mod db;
pub mod error;
pub mod keys;
pub mod metrics;
pub mod routes;
pub mod server;
pub mod services;
pub mod state;
pub mod web;

pub use config::IndexConfig;
pub use state::Index;
