//! Per-request HTTP metrics, recorded by one middleware ([`track`]) that both services wrap
//! around their whole application (outermost, so that refusals by other middleware count).
//!
//! The `route` label is a *template*, never the path: a handler that parses its own paths
//! (the registry's `/v2/…`, where a repository name has any number of segments) puts a
//! [`RouteTemplate`] into the request's extensions; otherwise the actix resource pattern
//! (`HttpRequest::match_pattern`) is used, and a request no resource matched is
//! `unmatched`. Parameters are written `<name>`, as the OCI distribution spec writes its
//! endpoints (`/v2/<name>/manifests/<reference>`): actix's `{namespace}` or `{tail:.*}`
//! become `<namespace>`, `<tail>` ([`template_of_pattern`]), which also keeps `{`, `}`, `,`
//! and `=` out of label values, where simple exposition parsers trip over them. Methods outside the standard set are
//! `other`. So the label values come from a set fixed by the code, whatever clients send.
//!
//! The latency is the time until the response *head* is ready (a blob download's body may
//! stream for minutes after that; its bytes are counted as they are sent).

use super::latency_histogram;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use bytes::Bytes;
use futures_util::Stream;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

/// The route template of a request whose handler parsed the path itself (a request
/// extension, read by [`track`] once the response is ready).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTemplate(pub &'static str);

/// The `route` label of a request no actix resource (and no handler) named.
pub const UNMATCHED: &str = "unmatched";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: String,
    pub status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The HTTP metrics of one service. Cloning shares the series (put a clone into the app
/// data with `App::app_data`, where [`track`] finds it).
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily<RouteLabels>,
    received: Family<RouteLabels, Counter>,
    sent: Family<RouteLabels, Counter>,
    in_flight: Gauge,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
            received: Family::default(),
            sent: Family::default(),
            in_flight: Gauge::default(),
        }
    }
}

impl HttpMetrics {
    /// Register the series as `pier_http_*` (the registry passed has the `pier` prefix).
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status code",
            self.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time until the response head was ready, by route template and method",
            self.duration.clone(),
        );
        r.register(
            "http_received_bytes",
            "Request body bytes received, by route template and method",
            self.received.clone(),
        );
        r.register(
            "http_sent_bytes",
            "Response body bytes sent, by route template and method",
            self.sent.clone(),
        );
        r.register(
            "http_requests_in_flight",
            "Requests whose response head is not ready yet",
            self.in_flight.clone(),
        );
    }
}

/// A method label from a fixed set.
fn method_label(m: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The request's route template (see the module doc).
fn route_of(req: &actix_web::HttpRequest) -> String {
    if let Some(RouteTemplate(t)) = req.extensions().get::<RouteTemplate>() {
        return (*t).to_string();
    }
    req.match_pattern()
        .map(|p| template_of_pattern(&p))
        .unwrap_or_else(|| UNMATCHED.to_string())
}

/// An actix resource pattern as a template: `{name}` and `{name:regex}` become `<name>`.
pub fn template_of_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        // A regex may hold braces of its own (`{id:[0-9]{2}}`): find the matching one.
        let mut depth = 1;
        let close = after.char_indices().find_map(|(i, c)| {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        });
        let Some(close) = close else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = after[..close].split(':').next().unwrap_or("");
        out.push('<');
        out.push_str(name);
        out.push('>');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Decrements the in-flight gauge however the request ends (a dropped future included).
struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Request body bytes: counted into `pending` until the route is known, then straight
/// into the route's counter (a body may still be read after the response head).
#[derive(Default)]
struct Received {
    pending: Cell<u64>,
    counter: RefCell<Option<Counter>>,
}

impl Received {
    fn add(&self, n: u64) {
        match self.counter.borrow().as_ref() {
            Some(c) => {
                c.inc_by(n);
            }
            None => self.pending.set(self.pending.get() + n),
        }
    }

    fn attach(&self, c: Counter) {
        c.inc_by(self.pending.take());
        *self.counter.borrow_mut() = Some(c);
    }
}

struct CountedPayload {
    inner: Payload,
    received: Rc<Received>,
}

impl Stream for CountedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &item {
            self.received.add(chunk.len() as u64);
        }
        item
    }
}

/// A response body that counts its bytes as they are sent.
pub struct CountedBody {
    inner: BoxBody,
    sent: Option<Counter>,
}

impl MessageBody for CountedBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let item = Pin::new(&mut self.inner).poll_next(cx);
        if let (Poll::Ready(Some(Ok(chunk))), Some(c)) = (&item, &self.sent) {
            c.inc_by(chunk.len() as u64);
        }
        item
    }

    fn try_into_bytes(self) -> Result<Bytes, Self> {
        match self.inner.try_into_bytes() {
            Ok(bytes) => {
                if let Some(c) = &self.sent {
                    c.inc_by(bytes.len() as u64);
                }
                Ok(bytes)
            }
            Err(inner) => Err(CountedBody {
                inner,
                sent: self.sent,
            }),
        }
    }
}

/// Middleware (`middleware::from_fn(track)`): record the request in the [`HttpMetrics`]
/// found in the app data; a service without them passes requests through uncounted.
pub async fn track(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<CountedBody>, actix_web::Error> {
    let Some(metrics) = req.app_data::<HttpMetrics>().cloned() else {
        return Ok(next.call(req).await?.map_body(|_, b| CountedBody {
            inner: b.boxed(),
            sent: None,
        }));
    };
    let started = Instant::now();
    metrics.in_flight.inc();
    let in_flight = InFlight(metrics.in_flight.clone());
    let received = Rc::new(Received::default());
    let inner = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(CountedPayload {
            inner,
            received: Rc::clone(&received),
        }),
    });
    let method = method_label(req.method());
    let result = next.call(req).await;
    drop(in_flight);
    // The request is read back from the response: holding a clone of it across the call
    // would stop actix from routing it (it needs the only reference). Handlers turn their
    // errors into responses, so an `Err` here comes from a middleware, before routing.
    let (status, route) = match &result {
        Ok(res) => (res.status(), route_of(res.request())),
        Err(e) => (e.as_response_error().status_code(), UNMATCHED.to_string()),
    };
    let by_route = RouteLabels {
        route: route.clone(),
        method: method.to_string(),
    };
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method: method.to_string(),
            status: status.as_str().to_string(),
        })
        .inc();
    metrics
        .duration
        .get_or_create(&by_route)
        .observe(started.elapsed().as_secs_f64());
    received.attach(metrics.received.get_or_create_owned(&by_route));
    let sent = metrics.sent.get_or_create_owned(&by_route);
    Ok(result?.map_body(|_, b| CountedBody {
        inner: b.boxed(),
        sent: Some(sent),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{test, web, App, HttpResponse};

    async fn parsed(r: &Registry) -> prometheus_parse::Scrape {
        let text = super::super::encode(r);
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
    }

    fn value(s: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
        s.samples
            .iter()
            .filter(|x| x.metric == name)
            .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
            .map(|x| match x.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    }

    #[::core::prelude::v1::test]
    fn patterns_become_templates() {
        assert_eq!(template_of_pattern("/a/{ns}/{name}"), "/a/<ns>/<name>");
        assert_eq!(template_of_pattern("/v1/{tail:.*}/x"), "/v1/<tail>/x");
        assert_eq!(template_of_pattern("/n/{id:[0-9]{2}}"), "/n/<id>");
        assert_eq!(template_of_pattern("/plain"), "/plain");
        assert_eq!(template_of_pattern("/bad/{open"), "/bad/{open");
    }

    #[actix_web::test]
    async fn records_templates_statuses_and_bytes() {
        let m = HttpMetrics::default();
        let mut r = Registry::with_prefix("pier");
        m.register(&mut r);
        let app = test::init_service(
            App::new()
                .app_data(m.clone())
                .wrap(actix_web::middleware::from_fn(track))
                .route(
                    "/items/{id}",
                    web::put().to(|body: Bytes| async move {
                        HttpResponse::Created().body(format!("got {}", body.len()))
                    }),
                )
                .route(
                    "/own/{tail:.*}",
                    web::get().to(|req: actix_web::HttpRequest| async move {
                        req.extensions_mut().insert(RouteTemplate("/own/<name>"));
                        HttpResponse::NotFound().finish()
                    }),
                ),
        )
        .await;
        let put = test::TestRequest::put()
            .uri("/items/secret-42")
            .set_payload("hello")
            .to_request();
        let res = test::call_service(&app, put).await;
        assert_eq!(test::read_body(res).await, "got 5");
        let get = test::TestRequest::get().uri("/own/a/b/c").to_request();
        test::call_service(&app, get).await;
        let odd = test::TestRequest::default()
            .method(actix_web::http::Method::from_bytes(b"BREW").unwrap())
            .uri("/nowhere/secret-43")
            .to_request();
        test::call_service(&app, odd).await;

        let s = parsed(&r).await;
        let put = [("route", "/items/<id>"), ("method", "PUT")];
        assert_eq!(
            value(
                &s,
                "pier_http_requests_total",
                &[put[0], put[1], ("status", "201")]
            ),
            1.0
        );
        assert_eq!(value(&s, "pier_http_received_bytes_total", &put), 5.0);
        assert_eq!(value(&s, "pier_http_sent_bytes_total", &put), 5.0);
        assert_eq!(
            value(
                &s,
                "pier_http_requests_total",
                &[("route", "/own/<name>"), ("status", "404")]
            ),
            1.0
        );
        assert_eq!(
            value(
                &s,
                "pier_http_requests_total",
                &[("route", UNMATCHED), ("method", "other")]
            ),
            1.0
        );
        assert_eq!(value(&s, "pier_http_requests_in_flight", &[]), 0.0);
        let latency = s
            .samples
            .iter()
            .find(|x| {
                x.metric == "pier_http_request_duration_seconds"
                    && x.labels.get("route") == Some("/items/<id>")
            })
            .expect("a latency histogram");
        let prometheus_parse::Value::Histogram(buckets) = &latency.value else {
            panic!("not a histogram: {latency:?}");
        };
        assert_eq!(
            buckets.last().map(|b| b.count),
            Some(1.0),
            "+Inf holds the request"
        );
        for sample in &s.samples {
            for (_, v) in sample.labels.iter() {
                assert!(!v.contains("secret"), "a raw path leaked into {sample:?}");
            }
        }
    }
}
