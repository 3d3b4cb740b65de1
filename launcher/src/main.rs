//! `pier`: run Pier on one machine with embedded defaults.
//!
//! `pier up` starts the services in one process, with SQLite and local-disk storage under
//! a data directory. Today that is pier-registry (anonymous access); pier-index joins it
//! here when the index lands, and `pier up` will then print the first-run admin password.

use clap::{Parser, Subcommand};
use pier_registry::RegistryConfig;
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
    /// Start Pier on embedded defaults.
    Up {
        /// Where Pier keeps its databases and blobs.
        #[arg(long, env = "PIER_DATA_DIR", default_value = "pier-data")]
        data_dir: PathBuf,
        /// Registry listen address (overrides PIER_REGISTRY_HTTP_LISTEN).
        #[arg(long)]
        registry_listen: Option<String>,
        /// Registry TOML configuration file (PIER_REGISTRY_* variables still apply).
        #[arg(long)]
        registry_config: Option<PathBuf>,
    },
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::new().filter_or("PIER_LOG", "info")).init();
    let Command::Up {
        data_dir,
        registry_listen,
        registry_config,
    } = Cli::parse().command;
    let base = RegistryConfig::under(&data_dir.join("registry"));
    let mut config = match RegistryConfig::load_over(base, registry_config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pier: registry configuration: {e}");
            std::process::exit(2);
        }
    };
    if let Some(listen) = registry_listen {
        config.http.listen = listen;
    }
    let result = actix_rt::System::new().block_on(async move {
        let (registry, addr) = pier_registry::server::bind(config)?;
        println!("Pier is up.");
        println!(
            "  registry  http://{addr}/v2/   (data in {})",
            data_dir.display()
        );
        println!("  access    anonymous: pier-index (users, tokens) is not part of this build yet");
        println!(
            "  try       skopeo copy --dest-tls-verify=false <image> docker://{addr}/demo/app:1"
        );
        registry.await.map_err(|e| e.to_string())
    });
    if let Err(e) = result {
        eprintln!("pier: {e}");
        std::process::exit(1);
    }
}
