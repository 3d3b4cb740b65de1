//! The [`Origin`] of an event: what the notifications say of the HTTP request that caused
//! it (distribution's `request` record) and of its actor.

use crate::notifications::{Origin, RequestInfo};
use crate::state::Registry;
use actix_web::http::header::{HOST, USER_AGENT};
use actix_web::HttpRequest;

/// A client's `X-Request-Id` is kept when it is short printable ASCII; else a new one.
fn request_id(req: &HttpRequest) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
}

/// The request's origin; `subject`: the token's (`Grant::subject`), `None` if anonymous.
/// Without endpoints no event is written, and nothing is built.
pub fn of(reg: &Registry, req: &HttpRequest, subject: Option<&str>) -> Origin {
    if reg.notifier.endpoints.is_empty() {
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
            id: request_id(req),
            addr,
            host: host.clone(),
            method: req.method().to_string(),
            useragent: header(USER_AGENT),
        },
        actor: subject.unwrap_or_default().to_string(),
        base_url: format!("{}://{}", info.scheme(), info.host()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn keeps_a_sane_request_id_only() {
        let r = TestRequest::default()
            .insert_header(("X-Request-Id", "abc-123"))
            .to_http_request();
        assert_eq!(request_id(&r), "abc-123");
        let r = TestRequest::default()
            .insert_header(("X-Request-Id", "has space"))
            .to_http_request();
        assert!(uuid::Uuid::parse_str(&request_id(&r)).is_ok());
        let r = TestRequest::default().to_http_request();
        assert!(uuid::Uuid::parse_str(&request_id(&r)).is_ok());
    }
}
