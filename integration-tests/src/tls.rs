//! TLS for tests: a throwaway CA (openssl), server certificates for 127.0.0.1 signed by it,
//! and HTTP clients and `openssl s_client` checks that trust only that CA.

use crate::{require_tool, run_ok};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// A certificate authority under `dir`: `ca.crt` (what clients trust) and `ca.key`.
pub struct Ca {
    pub dir: PathBuf,
    pub cert: PathBuf,
    key: PathBuf,
}

/// A server certificate and its key, with the CA that signed it.
#[derive(Clone)]
pub struct ServerCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl Ca {
    /// A new P-256 CA named `name` in `dir` (created).
    pub fn new(dir: &Path, name: &str) -> Ca {
        require_tool("openssl");
        std::fs::create_dir_all(dir).unwrap();
        let (cert, key) = (dir.join("ca.crt"), dir.join("ca.key"));
        run_ok(
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN={name}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                key.to_str().unwrap(),
                "-out",
                cert.to_str().unwrap(),
            ],
        );
        Ca {
            dir: dir.to_path_buf(),
            cert,
            key,
        }
    }

    /// A server certificate for `IP:127.0.0.1` signed by this CA, as `<stem>.crt` and
    /// `<stem>.key` in the CA's directory.
    pub fn issue(&self, stem: &str) -> ServerCert {
        let d = &self.dir;
        let (cert, key, csr, ext) = (
            d.join(format!("{stem}.crt")),
            d.join(format!("{stem}.key")),
            d.join(format!("{stem}.csr")),
            d.join(format!("{stem}.ext")),
        );
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        let s = |p: &PathBuf| p.to_str().unwrap().to_string();
        run_ok(
            "openssl",
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                &s(&key),
                "-out",
                &s(&csr),
            ],
        );
        run_ok(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                &s(&csr),
                "-CA",
                &s(&self.cert),
                "-CAkey",
                &s(&self.key),
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                &s(&ext),
                "-out",
                &s(&cert),
            ],
        );
        ServerCert {
            cert,
            key,
            ca: self.cert.clone(),
        }
    }
}

/// Does a TLS handshake with `addr` succeed verifying its certificate (for IP 127.0.0.1)
/// against `ca` alone? A new connection each call (`openssl s_client`).
pub fn handshake_verifies(addr: &str, ca: &Path) -> bool {
    Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            addr,
            "-CAfile",
            ca.to_str().unwrap(),
            "-verify_return_error",
            "-verify_ip",
            "127.0.0.1",
            "-brief",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A ureq agent that trusts the certificates in `ca` and nothing else.
pub fn agent(ca: &Path) -> ureq::Agent {
    let pem = std::fs::read(ca).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    ureq::AgentBuilder::new()
        .tls_config(Arc::new(config))
        .redirects(0)
        .build()
}
