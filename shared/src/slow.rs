//! Slow clients. Headers must arrive within `http.header_timeout_seconds` (actix's
//! `client_request_timeout`, applied by each service's `server.rs`, which also sets the
//! keep-alive), and a request body that sends nothing for `http.body_idle_timeout_seconds`
//! fails with an I/O "timed out" error ([`idle_body`]), so a stalled upload ends, its
//! handler cancels what it wrote and the connection is closed. Handlers never hold a
//! database connection while a body is read (`Db::run` takes one per closure), so a
//! stalled client holds a task and a socket, never a worker or a connection.

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::rt::time::{sleep, Sleep};
use actix_web::HttpMessage;
use bytes::Bytes;
use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The timeouts `server.rs` applies; `body_idle_timeout` also goes into the app data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clients {
    pub header_timeout: Duration,
    pub keep_alive: Duration,
    pub body_idle_timeout: Duration,
}

impl Clients {
    /// From a service's `http.*` settings (seconds).
    pub fn from_seconds(header_timeout: u64, keep_alive: u64, body_idle_timeout: u64) -> Clients {
        Clients {
            header_timeout: Duration::from_secs(header_timeout),
            keep_alive: Duration::from_secs(keep_alive),
            body_idle_timeout: Duration::from_secs(body_idle_timeout),
        }
    }

    /// Check a service's `http.*` client settings: `trusted_proxies` must parse, and the
    /// header and body-idle timeouts must be positive.
    pub fn check_settings(
        trusted_proxies: &[String],
        header_timeout: u64,
        body_idle_timeout: u64,
    ) -> Result<(), String> {
        crate::client::TrustedProxies::parse(trusted_proxies)?;
        if header_timeout == 0 || body_idle_timeout == 0 {
            return Err(
                "http.header_timeout_seconds and body_idle_timeout_seconds must be positive".into(),
            );
        }
        Ok(())
    }
}

/// App data read by [`idle_body`].
#[derive(Debug, Clone, Copy)]
pub struct BodyIdleTimeout(pub Duration);

/// Middleware (`middleware::from_fn(idle_body)`): wrap the request body so that a pause
/// longer than the [`BodyIdleTimeout`] in the app data ends it with an error.
pub async fn idle_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(BodyIdleTimeout(t)) = req.app_data::<BodyIdleTimeout>().copied() {
        let inner = req.take_payload();
        let wrapped = IdleStream {
            inner,
            timeout: t,
            timer: Box::pin(sleep(t)),
            done: false,
        };
        req.set_payload(Payload::Stream {
            payload: Box::pin(wrapped),
        });
    }
    next.call(req).await
}

struct IdleStream {
    inner: Payload,
    timeout: Duration,
    timer: Pin<Box<Sleep>>,
    done: bool,
}

impl Stream for IdleStream {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(item)) => {
                let deadline = actix_web::rt::time::Instant::now() + self.timeout;
                self.timer.as_mut().reset(deadline);
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    log::info!(
                        "request body idle for {}s: abandoned",
                        self.timeout.as_secs()
                    );
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no body data for {}s", self.timeout.as_secs()),
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
