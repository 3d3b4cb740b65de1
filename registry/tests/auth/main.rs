//! In-process tests of token auth (issue #3, the registry side): the registry in token
//! mode against a fake index on 127.0.0.1 that serves a JWKS and answers `/introspect` as
//! each test says, counting its calls.
//!
//! `challenge`: what needs which token and the 401s; `attacks`: every "Bad input" of the
//! issue; `confirm`: introspection, its cache and an index that is down; `mount_catalog`:
//! cross-repo mounts and the filtered catalog; `config`: loading `[auth]`.

mod attacks;
mod challenge;
mod common;
mod config;
mod confirm;
mod mount_catalog;
