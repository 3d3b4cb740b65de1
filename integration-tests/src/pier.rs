//! Pier as a pair: pier-index and pier-registry started as separate processes, the
//! registry verifying tokens from the index and confirming them with it (token mode).

use crate::server::{Registry, Service};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The secret the registry presents to the index's introspection endpoint in tests.
const INTROSPECTION_SECRET: &str = "integration-test-introspection-secret";
/// The admin password the tests give the index on first start.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// A running index + registry pair. Both are killed when dropped.
pub struct Pier {
    pub index: Service,
    pub registry: Service,
    index_env: Vec<(String, String)>,
}

fn index_env(data: &Path) -> Vec<(String, String)> {
    [
        ("PIER_INDEX_HTTP_LISTEN", "127.0.0.1:0".to_string()),
        (
            "PIER_INDEX_DATABASE_URL",
            format!("sqlite://{}", data.join("index.db").display()),
        ),
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

impl Pier {
    /// Start both under `dir`, the registry confirming tokens with a `ttl`-second cache.
    pub fn start(dir: &Path, ttl: u32) -> Pier {
        let index_data = dir.join("index");
        let env = index_env(&index_data);
        let index = Service::start("pier-index", &index_data, &env);
        let base = format!("http://{}", index.addr);
        let ttl = ttl.to_string();
        let registry = Registry::start_with(
            &dir.join("registry"),
            &[
                ("PIER_REGISTRY_AUTH_MODE", "token"),
                ("PIER_REGISTRY_AUTH_REALM", &format!("{base}/token")),
                ("PIER_REGISTRY_AUTH_SERVICE", "pier-registry"),
                ("PIER_REGISTRY_AUTH_ISSUER", "pier-index"),
                (
                    "PIER_REGISTRY_AUTH_JWKS_URL",
                    &format!("{base}/.well-known/jwks.json"),
                ),
                (
                    "PIER_REGISTRY_AUTH_INTROSPECTION_URL",
                    &format!("{base}/introspect"),
                ),
                (
                    "PIER_REGISTRY_AUTH_INTROSPECTION_SECRET",
                    INTROSPECTION_SECRET,
                ),
                ("PIER_REGISTRY_AUTH_CONFIRM_TTL_SECONDS", &ttl),
            ],
        );
        Pier {
            index,
            registry,
            index_env: env,
        }
    }

    /// Run the `pier-index` CLI against this index's database; `stdin` is fed if given.
    pub fn index_cli(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut cmd = Command::new(crate::server::binary("pier-index"));
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.index_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn pier-index");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "pier-index {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
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

    pub fn index_dir(&self) -> PathBuf {
        self.index.data.clone()
    }
}
