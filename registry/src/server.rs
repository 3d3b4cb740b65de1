//! Building and running the HTTP server (plain HTTP or HTTPS with rustls).

use crate::config::RegistryConfig;
use crate::routes;
use crate::state::Registry;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, DefaultHeaders, Logger};
use actix_web::{web, App, HttpServer};
use pier_shared::slow::BodyIdleTimeout;

/// The application: `/v2` API with its version header on every response (errors too).
/// Load balancers' probes (`/healthz`, `/readyz`) are not logged, like `/v2/`. The request
/// line is method and path only (`%U`, no query string, as in the index): a query may
/// carry an upload's state or a presigned redirect's parameters, never worth a log line.
pub fn app(
    reg: Registry,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let idle = BodyIdleTimeout(reg.config.http.clients().body_idle_timeout);
    let metrics = reg.metrics.http.clone();
    App::new()
        .app_data(web::Data::new(reg))
        .app_data(idle)
        .app_data(metrics)
        .wrap(from_fn(pier_shared::slow::idle_body))
        .wrap(DefaultHeaders::new().add(routes::API_VERSION_HEADER))
        .wrap(
            Logger::new(r#"%a "%{method}xi %U" %s %b %Dms req=%{x-request-id}i"#)
                .custom_request_replace("method", |req| req.method().to_string())
                .exclude("/v2/")
                .exclude(routes::health::HEALTHZ)
                .exclude(routes::health::READYZ),
        )
        // Outside the rest: every answer counts, the rate limiter's and the idle timeout's too.
        .wrap(from_fn(pier_shared::metrics::http::track))
        // Outermost: every answer carries an X-Request-Id, every log line of it the id.
        .wrap(from_fn(pier_shared::request_id::middleware))
        .configure(routes::configure)
        .default_service(web::to(routes::not_found))
}

/// Bind the configured address; returns the server (not yet awaited) and the bound address.
pub fn bind(
    config: RegistryConfig,
) -> Result<(actix_web::dev::Server, std::net::SocketAddr), String> {
    let reg = Registry::open(config.clone())?;
    // Token mode: fetch the index's keys now rather than on the first token. Only inside
    // an actix system (both binaries call `bind` there); otherwise the first token fetches.
    if actix_web::rt::System::try_current().is_some() {
        let auth = std::sync::Arc::clone(&reg.auth);
        actix_web::rt::spawn(async move { auth.prefetch().await });
        let auth = std::sync::Arc::clone(&reg.auth);
        let every = std::time::Duration::from_secs(config.auth.index_probe_seconds);
        actix_web::rt::spawn(async move { auth.watch_index(every).await });
        crate::gc::task::spawn(reg.clone());
        crate::mirror::spawn(reg.clone());
        // Dropping the handle detaches the tasks: they run for the life of the process.
        drop(crate::notifications::deliver::spawn(&reg));
    }
    if config.metrics.enabled() {
        // Before the main server binds: a metrics address taken is a start-up error.
        pier_shared::metrics::listener::spawn(&config.metrics.listen, reg.metrics.exposed())?;
    }
    let notifier = std::sync::Arc::clone(&reg.notifier);
    let http = &config.http;
    let clients = http.clients();
    let mut server = HttpServer::new(move || app(reg.clone()))
        .client_request_timeout(clients.header_timeout)
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        .keep_alive(clients.keep_alive);
    if http.workers > 0 {
        server = server.workers(http.workers);
    }
    let server = if http.tls_certificate.is_empty() {
        server.bind(&http.listen)
    } else {
        let tls = pier_shared::tls::reloading_server_config(
            &http.tls_certificate,
            &http.tls_key,
            std::time::Duration::from_secs(http.tls_reload_seconds),
        )?;
        server.bind_rustls_0_23(&http.listen, tls)
    }
    .map_err(|e| format!("cannot listen on {}: {e}", http.listen))?;
    let addr = *server
        .addrs()
        .first()
        .ok_or_else(|| "no address bound".to_string())?;
    notifier.set_bound(addr);
    Ok((server.run(), addr))
}
