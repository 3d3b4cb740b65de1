//! `pier`: run Pier on one machine with embedded defaults.
//!
//! `pier up` starts pier-index and pier-registry in one process, with SQLite and local
//! disk under a data directory, wired together: the registry in token mode, its realm and
//! keys at the index, and a generated secret for the registry's confirmations with the
//! index (kept in the data directory). On first start the index prints the `admin` password.
//! Both services' Prometheus metrics are on, on loopback ([`REGISTRY_METRICS`],
//! [`INDEX_METRICS`]), unless `metrics.listen` is configured (an empty
//! `PIER_<SERVICE>_METRICS_LISTEN` in the environment turns them off).

mod secret;
mod walkthrough;

use clap::{Parser, Subcommand};
use pier_index::IndexConfig;
use pier_registry::config::AuthMode;
use pier_registry::RegistryConfig;
use pier_shared::logging::LogFormat;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "pier",
    version,
    about = "Pier container registry: index + registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start Pier (index + registry) on embedded defaults.
    Up {
        /// Where Pier keeps its databases, keys and blobs.
        #[arg(long, env = "PIER_DATA_DIR", default_value = "pier-data")]
        data_dir: PathBuf,
        /// Registry listen address (overrides PIER_REGISTRY_HTTP_LISTEN).
        #[arg(long)]
        registry_listen: Option<String>,
        /// Index listen address (overrides PIER_INDEX_HTTP_LISTEN).
        #[arg(long)]
        index_listen: Option<String>,
        /// Registry TOML configuration file (PIER_REGISTRY_* variables still apply).
        #[arg(long)]
        registry_config: Option<PathBuf>,
        /// Index TOML configuration file (PIER_INDEX_* variables still apply).
        #[arg(long)]
        index_config: Option<PathBuf>,
    },
    /// Perform a pull, push or delete against running services as a client would, and
    /// print every step of the token flow, including the registry's confirmations with
    /// the index (docs/token-flow.md).
    Walkthrough(walkthrough::WalkthroughArgs),
}

/// `pier up`'s registry metrics listener, unless configured.
const REGISTRY_METRICS: &str = "127.0.0.1:5002";
/// `pier up`'s index metrics listener, unless configured.
const INDEX_METRICS: &str = "127.0.0.1:5003";

/// `configured`, or `default` when neither the file nor the environment (`env`, set even
/// to "") said where. A default address already taken (a second `pier up` on the machine)
/// leaves metrics off with a warning rather than failing the start; a configured one that
/// cannot be bound fails it, as in the services.
fn metrics_listen(configured: &mut String, env: &str, default: &str) {
    if !configured.is_empty() || std::env::var_os(env).is_some() {
        return;
    }
    match std::net::TcpListener::bind(default) {
        Ok(probe) => {
            drop(probe);
            *configured = default.to_string();
        }
        Err(e) => eprintln!("pier: metrics off: {default}: {e} (set {env})"),
    }
}

/// The "Pier is up." line of a metrics listener.
fn metrics_line(service: &str, listen: &str) -> String {
    if listen.is_empty() {
        format!("  metrics   {service}: off")
    } else {
        format!("  metrics   {service} http://{listen}/metrics")
    }
}

/// One process, one log: `PIER_LOG_FORMAT` if set, else `json` if either service's
/// configuration asks for it.
fn log_format(registry: &RegistryConfig, index: &IndexConfig) -> LogFormat {
    match std::env::var("PIER_LOG_FORMAT") {
        Ok(f) => f
            .parse()
            .unwrap_or_else(|e| fail(format!("PIER_LOG_FORMAT: {e}"))),
        Err(_) if registry.log.format == LogFormat::Json => LogFormat::Json,
        Err(_) => index.log.format,
    }
}

fn fail(msg: String) -> ! {
    eprintln!("pier: {msg}");
    std::process::exit(2);
}

fn main() {
    // Both services in one process: the registry's allocator setting (see its doc).
    pier_registry::memory::limit_malloc_arenas();
    pier_shared::logging::init("PIER_LOG");
    let (data_dir, registry_listen, index_listen, registry_config, index_config) =
        match Cli::parse().command {
            Command::Walkthrough(args) => return walkthrough::run(args),
            Command::Up {
                data_dir,
                registry_listen,
                index_listen,
                registry_config,
                index_config,
            } => (
                data_dir,
                registry_listen,
                index_listen,
                registry_config,
                index_config,
            ),
        };

    let secret = secret::load_or_create(&data_dir.join("registry-introspection.secret"))
        .unwrap_or_else(|e| fail(format!("introspection secret: {e}")));
    let mut index = IndexConfig::load_over(
        IndexConfig::under(&data_dir.join("index")),
        index_config.as_deref(),
    )
    .unwrap_or_else(|e| fail(format!("index configuration: {e}")));
    if let Some(listen) = index_listen {
        index.http.listen = listen;
    }
    metrics_listen(
        &mut index.metrics.listen,
        "PIER_INDEX_METRICS_LISTEN",
        INDEX_METRICS,
    );
    if index.registry.introspection_secret.is_empty() {
        index.registry.introspection_secret = pier_shared::config::Secret::new(secret.clone());
    }
    let mut registry = RegistryConfig::load_over(
        RegistryConfig::under(&data_dir.join("registry")),
        registry_config.as_deref(),
    )
    .unwrap_or_else(|e| fail(format!("registry configuration: {e}")));
    if let Some(listen) = registry_listen {
        registry.http.listen = listen;
    }
    metrics_listen(
        &mut registry.metrics.listen,
        "PIER_REGISTRY_METRICS_LISTEN",
        REGISTRY_METRICS,
    );
    pier_shared::logging::set_format(log_format(&registry, &index));
    if index.registry.url.is_empty() {
        // The index's repository-deletion worker calls the registry (docs/deletion.md).
        match registry_url(&registry) {
            Some(url) => index.registry.url = url,
            None => eprintln!(
                "pier: registry listens on port 0; repository deletions will wait \
                 (set PIER_INDEX_REGISTRY_URL)"
            ),
        }
    }

    let result = actix_rt::System::new().block_on(async move {
        let service = index.token.service.clone();
        let issuer = index.token.issuer.clone();
        let public_url = index.http.public_url.clone();
        let index_metrics = metrics_line("index   ", &index.metrics.listen);
        let (index_server, index_addr) = pier_index::server::bind(index)?;
        let base = if public_url.is_empty() {
            format!("http://{index_addr}")
        } else {
            public_url.trim_end_matches('/').to_string()
        };
        let internal = format!("http://{index_addr}");
        let auth = &mut registry.auth;
        if auth.mode == AuthMode::None && auth.realm.is_empty() {
            auth.mode = AuthMode::Token;
            auth.realm = format!("{base}/token");
            auth.service = service;
            auth.issuer = issuer;
            auth.jwks_url = format!("{internal}/.well-known/jwks.json");
            auth.introspection_url = format!("{internal}/introspect");
            auth.introspection_secret = pier_shared::config::Secret::new(secret);
        }
        if registry.v1.index_url.is_empty() {
            // The legacy v1 protocol: the registry checks v1 tokens with the index.
            registry.v1.index_url = internal.clone();
        }
        registry.validate().map_err(|e| e.to_string())?;
        let registry_metrics = metrics_line("registry", &registry.metrics.listen);
        let (registry_server, registry_addr) = pier_registry::server::bind(registry)?;
        println!("Pier is up.");
        println!("  registry  http://{registry_addr}/v2/   (docker login {registry_addr})");
        println!("  index     {base}/   (users, tokens, API at {base}/api/v1, docker login works here too)");
        println!("{registry_metrics}");
        println!("{index_metrics}");
        println!("  data      {}", data_dir.display());
        let (a, b) = futures_join(index_server, registry_server).await;
        a.and(b).map_err(|e| e.to_string())
    });
    if let Err(e) = result {
        eprintln!("pier: {e}");
        std::process::exit(1);
    }
}

/// The URL the index reaches the registry at, from its listen address (`0.0.0.0` and
/// `[::]` become loopback); `None` for port 0, which is only known once bound.
fn registry_url(registry: &RegistryConfig) -> Option<String> {
    let scheme = if registry.http.tls_certificate.is_empty() {
        "http"
    } else {
        "https"
    };
    let Ok(addr) = registry.http.listen.parse::<std::net::SocketAddr>() else {
        return Some(format!("{scheme}://{}", registry.http.listen)); // host:port
    };
    if addr.port() == 0 {
        return None;
    }
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        ip => ip.to_string(),
    };
    Some(format!("{scheme}://{ip}:{}", addr.port()))
}

/// Run both servers until both stop (Ctrl-C stops both).
async fn futures_join(
    a: actix_web::dev::Server,
    b: actix_web::dev::Server,
) -> (std::io::Result<()>, std::io::Result<()>) {
    let a = actix_rt::spawn(a);
    let b = actix_rt::spawn(b);
    let ra = a
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    let rb = b
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    (ra, rb)
}
