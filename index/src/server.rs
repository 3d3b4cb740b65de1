//! Building and running the HTTP server (plain HTTP or HTTPS with rustls).

use crate::config::IndexConfig;
use crate::routes;
use crate::state::Index;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Condition, DefaultHeaders, Logger};
use actix_web::{web, App, HttpServer};
use pier_shared::slow::BodyIdleTimeout;
use std::time::Duration;

/// `Strict-Transport-Security` on every response when the index is reached over HTTPS
/// ([`IndexConfig::https`]): browsers then refuse plain HTTP to it for a year.
pub const HSTS: &str = "max-age=31536000";

/// The application. The logger prints method and path only (`%U`): a query string may
/// carry credentials-adjacent data and the token endpoint's never needs logging.
pub fn app(
    index: Index,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let hsts = DefaultHeaders::new().add(("Strict-Transport-Security", HSTS));
    let https = index.config.https();
    let limits = index.config.limits.clone();
    let idle = BodyIdleTimeout(index.config.http.clients().body_idle_timeout);
    let metrics = index.metrics.http.clone();
    App::new()
        .app_data(web::Data::new(index))
        .app_data(idle)
        .app_data(metrics)
        .app_data(crate::web::form_config(limits.form_max_bytes))
        .wrap(Condition::new(https, hsts))
        .wrap(from_fn(crate::routes::limit::rate_limit))
        .wrap(from_fn(pier_shared::slow::idle_body))
        .wrap(
            Logger::new(r#"%a "%{method}xi %U" %s %b %Dms req=%{x-request-id}i"#)
                .custom_request_replace("method", |req| req.method().to_string())
                .exclude("/healthz")
                .exclude("/readyz"),
        )
        // Outside the rest: every answer counts, the rate limiter's and the idle timeout's too.
        .wrap(from_fn(pier_shared::metrics::http::track))
        // Outermost: every answer carries an X-Request-Id, every log line of it the id.
        .wrap(from_fn(pier_shared::request_id::middleware))
        .configure(|c| routes::api::extractor_errors(c, &limits))
        .configure(routes::configure)
        .default_service(web::to(routes::not_found))
}

/// Open the index, create `admin` on first start (printing a generated password once, to
/// standard output), bind the configured address; returns the server (not yet awaited)
/// and the bound address. Must run inside an actix system (it starts the audit flusher).
pub fn bind(config: IndexConfig) -> Result<(actix_web::dev::Server, std::net::SocketAddr), String> {
    let index = Index::open(config.clone())?;
    match crate::services::bootstrap::ensure_admin(&index) {
        Ok(Some(pw)) => println!("pier-index: created user admin with password {pw}"),
        Ok(None) => {}
        Err(e) => return Err(format!("creating the admin user: {}", e.public_detail())),
    }
    if config.metrics.enabled() {
        pier_shared::metrics::listener::spawn(&config.metrics.listen, index.metrics.exposed())?;
    }
    let http = &config.http;
    let app_index = index.clone();
    let clients = http.clients();
    let mut server = HttpServer::new(move || app(app_index.clone()))
        .client_request_timeout(clients.header_timeout)
        .client_disconnect_timeout(Duration::from_secs(1))
        .keep_alive(clients.keep_alive);
    if http.workers > 0 {
        server = server.workers(http.workers);
    }
    let tls = !http.tls_certificate.is_empty();
    let server = if tls {
        let tls = pier_shared::tls::reloading_server_config(
            &http.tls_certificate,
            &http.tls_key,
            std::time::Duration::from_secs(http.tls_reload_seconds),
        )?;
        server.bind_rustls_0_23(&http.listen, tls)
    } else {
        server.bind(&http.listen)
    }
    .map_err(|e| format!("cannot listen on {}: {e}", http.listen))?;
    let addr = *server
        .addrs()
        .first()
        .ok_or_else(|| "no address bound".to_string())?;
    if !addr.ip().is_unspecified() {
        index.set_bound_url(format!("{}://{addr}", if tls { "https" } else { "http" }));
    }
    crate::services::deletions::spawn(index.clone());
    crate::keys::spawn_reload(
        index.keys.clone(),
        Duration::from_secs(config.keys.reload_seconds),
    );
    let pruned = index.clone();
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(Duration::from_secs(60)).await;
            if let Err(e) = crate::services::login_throttle::prune(&pruned).await {
                log::warn!("pruning login failures: {}", e.public_detail());
            }
        }
    });
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(Duration::from_secs(1)).await;
            index.audit.flush(&index.db).await;
        }
    });
    Ok((server.run(), addr))
}
