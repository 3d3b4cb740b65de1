//! In-process tests of the registry's `/v2` API (issue #2): every endpoint and every error
//! code, through `actix_web::test` (no network), with a fresh registry in a temporary
//! directory per test.
//!
//! One module per endpoint group; `common` holds the harness and the push helpers.

mod base;
mod blobs;
mod chunked;
mod common;
mod delete;
mod errors;
mod fsck;
mod gc;
mod gc_stress;
mod health;
mod manifest_errors;
mod manifests;
mod mirror;
mod mirror_auth;
mod mount;
mod names;
mod notifications;
mod referrers;
mod repository_delete;
mod s3;
mod stored;
mod tags_catalog;
mod uploads;
mod v1_access;
mod v1_gc;
