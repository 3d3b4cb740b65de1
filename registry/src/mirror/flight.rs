//! One upstream fetch per blob however many clients ask at once (single flight), streamed
//! to each of them while it is stored.
//!
//! ```text
//! first request ──► Flights::join: new ──► spawn fetch ─┬─► spool file (unnamed, this process)
//! later requests ─► Flights::join: the same flight       └─► uploads::upload_whole (hash,
//!                                                             verify, storage, link)
//! every request reads the spool up to what was written, less the last byte until the digest
//! is verified: a client never receives a complete body whose digest is wrong.
//! ```
//!
//! The fetch runs as a task of its own, so a client that goes away does not stop it for the
//! others (the blob is cached all the same). The spool is an unnamed temporary file: it
//! disappears with the last reader, whatever happens. The store goes through the upload
//! state machine, so the GC race rules, the digest check and both storage drivers are the
//! ones pushes use. Flights are per process: several replicas fetch at most once each.

use super::names::Mapped;
use super::upstream::{Upstream, UpstreamError};
use crate::error::Error;
use crate::services::uploads;
use crate::state::Registry;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::http::Method;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use pier_shared::Digest;
use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Largest piece read from the spool for a client at once.
const CHUNK: u64 = 256 * 1024;

/// How far a fetch is.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Waiting for the upstream's answer.
    Asking,
    /// Bytes are arriving: `written` of them are in the spool.
    Streaming { size: Option<u64>, written: u64 },
    /// Verified and stored: `size` bytes, all in the spool.
    Done { size: u64 },
    /// Given up; nothing was stored.
    Failed(Failure),
    /// Not fetched: the registry held the bytes already when the flight began (a flight
    /// that ended just before this one was asked for). Nothing is in the spool.
    Stored,
}

#[derive(Debug, Clone)]
pub enum Failure {
    /// The upstream would not give it (before any byte came).
    Upstream(UpstreamError),
    /// Anything after: the body broke off, the digest was wrong, storage failed.
    Broken(String),
}

pub struct Flight {
    pub digest: Digest,
    spool: Arc<std::fs::File>,
    progress: watch::Sender<Progress>,
}

#[derive(Default)]
pub struct Flights {
    running: Mutex<HashMap<String, Arc<Flight>>>,
}

impl Flights {
    /// The flight fetching `digest`, and whether this call started it (then the caller
    /// must [`start`] it).
    fn join(&self, digest: &Digest) -> std::io::Result<(Arc<Flight>, bool)> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = running.get(&digest.to_string()) {
            return Ok((Arc::clone(f), false));
        }
        let flight = Arc::new(Flight {
            digest: digest.clone(),
            spool: Arc::new(tempfile::tempfile()?),
            progress: watch::channel(Progress::Asking).0,
        });
        running.insert(digest.to_string(), Arc::clone(&flight));
        Ok((flight, true))
    }

    fn finish(&self, digest: &Digest) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.remove(&digest.to_string());
    }
}

/// Join (or start) the fetch of `digest` for the cached repository `mapped.local`.
/// Returns once the upstream answered: the size if it announced one, and the stream of
/// the body for this client; `None` if the registry turned out to hold the blob already
/// (serve it from storage); or the upstream's refusal.
#[allow(clippy::type_complexity)]
pub async fn fetch(
    reg: &Registry,
    mapped: &Mapped,
    digest: &Digest,
) -> Result<
    Option<(
        Option<u64>,
        impl Stream<Item = Result<Bytes, std::io::Error>>,
    )>,
    Error,
> {
    let flights = &reg.mirror.flights;
    let (flight, leader) = flights.join(digest).map_err(|e| {
        log::error!("mirror: cannot create a spool file: {e}");
        Error::from(pier_shared::ErrorCode::Unknown)
    })?;
    if leader {
        reg.mirror.stats.miss(mapped.local.as_str());
        let (reg2, mapped2, flight2) = (reg.clone(), mapped.clone(), Arc::clone(&flight));
        actix_web::rt::spawn(async move {
            let outcome = run(&reg2, &mapped2, &flight2).await;
            let _ = flight2.progress.send(outcome);
            reg2.mirror.flights.finish(&flight2.digest);
        });
    } else {
        reg.mirror.stats.hit(mapped.local.as_str());
    }
    let mut rx = flight.progress.subscribe();
    let size = loop {
        match &*rx.borrow_and_update() {
            Progress::Asking => {}
            Progress::Streaming { size, .. } => break *size,
            Progress::Done { size } => break Some(*size),
            Progress::Stored => return Ok(None),
            Progress::Failed(Failure::Upstream(e)) => {
                let up = reg.mirror.upstream(mapped);
                return Err(super::upstream_error(
                    up,
                    e,
                    &format!("blob {digest}"),
                    pier_shared::ErrorCode::BlobUnknown,
                ));
            }
            Progress::Failed(Failure::Broken(why)) => {
                return Err(Error::oci(
                    pier_shared::ErrorCode::Unavailable,
                    format!("fetching blob {digest} failed: {why}; try again"),
                ));
            }
        }
        if rx.changed().await.is_err() {
            return Err(Error::from(pier_shared::ErrorCode::Unknown));
        }
    };
    // Another repository's flight: link the blob here too once it is stored.
    let link = (!leader).then(|| (reg.clone(), mapped.local.clone()));
    Ok(Some((size, read(flight, rx, link))))
}

/// The fetch itself: ask, then stream into the spool and the upload state machine.
async fn run(reg: &Registry, mapped: &Mapped, flight: &Flight) -> Progress {
    let up: &Upstream = reg.mirror.upstream(mapped);
    let digest = &flight.digest;
    // A request that found the blob missing, then found no flight, may come just after
    // the previous flight stored it: look again before asking the upstream.
    let d = digest.to_string();
    match reg.db.run(move |c| crate::db::blobs::size(c, &d)).await {
        Ok(Some(_)) => return Progress::Stored,
        Ok(None) => {}
        Err(e) => return Progress::Failed(Failure::Broken(format!("database: {e}"))),
    }
    let res = match up
        .send(
            Method::GET,
            &mapped.remote,
            &format!("blobs/{digest}"),
            None,
        )
        .await
    {
        Ok(r) => r,
        Err(e) => {
            log::warn!("mirror: {} blob {digest}: {e}", up.describe());
            return Progress::Failed(Failure::Upstream(e));
        }
    };
    let size = res
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let _ = flight
        .progress
        .send(Progress::Streaming { size, written: 0 });
    let idle = up.idle_timeout();
    let spool = Arc::clone(&flight.spool);
    let progress = flight.progress.clone();
    let body = futures_util::stream::unfold((res, 0u64), move |(mut res, written)| {
        let (spool, progress) = (Arc::clone(&spool), progress.clone());
        async move {
            let next = match actix_web::rt::time::timeout(idle, res.next()).await {
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("the upstream sent nothing for {} s", idle.as_secs()),
                )),
                Ok(None) => return None,
                Ok(Some(Err(e))) => Err(std::io::Error::other(e.to_string())),
                Ok(Some(Ok(chunk))) => Ok(chunk),
            };
            let chunk = match next {
                Ok(c) => c,
                Err(e) => return Some((Err(e), (res, written))),
            };
            if let Err(e) = (&*spool).write_all(&chunk) {
                return Some((Err(e), (res, written)));
            }
            let written = written + chunk.len() as u64;
            progress.send_modify(|p| {
                if let Progress::Streaming { written: w, .. } = p {
                    *w = written;
                }
            });
            Some((Ok(chunk), (res, written)))
        }
    });
    match uploads::upload_whole(reg, &mapped.local, digest, Box::pin(body)).await {
        Ok(stored) => {
            log::info!(
                "mirror: cached blob {digest} ({stored} bytes) of {} from {}",
                mapped.local,
                up.describe()
            );
            Progress::Done { size: stored }
        }
        Err(e) => {
            log::warn!("mirror: blob {digest} from {}: {e}", up.describe());
            Progress::Failed(Failure::Broken(e.to_string()))
        }
    }
}

/// A client's view of the flight: the spool's bytes as they come, the last one only once
/// the blob is verified; an error if the fetch fails.
fn read(
    flight: Arc<Flight>,
    rx: watch::Receiver<Progress>,
    link: Option<(Registry, pier_shared::RepoName)>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(
        (flight, rx, 0u64, link),
        |(flight, mut rx, offset, mut link)| async move {
            loop {
                if offset == u64::MAX {
                    return None; // after an error
                }
                let p = rx.borrow_and_update().clone();
                let readable = match &p {
                    Progress::Asking | Progress::Stored => 0,
                    Progress::Streaming { written, .. } => written.saturating_sub(1),
                    Progress::Done { size } => *size,
                    Progress::Failed(f) => {
                        let why = match f {
                            Failure::Upstream(e) => e.to_string(),
                            Failure::Broken(w) => w.clone(),
                        };
                        let e = std::io::Error::other(format!("mirror fetch failed: {why}"));
                        // Yield the error once; the stream ends after it.
                        return Some((Err(e), (flight, rx, u64::MAX, None)));
                    }
                };
                if offset < readable {
                    let len = (readable - offset).min(CHUNK);
                    let spool = Arc::clone(&flight.spool);
                    let chunk = actix_web::rt::task::spawn_blocking(move || {
                        let mut buf = vec![0u8; len as usize];
                        spool.read_exact_at(&mut buf, offset).map(|_| buf)
                    })
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|r| r);
                    return match chunk {
                        Ok(buf) => Some((Ok(Bytes::from(buf)), (flight, rx, offset + len, link))),
                        Err(e) => Some((Err(e), (flight, rx, u64::MAX, None))),
                    };
                }
                if let Progress::Done { .. } = p {
                    if let Some((reg, local)) = link.take() {
                        super::blobs::link_cached(&reg, &local, &flight.digest).await;
                    }
                    return None;
                }
                if rx.changed().await.is_err() {
                    let e = std::io::Error::other("mirror fetch ended without an outcome");
                    return Some((Err(e), (flight, rx, u64::MAX, None)));
                }
            }
        },
    )
}
