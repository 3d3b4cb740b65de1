//! The pull-through cache: Pier as a mirror of other registries, beside its own
//! repositories (issue #14, docs/mirror.md).
//!
//! ```text
//! routes::dispatch ── names::target ──► Local: the ordinary handlers
//!                                  └──► mirrored: routes::mirror
//!     manifests.rs  tag fresh (tag_ttl_seconds)? serve : HEAD upstream → same digest? serve
//!                   : GET, verify, store, serve; upstream down → serve the cache + Warning
//!     blobs.rs      cached? serve : flight.rs (one upstream GET per blob per process, the
//!                   bytes streamed to every waiting client while they are stored)
//! ```
//!
//! A cached repository is an ordinary repository named `<prefix>/<upstream name>` plus a
//! `mirror_repositories` row: its manifests, tags and blob links are stored as for pushed
//! content, so GC, fsck, deletion and the catalog treat it like any other. It is read-only
//! to clients (push: 405 UNSUPPORTED). Blobs are fetched when first asked, not with their
//! manifest.

pub mod blobs;
pub mod challenge;
pub mod evict;
mod flight;
pub mod manifests;
pub mod names;
pub mod register;
pub mod stats;
pub mod tags;
pub mod upstream;

use crate::config::MirrorConfig;
use crate::error::Error;
pub use names::{Mapped, Target};
use pier_shared::{ErrorCode, OciError};
use std::sync::Arc;
use upstream::{Upstream, UpstreamError};

/// The mirror's shared state: its upstreams, the fetches in flight, and the counts not
/// yet written to the database.
pub struct Mirror {
    pub config: MirrorConfig,
    pub upstreams: Vec<Arc<Upstream>>,
    flights: flight::Flights,
    pub stats: stats::Stats,
    /// Wakes the registration task (a repository was cached for the first time).
    pub registrar: tokio::sync::Notify,
}

impl Mirror {
    pub fn new(config: &MirrorConfig) -> Result<Mirror, String> {
        let upstreams = config
            .upstreams
            .iter()
            .map(|u| Upstream::new(u).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(Mirror {
            config: config.clone(),
            upstreams,
            flights: flight::Flights::default(),
            stats: stats::Stats::default(),
            registrar: tokio::sync::Notify::new(),
        })
    }

    pub fn enabled(&self) -> bool {
        !self.upstreams.is_empty()
    }

    /// Where a request for `name` (with `?ns=`) goes.
    pub fn target(&self, name: &pier_shared::RepoName, ns: Option<&str>) -> Target {
        names::target(&self.config, name, ns)
    }

    pub fn upstream(&self, mapped: &Mapped) -> &Arc<Upstream> {
        &self.upstreams[mapped.upstream]
    }
}

/// Start the mirror's background work on the current actix system: writing the hit/miss
/// counts (every 5 s), keeping `max_bytes` (every 60 s), and in token mode telling the
/// index about the mirror.
pub fn spawn(reg: crate::state::Registry) {
    use std::time::Duration;
    if !reg.mirror.enabled() {
        return;
    }
    let r = reg.clone();
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(Duration::from_secs(5)).await;
            stats::flush(&r).await;
        }
    });
    if reg.mirror.config.max_bytes > 0 {
        let r = reg.clone();
        actix_web::rt::spawn(async move {
            loop {
                actix_web::rt::time::sleep(Duration::from_secs(60)).await;
                if let Err(e) = evict::run(&r).await {
                    log::warn!("mirror: eviction failed, retrying in 60 s: {e}");
                }
            }
        });
    }
    if reg.config.auth.mode == crate::config::AuthMode::Token {
        actix_web::rt::spawn(register::run(reg));
    }
}

/// The error a client gets when the upstream could not give what is not cached.
/// `unknown`: the code for "it does not exist" (MANIFEST_UNKNOWN or BLOB_UNKNOWN).
pub(crate) fn upstream_error(
    up: &Upstream,
    e: &UpstreamError,
    what: &str,
    unknown: ErrorCode,
) -> Error {
    use actix_web::http::StatusCode;
    let who = up.describe();
    let oci = match e {
        UpstreamError::NotFound => {
            OciError::with_message(unknown, format!("{what} not found at {who}"))
        }
        UpstreamError::Denied => OciError::with_message(
            unknown,
            format!(
                "{who} refused access to {what}: it does not exist there, or needs \
                 credentials the mirror does not have"
            ),
        ),
        UpstreamError::Unreachable(_) => OciError::with_message(
            ErrorCode::Unavailable,
            format!("{who} is unreachable and {what} is not cached: {e}"),
        ),
        UpstreamError::Refused { retry_after, .. } => {
            let mut o = OciError::with_message(
                ErrorCode::Unavailable,
                format!("{who} {e}, and {what} is not cached"),
            )
            .status(StatusCode::BAD_GATEWAY);
            if let Some(r) = retry_after {
                o = o.header(actix_web::http::header::RETRY_AFTER, r.clone());
            }
            o
        }
        UpstreamError::Unexpected(_) => OciError::with_message(
            ErrorCode::Unavailable,
            format!("{who}: {e}; {what} is not cached"),
        )
        .status(StatusCode::BAD_GATEWAY),
    };
    Error::Oci(oci)
}

/// The `Warning` (RFC 7234 §5.5, code 110 "Response is Stale") sent with cached content
/// served because the upstream could not be asked.
pub(crate) fn stale_warning(up: &Upstream, e: &UpstreamError) -> String {
    let text = format!("Response is stale: {} {e}", up.describe()).replace(['"', '\\'], "'");
    format!("110 - \"{text}\"")
}
