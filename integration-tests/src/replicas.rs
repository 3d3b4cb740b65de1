//! Pier scaled out: two pier-index and two pier-registry processes behind nginx, each
//! service on its own PostgreSQL database (both replicas on the same one), the registries
//! on one storage (a shared directory, or the S3 bucket of `PIER_TEST_STORAGE=s3`).
//!
//! What the replicas share is exactly what docs/operations.md says they must: the
//! database URL, the storage, the index's key-encryption key, the introspection secret,
//! and the public URLs (the index's `http.public_url` and every `auth.*` URL are nginx's
//! index address, so realm and issuer are the same whichever replica answers).
//!
//! Every port is chosen up front (nginx's and the replicas'), so that nginx starts first
//! and a killed replica comes back at its old address.

use crate::nginx::{free_port, Group, Nginx};
use crate::pier::{cli, index_env, registry_token_env};
use crate::server::{Registry, Service};
use std::path::{Path, PathBuf};

/// The key-encryption key every index replica is given (32 bytes, base64).
pub const KEK: &str = "cGllci1yZXBsaWNhcy10ZXN0LWtlay0zMi1ieXRlcyE=";
/// How long a registry reuses an index confirmation (short: tests revoke and delete).
pub const CONFIRM_TTL: u32 = 1;

/// One replica: its process (None while stopped), data directory and environment.
pub struct Replica {
    pub service: Option<Service>,
    pub data: PathBuf,
    pub env: Vec<(String, String)>,
    binary: &'static str,
}

impl Replica {
    fn start(binary: &'static str, data: PathBuf, env: Vec<(String, String)>) -> Replica {
        let service = Some(Service::start(binary, &data, &env));
        Replica {
            service,
            data,
            env,
            binary,
        }
    }

    /// The running process (panics if stopped).
    pub fn svc(&self) -> &Service {
        self.service.as_ref().expect("replica is stopped")
    }

    pub fn url(&self, path: &str) -> String {
        self.svc().url(path)
    }

    /// SIGKILL, as a crash.
    pub fn kill(&mut self) {
        if let Some(s) = self.service.take() {
            s.kill();
        }
    }

    /// Start again with the same data, environment and address.
    pub fn restart(&mut self) {
        self.kill();
        self.service = Some(Service::start(self.binary, &self.data, &self.env));
    }

    /// Its command line, with its environment and `extra`.
    pub fn cli(&self, args: &[&str], extra: &[(&str, &str)], stdin: Option<&str>) -> String {
        let mut env = self.env.clone();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        cli(self.binary, &env, args, stdin)
    }
}

/// Fields drop in order: nginx first (no request reaches a replica any more), then the
/// registries, then the indexes.
pub struct Cluster {
    pub nginx: Nginx,
    pub registries: [Replica; 2],
    pub indexes: [Replica; 2],
    /// `127.0.0.1:<port>` of nginx's index and registry groups.
    pub index_addr: String,
    pub registry_addr: String,
    pub dir: PathBuf,
    /// The two databases, dropped with the cluster.
    databases: [String; 2],
}

/// The PostgreSQL server, required (never a skip): replicas need a database they share.
fn require_postgres() {
    if std::env::var("PIER_TEST_POSTGRES_URL").map_or(true, |u| u.is_empty()) {
        panic!(
            "the replica tests need PostgreSQL: set PIER_TEST_POSTGRES_URL \
             (`integration-tests/tools/postgres.sh start DIR` starts a server and prints it; \
             run-tests.sh does this)"
        );
    }
}

/// One database for both replicas of a service: the suite's (`PIER_TEST_DATABASE=postgres`)
/// or a fresh one on `PIER_TEST_POSTGRES_URL` when the suite runs on SQLite.
fn shared_database(dir: &Path, file: &str) -> String {
    if pier_shared::testing::postgres_wanted() {
        pier_shared::testing::database_url(dir, file)
    } else {
        pier_shared::testing::fresh_postgres_database()
    }
}

/// The registry's storage: the one place that chooses between the shared directory and
/// the S3 bucket of `PIER_TEST_STORAGE=s3` (`PIER_TEST_S3_*`).
pub fn storage_env(dir: &Path) -> Vec<(String, String)> {
    match std::env::var("PIER_TEST_STORAGE").as_deref() {
        Ok("s3") => {
            let var = |name: &str| {
                std::env::var(format!("PIER_TEST_S3_{name}"))
                    .unwrap_or_else(|_| panic!("PIER_TEST_STORAGE=s3 needs PIER_TEST_S3_{name}"))
            };
            [
                "ENDPOINT",
                "BUCKET",
                "REGION",
                "ACCESS_KEY_ID",
                "SECRET_ACCESS_KEY",
            ]
            .iter()
            .map(|k| (format!("PIER_REGISTRY_STORAGE_S3_{k}"), var(k)))
            .chain([
                ("PIER_REGISTRY_STORAGE_DRIVER".into(), "s3".into()),
                (
                    "PIER_REGISTRY_STORAGE_S3_FORCE_PATH_STYLE".into(),
                    "true".into(),
                ),
                // One prefix for the cluster: both replicas see the same objects (it
                // overrides the per-registry prefix `Registry::env` would give each).
                (
                    "PIER_REGISTRY_STORAGE_S3_PREFIX".into(),
                    cluster_prefix(dir),
                ),
            ])
            .collect()
        }
        Ok("") | Ok("fs") | Ok("filesystem") | Err(_) => vec![(
            "PIER_REGISTRY_STORAGE_ROOT".into(),
            dir.join("shared-storage").display().to_string(),
        )],
        Ok(other) => panic!("PIER_TEST_STORAGE={other:?}: use filesystem or s3"),
    }
}

/// The bucket prefix of the cluster under `dir`.
fn cluster_prefix(dir: &Path) -> String {
    use sha2::Digest as _;
    let id = hex::encode(sha2::Sha256::digest(dir.display().to_string().as_bytes()));
    format!("cluster-{}", &id[..16])
}

/// Is the storage the shared directory (tests may then look at files)?
pub fn storage_is_directory() -> bool {
    std::env::var("PIER_TEST_STORAGE").as_deref() != Ok("s3")
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

impl Cluster {
    /// Start nginx, then index A and B, then registry A and B, all under `dir`.
    pub fn start(dir: &Path) -> Cluster {
        require_postgres();
        let (index_port, registry_port) = (free_port(), free_port());
        let index_addr = format!("127.0.0.1:{index_port}");
        let registry_addr = format!("127.0.0.1:{registry_port}");
        let index_ports = [free_port(), free_port()];
        let registry_ports = [free_port(), free_port()];
        let local = |p: &u16| format!("127.0.0.1:{p}");
        std::fs::create_dir_all(dir.join("nginx")).expect("nginx dir");
        let nginx = Nginx::start(
            &dir.join("nginx"),
            &[
                Group {
                    name: "pier_index",
                    port: index_port,
                    servers: index_ports.iter().map(local).collect(),
                },
                Group {
                    name: "pier_registry",
                    port: registry_port,
                    servers: registry_ports.iter().map(local).collect(),
                },
            ],
        );
        let public = format!("http://{index_addr}");
        let index_db = shared_database(dir, "index.db");
        let indexes = (0..2).map(|i| {
            let data = dir.join(format!("index-{}", ["a", "b"][i]));
            let mut env = index_env(&data, &index_db);
            env.extend(
                [
                    ("PIER_INDEX_HTTP_LISTEN", local(&index_ports[i])),
                    ("PIER_INDEX_HTTP_PUBLIC_URL", public.clone()),
                    ("PIER_INDEX_HTTP_WORKERS", "2".into()),
                    ("PIER_INDEX_KEYS_ENCRYPTION_KEY", KEK.into()),
                    ("PIER_INDEX_REGISTRY_URL", format!("http://{registry_addr}")),
                    ("PIER_INDEX_PASSWORDS_BCRYPT_COST", "4".into()),
                ]
                .map(|(k, v)| (k.to_string(), v)),
            );
            // One after the other: the first start makes the admin and the signing key.
            Replica::start("pier-index", data, env)
        });
        let indexes: Vec<Replica> = indexes.collect();
        let registry_db = shared_database(dir, "metadata.db");
        let storage = storage_env(dir);
        let registries: Vec<Replica> = (0..2)
            .map(|i| {
                let data = dir.join(format!("registry-{}", ["a", "b"][i]));
                let mut extra = registry_token_env(&public, CONFIRM_TTL);
                extra.extend(storage.iter().cloned());
                extra.extend(
                    [
                        ("PIER_REGISTRY_HTTP_LISTEN", local(&registry_ports[i])),
                        ("PIER_REGISTRY_DATABASE_URL", registry_db.clone()),
                        // GC runs where a test says, not on a timer.
                        ("PIER_REGISTRY_GC_INTERVAL_SECONDS", "0".into()),
                    ]
                    .map(|(k, v)| (k.to_string(), v)),
                );
                let env = Registry::env(&data, &pairs(&extra));
                Replica::start("pier-registry", data, env)
            })
            .collect();
        let [ia, ib]: [Replica; 2] = indexes.try_into().ok().expect("two indexes");
        let [ra, rb]: [Replica; 2] = registries.try_into().ok().expect("two registries");
        Cluster {
            indexes: [ia, ib],
            registries: [ra, rb],
            nginx,
            index_addr,
            registry_addr,
            dir: dir.to_path_buf(),
            databases: [index_db, registry_db],
        }
    }

    /// `http://<nginx's index address><path>`.
    pub fn index_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.index_addr)
    }

    /// `http://<nginx's registry address><path>`.
    pub fn registry_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.registry_addr)
    }

    /// Create a user (through index A's command line).
    pub fn add_user(&self, name: &str, password: &str) {
        self.indexes[0].cli(
            &["user", "add", name, "--password-stdin"],
            &[],
            Some(password),
        );
    }

    /// Every replica's log, for assertion messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for (kind, rs) in [("index", &self.indexes), ("registry", &self.registries)] {
            for (i, r) in rs.iter().enumerate() {
                if let Some(s) = &r.service {
                    out.push_str(&format!("--- {kind} {i}\n{}", tail(&s.log(), 40)));
                }
            }
        }
        out.push_str(&format!("--- nginx\n{}", tail(&self.nginx.log(), 20)));
        out
    }
}

impl Drop for Cluster {
    /// Stop every replica, then drop the two databases (`psql`, best effort: a test
    /// database left behind costs disk on a shared server, nothing else).
    fn drop(&mut self) {
        for r in self.registries.iter_mut().chain(self.indexes.iter_mut()) {
            r.kill();
        }
        let Ok(admin) = std::env::var("PIER_TEST_POSTGRES_URL") else {
            return;
        };
        for url in &self.databases {
            let Some((_, name)) = url.rsplit_once('/') else {
                continue;
            };
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let _ = std::process::Command::new("psql")
                .args(["-q", &admin, "-c", &sql])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    let from = all.len().saturating_sub(lines);
    all[from..].iter().map(|l| format!("{l}\n")).collect()
}
