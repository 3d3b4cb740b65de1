//! `pier-index`: serve the index, check its configuration, or administer it (see `cli`).

use clap::Parser;
use pier_index::cli::{run_admin, Cli, Command};
use pier_index::IndexConfig;

fn fail(code: i32, message: &str) -> ! {
    eprintln!("pier-index: {message}");
    std::process::exit(code)
}

fn serve(config: IndexConfig) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let (server, addr) = pier_index::server::bind(config)?;
        log::info!("pier-index listening on {addr}");
        server.await.map_err(|e| e.to_string())
    })
}

fn main() {
    pier_shared::logging::init("PIER_INDEX_LOG");
    let cli = Cli::parse();
    let config =
        IndexConfig::load(cli.config.as_deref()).unwrap_or_else(|e| fail(2, &e.to_string()));
    pier_shared::logging::set_format(config.log.format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::CheckConfig => toml::to_string_pretty(&config.redacted())
            .map(|text| print!("{text}"))
            .map_err(|e| e.to_string()),
        admin => run_admin(config, admin),
    };
    if let Err(e) = result {
        fail(1, &e);
    }
}
