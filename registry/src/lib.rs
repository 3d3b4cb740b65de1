//! pier-registry: Pier's storage service, the OCI Distribution / Docker Registry v2 API.
//!
//! Layers, each allowed to call only the ones below it:
//!
//! ```text
//! routes    HTTP only: parse, call one service, respond        (routes/)
//! services  registry rules: uploads, manifests, links, listing  (services/)
//! db        SQL, one module per table                           (db/)
//! storage   bytes: a small trait and its drivers                (storage/)
//! ```
//!
//! [`auth`] sits beside routes: `routes::dispatch` asks it, before any handler, whether the
//! request's token grants what the route needs (token mode), or lets everything through.
//!
//! [`gc`] sits beside services: online garbage collection, run in the background by the
//! server and on demand by `pier-registry gc`.
//!
//! [`notifications`] sits beside services too: they queue its events inside their own
//! transactions; its delivery tasks, started by the server, send them (docs/notifications.md).
//!
//! [`server::app`] builds the actix application for tests and for [`server::run`].

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod fsck;
pub mod gc;
pub mod http_client;
pub mod manifest;
pub mod memory;
pub mod metrics;
pub mod mirror;
pub mod notifications;
pub mod routes;
pub mod server;
pub mod services;
pub mod state;
pub mod storage;

pub use config::RegistryConfig;
pub use state::Registry;
