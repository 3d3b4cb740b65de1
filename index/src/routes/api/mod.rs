//! The JSON API under `/api/v1`: users, organizations, teams, repositories, refresh
//! tokens, personal access tokens. Authenticated by Basic credentials or a Bearer token from `/token`; every error
//! is an RFC 7807 problem (`crate::error`). Documented in `openapi.json` beside this file.

pub mod access_tokens;
pub mod openapi;
pub mod orgs;
pub mod repositories;
pub mod sessions;
pub mod teams;
pub mod users;

use crate::config::LimitsConfig;
use crate::error::Error;
use actix_web::error::JsonPayloadError;
use actix_web::web;

/// Body, query and path extraction failures as problems (actix would answer plain text).
pub fn extractor_errors(cfg: &mut web::ServiceConfig, limits: &LimitsConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(limits.json_max_bytes)
            .error_handler(|e, _| match e {
                JsonPayloadError::Overflow { limit }
                | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                    Error::PayloadTooLarge(limit).into()
                }
                e => Error::BadRequest(format!("invalid JSON body: {e}")).into(),
            }),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| Error::BadRequest(format!("invalid query: {e}")).into()),
    )
    .app_data(
        web::PathConfig::default()
            .error_handler(|e, _| Error::BadRequest(format!("invalid path: {e}")).into()),
    );
}
