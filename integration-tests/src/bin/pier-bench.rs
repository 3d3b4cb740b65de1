//! pier-bench: load generator for any registry speaking the OCI distribution API.
//!
//! ```text
//! pier-bench run    --url http://127.0.0.1:5000 [--creds user:pw] [-c 8] [--seconds 2] …
//! pier-bench seed   --url … --to 10000            # N tags + N repositories, once per server
//! pier-bench limits --dir /var/tmp/x [--tmpfs /dev/shm/x]
//! pier-bench report results/*.jsonl               # markdown table of a side-by-side run
//! pier-bench concurrency [-c 64] [--seconds 300]   # racing clients on its own Pier pair
//! pier-bench soak [-c 8] [--seconds 600]           # mixed load, memory and descriptors
//! pier-bench crash  --pushes 1000 [--clients 2]   # kill -9 pier-registry during pushes
//! ```
//! Each workload prints one JSON line: name, unit, value, p50, p90, p99, max (ms), errors,
//! and with `--pid` the server's CPU-seconds, peak RSS and bytes written (from /proc).

use clap::{Parser, Subcommand};
use pier_integration_tests::bench::{limits, report, runner::Ctx, workloads};
use pier_integration_tests::crash;
use pier_integration_tests::stress;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Load generator for OCI registries (anonymous or bearer tokens)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args)]
struct Target {
    /// Registry base URL (loopback).
    #[arg(long)]
    url: String,
    /// `user:password` for the token realm of a registry that asks for bearer tokens.
    #[arg(long)]
    creds: Option<String>,
    /// Namespace of the repositories (the user's own in bearer mode).
    #[arg(long, default_value = "bench")]
    namespace: String,
    /// Clients at once for the small-request workloads (and for seeding).
    #[arg(short = 'c', default_value_t = 8)]
    c: usize,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the workloads against one registry.
    Run {
        #[command(flatten)]
        target: Target,
        /// Name of this run (repositories are `<namespace>/<run>-…`); unique per server.
        #[arg(long, default_value = "r1")]
        run: String,
        /// Seconds per workload (count bounds apply too).
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
        /// Blob sizes in bytes, comma-separated.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "1024,1048576,67108864,268435456"
        )]
        sizes: Vec<usize>,
        /// Concurrency levels of the manifest reads.
        #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
        levels: Vec<usize>,
        /// How many tags / repositories `seed` made (0: skip the listing workloads).
        #[arg(long, default_value_t = 0)]
        seeded: usize,
        /// Only workloads whose names start with one of these.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Token endpoint for the token-issuance workloads (needs --creds).
        #[arg(long)]
        token_url: Option<String>,
        /// Server process ids to read /proc counters of.
        #[arg(long, value_delimiter = ',')]
        pid: Vec<u32>,
        /// Extra `key=value` fields for every JSON line (target, mode, round…).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Tiny counts; any error fails the program (CI).
        #[arg(long)]
        smoke: bool,
        /// Stop at the first error.
        #[arg(long)]
        strict: bool,
    },
    /// Create tags `t<from>..t<to>` in `<ns>/seed-tags` and repositories `<ns>/seed-r<i>`.
    Seed {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 0)]
        from: usize,
        #[arg(long)]
        to: usize,
    },
    /// Measure the machine: sha256 on one core, disk write + fdatasync, loopback copy.
    Limits {
        /// A directory on the disk the registries store on.
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        tmpfs: Option<PathBuf>,
        #[arg(long, default_value_t = 256 << 20)]
        size: usize,
    },
    /// Print the markdown table of JSON-line files.
    Report { files: Vec<PathBuf> },
    /// Start a Pier pair in a temporary directory and race clients on it; then verify every
    /// acknowledged write and run fsck (docs/reliability.md, "Concurrency").
    Concurrency {
        #[arg(short = 'c', default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value_t = 300.0)]
        seconds: f64,
        #[arg(long, default_value_t = 4)]
        repositories: usize,
        #[arg(long, default_value_t = 4)]
        tags: usize,
        #[arg(long, default_value_t = 13)]
        seed: u64,
        /// Keep the pair's data and logs here (default: a temporary directory, removed).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Start a Pier pair in a temporary directory and run mixed load on it, sampling memory
    /// and descriptors (docs/reliability.md, "Soak").
    Soak {
        #[arg(short = 'c', default_value_t = 8)]
        clients: usize,
        #[arg(long, default_value_t = 600.0)]
        seconds: f64,
        /// Seconds between two samples.
        #[arg(long, default_value_t = 10.0)]
        interval: f64,
        /// Seconds of the first and last windows compared.
        #[arg(long, default_value_t = 60.0)]
        window: f64,
        /// Memory growth allowed between the windows, as a fraction.
        #[arg(long, default_value_t = 0.10)]
        rss_slack: f64,
        #[arg(long, default_value_t = 13)]
        seed: u64,
        /// Keep the pair's data and logs here (default: a temporary directory, removed).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Crash safety: start pier-registry (built beside this program) on fresh data,
    /// `kill -9` and restart it at random moments during the pushes, then verify every
    /// acknowledged push and run `pier-registry fsck --json`. Prints the figures as one
    /// JSON line; exits 1 if anything acknowledged was lost or fsck found a problem.
    /// PIER_TEST_DATABASE / PIER_TEST_STORAGE pick the backends, as in the tests.
    Crash {
        /// Push operations in all (blobs monolithic and chunked, manifests, tags, deletes).
        #[arg(long, default_value_t = 1000)]
        pushes: usize,
        /// Clients pushing at once.
        #[arg(long, default_value_t = 2)]
        clients: usize,
        /// Shortest pause before a kill (ms).
        #[arg(long, default_value_t = 300)]
        kill_min_ms: u64,
        /// Longest pause before a kill (ms).
        #[arg(long, default_value_t = 900)]
        kill_max_ms: u64,
        #[arg(long, default_value_t = 13)]
        seed: u64,
        /// Where the registry keeps its data (default: a temporary directory, removed).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn settings(t: Target, run: &str) -> workloads::Settings {
    workloads::Settings {
        url: t.url,
        creds: t.creds,
        namespace: t.namespace,
        run: run.to_string(),
        salt: salt(run),
        sizes: Vec::new(),
        levels: Vec::new(),
        c: t.c.max(1),
        duration: Duration::from_secs(2),
        seeded: 0,
        smoke: false,
        only: Vec::new(),
        token_url: None,
    }
}

/// A per-run salt, so blobs of two runs never collide (FNV-1a of the run name and time).
fn salt(run: &str) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    run.bytes().fold(0xcbf2_9ce4_8422_2325 ^ now, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn main() {
    let result = match Cli::parse().cmd {
        Cmd::Run {
            target,
            run,
            seconds,
            sizes,
            levels,
            seeded,
            only,
            token_url,
            pid,
            tags,
            smoke,
            strict,
        } => {
            let mut s = settings(target, &run);
            s.duration = Duration::from_secs_f64(seconds.clamp(0.05, 600.0));
            (s.sizes, s.levels, s.seeded, s.smoke, s.only, s.token_url) =
                (sizes, levels, seeded, smoke, only, token_url);
            let ctx = Ctx {
                pids: pid,
                strict: strict || smoke,
                out: std::sync::Mutex::new(Box::new(std::io::stdout())),
                tags: tags
                    .iter()
                    .filter_map(|t| t.split_once('='))
                    .map(|(k, v)| {
                        (
                            k.to_string(),
                            v.parse::<u64>()
                                .map(Into::into)
                                .unwrap_or_else(|_| v.into()),
                        )
                    })
                    .collect(),
            };
            workloads::run_all(&ctx, &s)
        }
        Cmd::Seed { target, from, to } => {
            workloads::listing::seed(&settings(target, "seed"), from, to)
        }
        Cmd::Limits { dir, tmpfs, size } => {
            for l in limits::measure(&dir, tmpfs.as_deref(), size) {
                println!("{l}");
            }
            Ok(())
        }
        Cmd::Report { files } => {
            read_lines(&files).map(|lines| print!("{}", report::markdown(&lines)))
        }
        Cmd::Concurrency {
            clients,
            seconds,
            repositories,
            tags,
            seed,
            dir,
        } => on_own_pier(dir, |pier| {
            let plan = stress::concurrency::Plan {
                clients,
                duration: Duration::from_secs_f64(seconds),
                repositories,
                tags,
                seed,
            };
            let f = stress::concurrency::run(pier, &plan);
            println!("{f}");
            stress::judge_concurrency(&f)
        }),
        Cmd::Soak {
            clients,
            seconds,
            interval,
            window,
            rss_slack,
            seed,
            dir,
        } => on_own_pier(dir, |pier| {
            let plan = stress::soak::Plan {
                clients,
                duration: Duration::from_secs_f64(seconds),
                interval: Duration::from_secs_f64(interval),
                window: Duration::from_secs_f64(window),
                seed,
            };
            let f = stress::soak::run(pier, &plan);
            println!("{f}");
            stress::judge_soak(&f, rss_slack)
        }),
        Cmd::Crash {
            pushes,
            clients,
            kill_min_ms,
            kill_max_ms,
            seed,
            dir,
        } => {
            let plan = crash::Plan {
                pushes,
                clients,
                kill_after_ms: (kill_min_ms, kill_max_ms.max(kill_min_ms)),
                seed,
            };
            crash_run(&plan, dir)
        }
    };
    if let Err(e) = result {
        eprintln!("pier-bench: {e}");
        std::process::exit(1);
    }
}

/// Run `f` on a Pier pair of its own, under `dir` (kept) or a temporary directory (removed).
fn on_own_pier(
    dir: Option<PathBuf>,
    f: impl FnOnce(&pier_integration_tests::Pier) -> Result<(), String>,
) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let pier = stress::start_pier(dir.as_deref().unwrap_or(tmp.path()));
    f(&pier)
}

fn read_lines(files: &[PathBuf]) -> Result<Vec<serde_json::Value>, String> {
    let mut out = Vec::new();
    // A phase that was not run has no file.
    for f in files.iter().filter(|f| f.exists()) {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        out.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
    }
    Ok(out)
}

/// `pier-bench crash`: one run, its figures on standard output.
fn crash_run(plan: &crash::Plan, dir: Option<PathBuf>) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let data = dir.unwrap_or_else(|| tmp.path().join("pier"));
    let f = crash::run(&data, plan, &[]);
    println!("{}", f.json());
    if !f.lost.is_empty() || f.fsck_problems != 0 || f.fsck_exit != 0 {
        return Err(format!(
            "{} acknowledged push(es) lost, fsck: {} problem(s), exit {}",
            f.lost.len(),
            f.fsck_problems,
            f.fsck_exit
        ));
    }
    Ok(())
}
