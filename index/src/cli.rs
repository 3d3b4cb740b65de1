//! The `pier-index` command line: serve (the default), check the configuration, and
//! administer users and repositories directly in the database (no server needed). Every
//! command goes through the same services as the API.

use crate::config::IndexConfig;
use crate::services::{repositories, users};
use crate::state::Index;
use clap::{Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "pier-index",
    version,
    about = "Pier's index: users, permissions, registry tokens"
)]
pub struct Cli {
    /// TOML configuration file (then PIER_INDEX_* environment overrides).
    #[arg(long, short, env = "PIER_INDEX_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the index (the default).
    Serve,
    /// Load and validate the configuration, print it (secrets redacted), and exit.
    CheckConfig,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage repositories.
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Manage the token signing keys (shared by every replica through the database).
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Add a signing key: published at once, signing after the publish delay; the keys
    /// before it retire once the last token they signed has expired.
    Rotate {
        /// Publish delay (default `keys.publish_seconds`; at least its minimum).
        #[arg(long)]
        publish_seconds: Option<u64>,
    },
    /// List the keys: kid, state (next, current, previous, retired) and times.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user (and their namespace); prints a generated password unless one is given.
    Add {
        name: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Make the user a site administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Disable a user: no logins, and their tokens stop working at the registry.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// Set a user's password; prints a generated one unless given on standard input.
    ResetPassword {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Import bcrypt entries ($2y$/$2b$, as `htpasswd -B` writes) from an htpasswd file.
    ImportHtpasswd { file: PathBuf },
}

#[derive(Subcommand)]
pub enum RepoCommand {
    /// Make a repository public (anonymous pull) or private.
    Visibility {
        name: String,
        #[arg(value_parser = ["public", "private"])]
        visibility: String,
    },
    /// Delete a repository: marked deleted at once (no new tokens, old ones refused), then
    /// deleted at the registry by the running index's worker (retried until done).
    Delete { name: String },
    /// List repository deletions still to be carried out at the registry.
    Deletions,
}

fn read_stdin_password() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| format!("reading standard input: {e}"))?;
    Ok(s.trim_end_matches(['\r', '\n']).to_string())
}

/// Run an administrative command against the database the configuration names.
pub fn run_admin(config: IndexConfig, command: Command) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        if let Command::Keys(KeysCommand::List { json }) = command {
            // Reads rows only, so it also works when this KEK cannot open the keys.
            let db = crate::db::open(config.database.url.expose(), config.database.pool_size)
                .map_err(|e| e.to_string())?;
            return crate::cli_keys::list(&db, json).await;
        }
        let index = Index::open(config)?;
        let result = admin(&index, command).await;
        index.audit.flush(&index.db).await;
        result
    })
}

async fn admin(index: &Index, command: Command) -> Result<(), String> {
    let e = |e: crate::error::Error| e.public_detail();
    match command {
        Command::User(UserCommand::Add {
            name,
            password_stdin,
            admin,
        }) => {
            let given = if password_stdin {
                Some(read_stdin_password()?)
            } else {
                None
            };
            let (_, generated) = users::create(index, "cli", &name, given.as_deref(), None, admin)
                .await
                .map_err(e)?;
            match generated {
                Some(pw) => println!("created user {name} with password {pw}"),
                None => println!("created user {name}"),
            }
        }
        Command::User(UserCommand::Disable { name }) => {
            users::set_disabled(index, "cli", &name, true)
                .await
                .map_err(e)?;
            println!("disabled user {name}");
        }
        Command::User(UserCommand::Enable { name }) => {
            users::set_disabled(index, "cli", &name, false)
                .await
                .map_err(e)?;
            println!("enabled user {name}");
        }
        Command::User(UserCommand::ResetPassword {
            name,
            password_stdin,
        }) => {
            let given = if password_stdin {
                Some(read_stdin_password()?)
            } else {
                None
            };
            match users::set_password(index, "cli", &name, given.as_deref())
                .await
                .map_err(e)?
            {
                Some(pw) => println!("new password for {name}: {pw}"),
                None => println!("password of {name} changed"),
            }
        }
        Command::User(UserCommand::ImportHtpasswd { file }) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|err| format!("{}: {err}", file.display()))?;
            let report = users::import_htpasswd(index, "cli", &text)
                .await
                .map_err(e)?;
            for name in &report.imported {
                println!("imported {name}");
            }
            for (line, why) in &report.skipped {
                eprintln!("{}:{line}: skipped: {why}", file.display());
            }
        }
        Command::Repo(RepoCommand::Visibility { name, visibility }) => {
            repositories::set_visibility(index, None, &name, &visibility)
                .await
                .map_err(e)?;
            println!("{name} is now {visibility}");
        }
        Command::Repo(RepoCommand::Delete { name }) => {
            repositories::delete(index, None, &name).await.map_err(e)?;
            println!("{name} is deleted; the index deletes it at the registry");
        }
        Command::Repo(RepoCommand::Deletions) => {
            let jobs = index
                .db
                .run(crate::db::deletions::all)
                .await
                .map_err(|err| err.to_string())?;
            for j in jobs {
                println!(
                    "{}\tattempts={}\t{}",
                    j.name,
                    j.attempts,
                    j.last_error.unwrap_or_default()
                );
            }
        }
        Command::Keys(command) => crate::cli_keys::run(index, command).await?,
        Command::Serve | Command::CheckConfig => {}
    }
    Ok(())
}
