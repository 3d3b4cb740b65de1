//! Building and running the HTTP server (plain HTTP or HTTPS with rustls).

use crate::config::RegistryConfig;
use crate::routes;
use crate::state::Registry;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, Logger};
use actix_web::{web, App, HttpServer};

/// The application: `/v2` API with its version header on every response (errors too).
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
    App::new()
        .app_data(web::Data::new(reg))
        .app_data(web::PayloadConfig::new(usize::MAX))
        .wrap(DefaultHeaders::new().add(routes::API_VERSION_HEADER))
        .wrap(Logger::new("%a \"%r\" %s %b %Dms").exclude("/v2/"))
        .configure(routes::configure)
        .default_service(web::to(routes::not_found))
}

/// Load a rustls server config from PEM files.
fn tls_config(cert: &str, key: &str) -> Result<rustls::ServerConfig, String> {
    let read = |p: &str| std::fs::read(p).map_err(|e| format!("{p}: {e}"));
    let certs = rustls_pemfile::certs(&mut read(cert)?.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{cert}: {e}"))?;
    let key = rustls_pemfile::private_key(&mut read(key)?.as_slice())
        .map_err(|e| format!("{key}: {e}"))?
        .ok_or_else(|| format!("{key}: no private key found"))?;
    rustls::ServerConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate/key: {e}"))
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
        crate::gc::task::spawn(reg.clone());
    }
    let http = &config.http;
    let mut server = HttpServer::new(move || app(reg.clone()));
    if http.workers > 0 {
        server = server.workers(http.workers);
    }
    let server = if http.tls_certificate.is_empty() {
        server.bind(&http.listen)
    } else {
        let tls = tls_config(&http.tls_certificate, &http.tls_key)?;
        server.bind_rustls_0_23(&http.listen, tls)
    }
    .map_err(|e| format!("cannot listen on {}: {e}", http.listen))?;
    let addr = *server
        .addrs()
        .first()
        .ok_or_else(|| "no address bound".to_string())?;
    Ok((server.run(), addr))
}
