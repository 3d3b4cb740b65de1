//! Pier as a pair: pier-index and pier-registry started as separate processes, the
//! registry verifying tokens from the index and confirming them with it (token mode).

use crate::server::{Registry, Service};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The secret the registry presents to the index's introspection endpoint in tests.
pub const INTROSPECTION_SECRET: &str = "integration-test-introspection-secret";
/// The admin password the tests give the index on first start.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// A running index + registry pair. Both are killed when dropped.
pub struct Pier {
    pub index: Service,
    pub registry: Service,
    index_env: Vec<(String, String)>,
    registry_env: Vec<(String, String)>,
    registry_data: PathBuf,
}

/// The environment of a pier-index keeping its keys and logs under `data`, on the
/// database at `database_url` (also right for its CLI).
pub fn index_env(data: &Path, database_url: &str) -> Vec<(String, String)> {
    [
        ("PIER_INDEX_HTTP_LISTEN", "127.0.0.1:0".to_string()),
        ("PIER_INDEX_DATABASE_URL", database_url.to_string()),
        (
            "PIER_INDEX_TOKEN_KEY_DIR",
            data.join("keys").display().to_string(),
        ),
        (
            "PIER_INDEX_REGISTRY_INTROSPECTION_SECRET",
            INTROSPECTION_SECRET.to_string(),
        ),
        ("PIER_INDEX_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
        ("PIER_INDEX_LOG", "info".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The `PIER_REGISTRY_*` variables of token mode against the index at `index_base`
/// (`http://host:port`, what clients and the registry reach it at), confirming tokens with
/// a `ttl`-second cache; the legacy v1 protocol checks its tokens there too.
pub fn registry_token_env(index_base: &str, ttl: u32) -> Vec<(String, String)> {
    [
        ("PIER_REGISTRY_AUTH_MODE", "token".to_string()),
        ("PIER_REGISTRY_AUTH_REALM", format!("{index_base}/token")),
        ("PIER_REGISTRY_AUTH_SERVICE", "pier-registry".to_string()),
        ("PIER_REGISTRY_AUTH_ISSUER", "pier-index".to_string()),
        (
            "PIER_REGISTRY_AUTH_JWKS_URL",
            format!("{index_base}/.well-known/jwks.json"),
        ),
        (
            "PIER_REGISTRY_AUTH_INTROSPECTION_URL",
            format!("{index_base}/introspect"),
        ),
        (
            "PIER_REGISTRY_AUTH_INTROSPECTION_SECRET",
            INTROSPECTION_SECRET.to_string(),
        ),
        ("PIER_REGISTRY_AUTH_CONFIRM_TTL_SECONDS", ttl.to_string()),
        ("PIER_REGISTRY_V1_INDEX_URL", index_base.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Run a workspace binary's command line with exactly `env` added, `stdin` fed if given;
/// its standard output. A failure panics with its standard error.
pub fn cli(binary: &str, env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = Command::new(crate::server::binary(binary));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {binary}: {e}"));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{binary} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Pier {
    /// Start both under `dir`, the registry confirming tokens with a `ttl`-second cache.
    pub fn start(dir: &Path, ttl: u32) -> Pier {
        Self::start_inner(dir, ttl, None)
    }

    /// As [`Pier::start`], with the registry on a port chosen first, so that the index
    /// knows its URL (`registry.url`, for repository deletions) and a restarted registry
    /// comes back at the same address.
    pub fn start_linked(dir: &Path, ttl: u32) -> Pier {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        Self::start_inner(dir, ttl, Some(port))
    }

    /// As [`Pier::start_linked`], with extra `PIER_INDEX_*` variables for the index.
    pub fn start_linked_with(dir: &Path, ttl: u32, index_extra: &[(&str, &str)]) -> Pier {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        Self::start_full(dir, ttl, Some(port), index_extra, None, &[])
    }

    /// As [`Pier::start_linked`], the registry also reading the TOML file `config`
    /// (`PIER_REGISTRY_CONFIG`, what `pier-registry --config` and `pier up
    /// --registry-config` set), such as a `[mirror]` section; the environment still wins
    /// for what it sets (listen address, database, storage, auth).
    pub fn start_with_registry_config(dir: &Path, ttl: u32, config: &Path) -> Pier {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let config = config.display().to_string();
        Self::start_full(
            dir,
            ttl,
            Some(port),
            &[],
            None,
            &[("PIER_REGISTRY_CONFIG", config.as_str())],
        )
    }

    fn start_inner(dir: &Path, ttl: u32, registry_port: Option<u16>) -> Pier {
        Self::start_full(dir, ttl, registry_port, &[], None, &[])
    }

    /// Both services over HTTPS with `tls` (a certificate for 127.0.0.1), the registry
    /// trusting its CA to reach the index; `index_extra` / `registry_extra` come last.
    /// URLs: `https://<addr>` (see [`crate::tls::agent`] for a client).
    pub fn start_tls(
        dir: &Path,
        ttl: u32,
        tls: &crate::tls::ServerCert,
        index_extra: &[(&str, &str)],
        registry_extra: &[(&str, &str)],
    ) -> Pier {
        Self::start_full(dir, ttl, None, index_extra, Some(tls), registry_extra)
    }

    /// As [`Pier::start_linked`], with extra `PIER_INDEX_*` and `PIER_REGISTRY_*` variables.
    pub fn start_linked_env(
        dir: &Path,
        ttl: u32,
        index_extra: &[(&str, &str)],
        registry_extra: &[(&str, &str)],
    ) -> Pier {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        Self::start_full(dir, ttl, Some(port), index_extra, None, registry_extra)
    }

    fn start_full(
        dir: &Path,
        ttl: u32,
        registry_port: Option<u16>,
        index_extra: &[(&str, &str)],
        tls: Option<&crate::tls::ServerCert>,
        registry_extra: &[(&str, &str)],
    ) -> Pier {
        let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let index_data = dir.join("index");
        let db = pier_shared::testing::database_url(&index_data, "index.db");
        let mut env = index_env(&index_data, &db);
        let (scheme, mut tls_env) = match tls {
            Some(t) => (
                "https",
                vec![
                    ("HTTP_TLS_CERTIFICATE", t.cert.display().to_string()),
                    ("HTTP_TLS_KEY", t.key.display().to_string()),
                ],
            ),
            None => ("http", Vec::new()),
        };
        env.extend(
            tls_env
                .iter()
                .map(|(k, v)| (format!("PIER_INDEX_{k}"), v.clone())),
        );
        env.extend(owned(index_extra));
        let listen = registry_port.map(|p| format!("127.0.0.1:{p}"));
        if let Some(l) = &listen {
            env.push(("PIER_INDEX_REGISTRY_URL".into(), format!("http://{l}")));
        }
        let index = Service::start("pier-index", &index_data, &env);
        let base = format!("{scheme}://{}", index.addr);
        let registry_data = dir.join("registry");
        let mut token_env = registry_token_env(&base, ttl);
        if let Some(l) = &listen {
            token_env.push(("PIER_REGISTRY_HTTP_LISTEN".into(), l.clone()));
        }
        if let Some(t) = tls {
            tls_env.push(("AUTH_CA_CERTIFICATE", t.ca.display().to_string()));
        }
        token_env.extend(
            tls_env
                .iter()
                .map(|(k, v)| (format!("PIER_REGISTRY_{k}"), v.clone())),
        );
        token_env.extend(owned(registry_extra));
        let extra: Vec<(&str, &str)> = token_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let registry_env = Registry::env(&registry_data, &extra);
        let registry = Service::start("pier-registry", &registry_data, &registry_env);
        Pier {
            index,
            registry,
            index_env: env,
            registry_env,
            registry_data,
        }
    }

    /// Kill the registry (SIGKILL).
    pub fn stop_registry(&mut self) {
        self.registry.stop();
    }

    /// Start the registry again, with the same data and environment.
    pub fn start_registry(&mut self) {
        self.registry.stop();
        self.registry = Service::start("pier-registry", &self.registry_data, &self.registry_env);
    }

    /// Kill the index (SIGKILL) and start it again with the same data and environment.
    /// It comes back at the same address only if that was fixed (`PIER_INDEX_HTTP_LISTEN`
    /// in `index_extra`), as the registry's realm and introspection URL need.
    pub fn restart_index(&mut self) {
        self.index.stop();
        let data = self.index.data.clone();
        self.index = Service::start("pier-index", &data, &self.index_env);
    }

    /// Run the `pier-registry` CLI on the registry's data, with `extra` environment.
    pub fn registry_cli(&self, args: &[&str], extra: &[(&str, &str)]) -> String {
        let mut env = self.registry_env.clone();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        cli("pier-registry", &env, args, None)
    }

    /// Run the `pier-index` CLI against this index's database; `stdin` is fed if given.
    pub fn index_cli(&self, args: &[&str], stdin: Option<&str>) -> String {
        cli("pier-index", &self.index_env, args, stdin)
    }

    /// Create a user with a password.
    pub fn add_user(&self, name: &str, password: &str) {
        self.index_cli(&["user", "add", name, "--password-stdin"], Some(password));
    }

    /// The index's signing certificate (for distribution's `rootcertbundle`).
    pub fn certificate(&self) -> String {
        ureq::get(&self.index.url("/token/certificate.pem"))
            .call()
            .expect("certificate")
            .into_string()
            .unwrap()
    }

    /// The registry's environment (for its CLI run as a separate process, such as fsck).
    pub fn registry_env(&self) -> &[(String, String)] {
        &self.registry_env
    }

    /// The registry's data directory (storage, metadata).
    pub fn registry_data_path(&self) -> PathBuf {
        self.registry_data.clone()
    }

    pub fn index_dir(&self) -> PathBuf {
        self.index.data.clone()
    }
}
