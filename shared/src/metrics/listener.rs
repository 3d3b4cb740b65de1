//! The metrics listener: `GET /metrics` on `metrics.listen`, a server of its own beside the
//! service's, so that the public port never serves it (not even behind a path a proxy
//! forgot to block). One worker: a scrape every few seconds needs no more. Plain HTTP and
//! no authentication: bind it to loopback or a management network (docs/metrics.md).

use actix_web::{web, App, HttpResponse, HttpServer};
use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;

/// The path of the exposition.
pub const PATH: &str = "/metrics";

async fn metrics(registry: web::Data<Arc<Registry>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(super::encode(registry.get_ref()))
}

/// Bind `listen` and serve `registry` there; returns the server (not yet awaited or
/// spawned) and its address. It handles no signals: it ends with the process, whose
/// service server handles them.
pub fn bind(
    listen: &str,
    registry: Arc<Registry>,
) -> Result<(actix_web::dev::Server, SocketAddr), String> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(Arc::clone(&registry)))
            .route(PATH, web::get().to(metrics))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(listen)
    .map_err(|e| format!("metrics.listen: cannot listen on {listen}: {e}"))?;
    let addr = *server
        .addrs()
        .first()
        .ok_or_else(|| "metrics.listen: no address bound".to_string())?;
    Ok((server.run(), addr))
}

/// As [`bind`], and run the server on the current actix system (the service's `bind`
/// calls it there). Logs where the metrics are.
pub fn spawn(listen: &str, registry: Arc<Registry>) -> Result<SocketAddr, String> {
    if actix_web::rt::System::try_current().is_none() {
        return Err("metrics.listen: the metrics server needs a running actix system".into());
    }
    let (server, addr) = bind(listen, registry)?;
    actix_web::rt::spawn(async move {
        if let Err(e) = server.await {
            log::error!("metrics listener stopped: {e}");
        }
    });
    log::info!("metrics at http://{addr}{PATH}");
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;

    #[actix_web::test]
    async fn serves_the_text_format_on_metrics_only() {
        let mut r = Registry::with_prefix("pier");
        let c = Counter::<u64>::default();
        r.register("things", "Things", c.clone());
        c.inc();
        let (server, addr) = bind("127.0.0.1:0", Arc::new(r)).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let client = awc_like_get(addr, "/metrics").await;
        assert!(client.0.starts_with("HTTP/1.1 200"), "{}", client.0);
        assert!(
            client.0.contains("text/plain; version=0.0.4"),
            "{}",
            client.0
        );
        let scrape =
            prometheus_parse::Scrape::parse(client.1.lines().map(|l| Ok(l.to_string()))).unwrap();
        let things = scrape
            .samples
            .iter()
            .find(|s| s.metric == "pier_things_total")
            .expect("the counter");
        assert_eq!(things.value, prometheus_parse::Value::Counter(1.0));
        let other = awc_like_get(addr, "/").await;
        assert!(other.0.starts_with("HTTP/1.1 404"), "{}", other.0);
        handle.stop(false).await;
    }

    /// A bare HTTP/1.1 GET over a TCP stream: (status line and headers, body).
    async fn awc_like_get(addr: SocketAddr, path: &str) -> (String, String) {
        use std::io::{Read, Write};
        let path = path.to_string();
        actix_web::rt::task::spawn_blocking(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut all = String::new();
            s.read_to_string(&mut all).unwrap();
            let (head, body) = all.split_once("\r\n\r\n").unwrap_or((&all, ""));
            (head.to_string(), body.to_string())
        })
        .await
        .unwrap()
    }
}
