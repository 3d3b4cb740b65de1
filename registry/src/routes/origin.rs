//! The [`Origin`] of an event: what the notifications say of the HTTP request that caused
//! it (distribution's `request` record) and of its actor.

use crate::notifications::{Origin, RequestInfo};
use crate::state::Registry;
use actix_web::http::header::{HOST, USER_AGENT};
use actix_web::HttpRequest;

/// The request's origin; `subject`: the token's (`Grant::subject`), `None` if anonymous.
/// Without endpoints (configured or webhooks) no event is written, and nothing is built.
pub fn of(reg: &Registry, req: &HttpRequest, subject: Option<&str>) -> Origin {
    if !reg.notifier.any() {
        return Origin::default();
    }
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let client = reg.proxies.client_of(req);
    let addr = match req.peer_addr() {
        Some(peer) if peer.ip() == client => peer.to_string(),
        _ => client.to_string(),
    };
    let host = header(HOST);
    let info = req.connection_info();
    Origin {
        request: RequestInfo {
            id: pier_shared::request_id::of(req),
            addr,
            host: host.clone(),
            method: req.method().to_string(),
            useragent: header(USER_AGENT),
        },
        actor: subject.unwrap_or_default().to_string(),
        base_url: format!("{}://{}", info.scheme(), info.host()),
    }
}
