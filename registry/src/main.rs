//! `pier-registry`: run the registry, or check its configuration.

use clap::{Parser, Subcommand};
use pier_registry::RegistryConfig;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "pier-registry",
    version,
    about = "Pier's OCI / Docker v2 registry service"
)]
struct Cli {
    /// TOML configuration file (then PIER_REGISTRY_* environment overrides).
    #[arg(long, short, env = "PIER_REGISTRY_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the registry API (the default).
    Serve,
    /// Load and validate the configuration, print it, and exit.
    CheckConfig,
    /// Run garbage collection once (safe while the registry serves) and print a JSON
    /// summary of what was freed.
    Gc {
        /// Report what would be deleted; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check that the metadata and the stored bytes agree (safe while the registry
    /// serves). Exit 0 when clean, 1 when problems were found, 2 when it could not run.
    Fsck {
        /// Also repair what can be repaired safely (orphans older than the GC grace
        /// period, quarantine of corrupt blobs); holds the gc lease meanwhile.
        #[arg(long)]
        repair: bool,
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    pier_registry::memory::limit_malloc_arenas();
    pier_shared::logging::init("PIER_REGISTRY_LOG");
    let cli = Cli::parse();
    let config = match RegistryConfig::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pier-registry: {e}");
            std::process::exit(2);
        }
    };
    pier_shared::logging::set_format(config.log.format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => match toml::to_string_pretty(&config.redacted()) {
            Ok(text) => print!("{text}"),
            Err(e) => {
                eprintln!("pier-registry: {e}");
                std::process::exit(2);
            }
        },
        Command::Gc { dry_run } => {
            let result = actix_web::rt::System::new().block_on(async move {
                let reg = pier_registry::Registry::open(config)?;
                pier_registry::gc::run(&reg, dry_run)
                    .await
                    .map_err(|e| e.to_string())
            });
            match result.and_then(|r| serde_json::to_string(&r).map_err(|e| e.to_string())) {
                Ok(json) => println!("{json}"),
                Err(e) => {
                    eprintln!("pier-registry gc: {e}");
                    std::process::exit(1);
                }
            }
        }
        Command::Fsck { repair, json } => std::process::exit(fsck(config, repair, json)),
        Command::Serve => {
            let result = actix_web::rt::System::new().block_on(async move {
                let (server, addr) = pier_registry::server::bind(config)?;
                log::info!("pier-registry listening on {addr}");
                server.await.map_err(|e| e.to_string())
            });
            if let Err(e) = result {
                eprintln!("pier-registry: {e}");
                std::process::exit(1);
            }
        }
    }
}

/// `pier-registry fsck`: its exit code.
fn fsck(config: RegistryConfig, repair: bool, json: bool) -> i32 {
    if let Err(e) = pier_registry::fsck::preflight(&config) {
        eprintln!("pier-registry fsck: could not run: {e}");
        return 2;
    }
    let result = actix_web::rt::System::new().block_on(async move {
        let reg = pier_registry::Registry::open(config)?;
        pier_registry::fsck::run(&reg, repair)
            .await
            .map_err(|e| e.to_string())
    });
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pier-registry fsck: could not run: {e}");
            return 2;
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("pier-registry fsck: {e}");
                return 2;
            }
        }
    } else {
        print!("{}", report.human());
    }
    if report.clean() {
        0
    } else {
        1
    }
}
