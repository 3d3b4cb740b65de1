//! `pier walkthrough pull|push|delete [--v2]`: perform one workflow against running
//! services the way a client does, and print every numbered step — who talks to whom,
//! the request line, the headers that matter, the status — including the registry →
//! index confirmation the client never sees. That step is read back from what the index
//! recorded (its audit log, through the admin-only `GET /v1/_pier/flow/<jti>` and
//! `GET /v1/_pier/events?target=<name>`), so what is printed is what happened.
//!
//! docs/token-flow.md shows the same step lists; a test runs this command and compares.

mod http;
mod v1;
mod v2;

use clap::{Args, ValueEnum};
use http::Reply;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Workflow {
    Pull,
    Push,
    Delete,
}

#[derive(Args, Debug)]
pub struct WalkthroughArgs {
    /// The workflow to perform.
    #[arg(value_enum)]
    pub workflow: Workflow,
    /// Show today's flow (v2 token auth) instead of the legacy v1 one.
    #[arg(long)]
    pub v2: bool,
    /// The index's base URL.
    #[arg(
        long,
        env = "PIER_WALKTHROUGH_INDEX",
        default_value = "http://127.0.0.1:5001"
    )]
    pub index: String,
    /// The registry's base URL (v2; v1 uses the index's X-Docker-Endpoints).
    #[arg(
        long,
        env = "PIER_WALKTHROUGH_REGISTRY",
        default_value = "http://127.0.0.1:5000"
    )]
    pub registry: String,
    /// The user the client acts as.
    #[arg(long, env = "PIER_WALKTHROUGH_USER")]
    pub user: String,
    /// Their password.
    #[arg(long, env = "PIER_WALKTHROUGH_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// A site administrator, to read back what the index recorded.
    #[arg(long, env = "PIER_WALKTHROUGH_ADMIN", default_value = "admin")]
    pub admin: String,
    /// The administrator's password.
    #[arg(long, env = "PIER_WALKTHROUGH_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: String,
    /// The repository (`namespace/name`); push creates it with tag `latest`.
    #[arg(long)]
    pub repository: String,
}

/// One numbered step as printed.
pub struct Steps {
    n: usize,
}

impl Steps {
    fn new(title: &str) -> Steps {
        println!("{title}");
        Steps { n: 0 }
    }

    /// `NN. from → to  METHOD path  → status`, then the notes indented.
    fn step(&mut self, from: &str, to: &str, request: &str, status: &str, notes: &[String]) {
        self.n += 1;
        println!("{:>2}. {from} → {to}  {request}  → {status}", self.n);
        for n in notes {
            println!("      {n}");
        }
    }

    /// A client request and its reply.
    fn exchange(
        &mut self,
        to: &str,
        request: &str,
        sent: &[String],
        reply: &Reply,
        shown: &[&str],
    ) {
        let mut notes: Vec<String> = sent.iter().map(|s| format!("> {s}")).collect();
        for h in shown {
            if let Some(v) = reply.header(h) {
                notes.push(format!("< {h}: {}", http::shorten(v)));
            }
        }
        self.step("client", to, request, &reply.status.to_string(), &notes);
    }
}

fn fail(msg: String) -> ! {
    eprintln!("pier walkthrough: {msg}");
    std::process::exit(1);
}

/// What the index recorded with `action` in the flow of token `jti`.
fn recorded(args: &WalkthroughArgs, jti: &str, action: &str) -> Vec<String> {
    let url = format!("{}/v1/_pier/flow/{jti}", args.index.trim_end_matches('/'));
    let r = http::call("GET", &url, &[("Authorization", &admin_auth(args))], None);
    if r.status != 200 {
        fail(format!(
            "reading the index's record of {jti}: {} {}",
            r.status,
            r.text()
        ));
    }
    events_with(&r, action)
}

/// What the index recorded with `action` about `target` (newest last).
fn recorded_about(args: &WalkthroughArgs, target: &str, action: &str) -> Vec<String> {
    let url = format!(
        "{}/v1/_pier/events?target={target}",
        args.index.trim_end_matches('/')
    );
    let r = http::call("GET", &url, &[("Authorization", &admin_auth(args))], None);
    if r.status != 200 {
        fail(format!(
            "reading the index's record of {target}: {} {}",
            r.status,
            r.text()
        ));
    }
    events_with(&r, action)
}

fn events_with(r: &Reply, action: &str) -> Vec<String> {
    r.json()["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["action"] == action)
                .map(|e| e["detail"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn admin_auth(args: &WalkthroughArgs) -> String {
    http::basic(&args.admin, &args.admin_password)
}

pub fn run(args: WalkthroughArgs) {
    if args.repository.split('/').count() != 2 {
        fail("--repository is namespace/name".into());
    }
    match (args.v2, args.workflow) {
        (false, Workflow::Push) => v1::push(&args),
        (false, Workflow::Pull) => v1::pull(&args),
        (false, Workflow::Delete) => v1::delete(&args),
        (true, Workflow::Push) => v2::push(&args),
        (true, Workflow::Pull) => v2::pull(&args),
        (true, Workflow::Delete) => v2::delete(&args),
    }
}
