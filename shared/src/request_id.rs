//! `X-Request-Id`: one id per request, so that one push can be followed through the pair.
//!
//! ```text
//! client ──X-Request-Id: abc (kept if sane, else a new UUID)──► registry
//!   every response:  X-Request-Id: abc       (both services)
//!   every log line of the request:  … req=abc   (the access log line too)
//!   registry ──X-Request-Id: abc──► index (/introspect, JWKS, v1 checks, mirrors)
//! ```
//!
//! [`middleware`] runs the rest of the request inside a task-local scope, so code anywhere
//! below it (handlers, the registry's calls to the index) reads the id with [`current`]
//! without it being passed around; the logger appends it to each line written inside that
//! scope. Work moved to other threads (database closures) logs without it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The request id of the task this is called in, if it runs inside [`middleware`].
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The id of `req`: the one [`middleware`] chose, else (outside it) a sane client id or a
/// new UUID.
pub fn of(req: &HttpRequest) -> String {
    if let Some(RequestId(id)) = req.extensions().get::<RequestId>() {
        return id.clone();
    }
    choose(req.headers().get(HEADER).and_then(|v| v.to_str().ok()))
}

/// A client's id is kept when it is 1–128 printable ASCII characters without spaces
/// (nothing a log line or header could be forged with); otherwise a new UUID.
pub fn choose(given: Option<&str>) -> String {
    given
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
}

/// The id of a request, in its extensions.
#[derive(Debug, Clone)]
struct RequestId(String);

/// `from_fn` middleware: choose the id, run the request in its scope, answer with it.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut req = req;
    let id = choose(req.headers().get(HEADER).and_then(|v| v.to_str().ok()));
    req.extensions_mut().insert(RequestId(id.clone()));
    // The request carries the chosen id too (a client's insane one replaced), so that the
    // access log (`%{x-request-id}i`, written by a middleware inside this one) shows it.
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(HeaderName::from_static(HEADER), v);
    }
    let mut res = CURRENT.scope(id.clone(), next.call(req)).await?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(HEADER), v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test as at;
    use actix_web::{middleware::from_fn, web, App, HttpResponse};

    #[test]
    fn keeps_a_sane_id_only() {
        assert_eq!(choose(Some("abc-123")), "abc-123");
        for bad in [None, Some(""), Some("has space"), Some("new\nline")] {
            assert!(uuid::Uuid::parse_str(&choose(bad)).is_ok(), "{bad:?}");
        }
        assert!(uuid::Uuid::parse_str(&choose(Some(&"x".repeat(129)))).is_ok());
    }

    #[actix_web::test]
    async fn responses_carry_it_and_handlers_see_it() {
        let app = at::init_service(App::new().wrap(from_fn(middleware)).route(
            "/",
            web::get().to(|| async { HttpResponse::Ok().body(current().unwrap_or_default()) }),
        ))
        .await;
        let req = at::TestRequest::get()
            .uri("/")
            .insert_header(("X-Request-Id", "push-42"))
            .to_request();
        let res = at::call_service(&app, req).await;
        assert_eq!(res.headers().get("x-request-id").unwrap(), "push-42");
        assert_eq!(at::read_body(res).await, "push-42");
        let res = at::call_service(&app, at::TestRequest::get().uri("/").to_request()).await;
        let id = res
            .headers()
            .get("x-request-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(uuid::Uuid::parse_str(&id).is_ok());
        assert_eq!(current(), None, "outside a request");
    }
}
