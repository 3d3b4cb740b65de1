//! The walkthrough's HTTP: one blocking request at a time (ureq), every status a reply.

use base64::Engine;
use std::collections::BTreeMap;

pub struct Reply {
    pub status: u16,
    headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub fn call(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let mut req = ureq::request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let res = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let res = match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => super::fail(format!("{method} {url}: {e}")),
    };
    let mut headers = BTreeMap::new();
    for name in res.headers_names() {
        headers.insert(name.to_ascii_lowercase(), res.all(&name).join(", "));
    }
    let status = res.status();
    let mut body = Vec::new();
    if let Err(e) = std::io::Read::read_to_end(&mut res.into_reader(), &mut body) {
        super::fail(format!("{method} {url}: reading the answer: {e}"));
    }
    Reply {
        status,
        headers,
        body,
    }
}

pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// A header value fit to print: secrets cut (`signature=<id>.<6 chars>…`, a JWT's first
/// characters, no Basic credentials).
pub fn shorten(value: &str) -> String {
    if value.starts_with("Basic ") {
        return "Basic …".into();
    }
    if let Some(jwt) = value.strip_prefix("Bearer ey") {
        return format!("Bearer ey{}…", &jwt[..jwt.len().min(10)]);
    }
    let parts: Vec<String> = value
        .split(',')
        .map(|part| match part.split_once("signature=") {
            Some((head, sig)) => {
                let (id, secret) = sig.split_once('.').unwrap_or((sig, ""));
                format!("{head}signature={id}.{}…", &secret[..secret.len().min(6)])
            }
            None => part.to_string(),
        })
        .collect();
    parts.join(",")
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(data))
}

/// Bytes that differ from run to run (image ids are global in v1).
pub fn fresh_bytes(len: usize, salt: &str) -> Vec<u8> {
    let seed = format!(
        "{salt} {} {:?}",
        std::process::id(),
        std::time::SystemTime::now()
    );
    let mut out = Vec::with_capacity(len);
    let mut block = sha256_hex(seed.as_bytes()).into_bytes();
    while out.len() < len {
        out.extend_from_slice(&block);
        block = sha256_hex(&block).into_bytes();
    }
    out.truncate(len);
    out
}
