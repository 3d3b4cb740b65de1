//! One keep-alive HTTP connection to a registry, with Docker bearer-token auth: on a 401
//! challenge it asks the challenge's realm for a token (Basic credentials, the scope the
//! caller names) and keeps it per scope; anonymous registries never challenge.

use std::collections::HashMap;
use std::io::Read;

/// A response with its body read (or counted and dropped).
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// Bytes received in the body (also when it was dropped).
    pub len: u64,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// `Err` naming `what` unless the status is `want`.
    pub fn expect(self, want: u16, what: &str) -> Result<Reply, String> {
        if self.status == want {
            Ok(self)
        } else {
            let body = String::from_utf8_lossy(&self.body[..self.body.len().min(300)]).to_string();
            Err(format!(
                "{what}: status {} (want {want}) {body}",
                self.status
            ))
        }
    }
}

/// A request body: a shared buffer followed by a short tail (so each blob differs).
pub struct Body<'a> {
    pub head: &'a [u8],
    pub tail: &'a [u8],
}

impl Body<'_> {
    pub fn len(&self) -> u64 {
        (self.head.len() + self.tail.len()) as u64
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct Client {
    agent: ureq::Agent,
    pub base: String,
    creds: Option<String>,
    realm: Option<(String, String)>,
    tokens: HashMap<String, String>,
}

/// Whether to keep response bodies (small JSON) or only count them (blobs).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Body,
    Count,
}

impl Client {
    /// `creds`: `user:password` for the token realm, if the registry asks for tokens.
    pub fn new(base: &str, creds: Option<&str>) -> Client {
        let agent = ureq::AgentBuilder::new()
            .max_idle_connections_per_host(2)
            .redirects(0)
            .build();
        Client {
            agent,
            base: base.trim_end_matches('/').to_string(),
            creds: creds.map(|c| {
                let (u, p) = c.split_once(':').unwrap_or((c, ""));
                crate::basic_auth(u, p)
            }),
            realm: None,
            tokens: HashMap::new(),
        }
    }

    /// `path` may be absolute (`http://…`, as some `Location` headers are) or `/v2/…`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    /// Send one request, authenticating for `scope` (space-separated scopes) when challenged.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        scope: &str,
        headers: &[(&str, &str)],
        body: Option<&Body>,
        keep: Keep,
    ) -> Result<Reply, String> {
        for attempt in 0..2 {
            let mut req = self.agent.request(method, &self.url(path));
            for (k, v) in headers {
                req = req.set(k, v);
            }
            if let Some(t) = self.tokens.get(scope) {
                req = req.set("Authorization", &format!("Bearer {t}"));
            }
            let res = match body {
                Some(b) => req
                    .set("Content-Length", &b.len().to_string())
                    .send(b.head.chain(b.tail)),
                None => req.call(),
            };
            let resp = match res {
                Ok(r) => r,
                Err(ureq::Error::Status(_, r)) => r,
                Err(e) => return Err(format!("{method} {path}: {e}")),
            };
            if resp.status() == 401 && attempt == 0 && self.creds.is_some() {
                let challenge = resp.header("www-authenticate").unwrap_or("").to_string();
                drain(resp, Keep::Count)?;
                self.fetch_token(&challenge, scope)?;
                continue;
            }
            return drain(resp, keep);
        }
        Err(format!("{method} {path}: still 401 after fetching a token"))
    }

    /// Ask the realm for a token for `scope` (learned from `challenge` the first time).
    fn fetch_token(&mut self, challenge: &str, scope: &str) -> Result<(), String> {
        if let Some(rs) = parse_challenge(challenge) {
            self.realm = Some(rs);
        }
        let (realm, service) = self
            .realm
            .clone()
            .ok_or_else(|| format!("401 without a Bearer challenge: {challenge:?}"))?;
        let mut req = self
            .agent
            .get(&realm)
            .query("service", &service)
            .set("Authorization", self.creds.as_deref().unwrap_or(""));
        for s in scope.split(' ').filter(|s| !s.is_empty()) {
            req = req.query("scope", s);
        }
        let body: serde_json::Value = req
            .call()
            .map_err(|e| format!("token from {realm}: {e}"))?
            .into_json()
            .map_err(|e| format!("token from {realm}: {e}"))?;
        let token = body["token"]
            .as_str()
            .or(body["access_token"].as_str())
            .ok_or("token response without a token")?;
        self.tokens.insert(scope.to_string(), token.to_string());
        Ok(())
    }

    /// Get a token for `scope` now (setup), so the timed part never pays for one.
    pub fn authenticate(&mut self, scope: &str) -> Result<(), String> {
        self.send("GET", "/v2/", scope, &[], None, Keep::Count)
            .map(|_| ())
    }
}

fn drain(resp: ureq::Response, keep: Keep) -> Result<Reply, String> {
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| {
            resp.header(&n)
                .map(|v| (n.to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    let mut body = Vec::new();
    let mut reader = resp.into_reader();
    let len = match keep {
        Keep::Body => reader.read_to_end(&mut body).map(|n| n as u64),
        Keep::Count => std::io::copy(&mut reader, &mut std::io::sink()),
    }
    .map_err(|e| format!("reading a body: {e}"))?;
    Ok(Reply {
        status,
        headers,
        body,
        len,
    })
}

/// `Bearer realm="…",service="…",scope="…"` → (realm, service).
pub fn parse_challenge(h: &str) -> Option<(String, String)> {
    let rest = h.strip_prefix("Bearer ")?;
    let mut realm = None;
    let mut service = String::new();
    for part in split_params(rest) {
        let (k, v) = part.split_once('=')?;
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "realm" => realm = Some(v),
            "service" => service = v,
            _ => {}
        }
    }
    Some((realm?, service))
}

/// Split on commas outside quotes (scopes contain commas: `pull,push`).
fn split_params(s: &str) -> Vec<&str> {
    let (mut out, mut start, mut quoted) = (Vec::new(), 0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::parse_challenge;

    #[test]
    fn challenge_with_commas_in_scope() {
        let h = r#"Bearer realm="http://127.0.0.1:1/token",service="pier-registry",scope="repository:a/b:pull,push""#;
        assert_eq!(
            parse_challenge(h),
            Some(("http://127.0.0.1:1/token".into(), "pier-registry".into()))
        );
        assert_eq!(parse_challenge("Basic realm=x"), None);
    }
}
