//! In-process tests of token auth (issue #3, the registry side): the registry in token
//! mode against a fake index on 127.0.0.1 that serves a JWKS and answers `/introspect` as
//! each test says, counting its calls.
//!
//! `challenge`: what needs which token and the 401s; `attacks`: every "Bad input" of the
//! issue; `confirm`: introspection, its cache and an index that is down; `mount_catalog`:
//! cross-repo mounts and the filtered catalog; `config`: loading `[auth]`; `notifications`: the events' actor and who may read the
//! delivery state; `webhooks`: per-namespace webhooks read from the index. `common` is the
//! harness, `fake_index` the index stand-in, `logs` records log lines to search for secrets.

mod attacks;
mod challenge;
mod common;
mod config;
mod confirm;
mod fake_index;
mod logs;
mod mount_catalog;
mod notifications;
mod webhooks;
