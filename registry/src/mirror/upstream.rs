//! One upstream registry, asked as a client would: anonymously, with Basic credentials, or
//! through the Bearer token dance (challenge → realm → token), tokens cached per scope.
//!
//! ```text
//! GET <url>/v2/library/alpine/manifests/3     → 401 WWW-Authenticate: Bearer realm=…,service=…
//! GET <realm>?service=…&scope=repository:library/alpine:pull   (Basic user:password if set)
//!                                             → 200 {"token":"…","expires_in":300}
//! GET <url>/v2/library/alpine/manifests/3  Authorization: Bearer …   → 200
//! GET <url>/v2/…/blobs/sha256:…               → 307 Location: <CDN>  (followed, no credentials)
//! ```
//!
//! Errors are [`UpstreamError`]s, which name the upstream (prefix and URL), never a
//! credential or token.

use super::challenge::{self, Challenge};
use crate::config::UpstreamConfig;
use crate::http_client::ThreadClient;
use actix_web::http::header::{AUTHORIZATION, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::http::{Method, StatusCode};
use base64::Engine;
use pier_shared::config::Secret;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A response of the upstream whose body is still to be read (a stream of `Bytes`).
pub type Response = awc::ClientResponse;

/// Largest token endpoint answer read.
const MAX_TOKEN_BODY: usize = 64 * 1024;
/// Redirects followed (a blob at a CDN, perhaps behind one more hop).
const MAX_REDIRECTS: usize = 5;
/// Tokens without `expires_in` last 60 s (the distribution token spec's default).
const DEFAULT_TOKEN_SECONDS: u64 = 60;

/// Why the upstream could not answer what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// No answer: connection refused, DNS, TLS, a timeout, a body cut short.
    Unreachable(String),
    /// It answered, but refused to serve now: 429 or 5xx (`Retry-After` if it said).
    Refused {
        status: u16,
        retry_after: Option<String>,
    },
    /// 401/403 after authenticating: it does not exist there, or needs other credentials.
    Denied,
    /// 404.
    NotFound,
    /// Anything else it should not have said (a 400, a redirect loop, a bad token answer).
    Unexpected(String),
}

impl UpstreamError {
    /// Is this the upstream being unavailable (serve from the cache if possible), rather
    /// than an answer about the content?
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            UpstreamError::Unreachable(_)
                | UpstreamError::Refused { .. }
                | UpstreamError::Unexpected(_)
        )
    }
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Unreachable(why) => write!(f, "unreachable: {why}"),
            UpstreamError::Refused { status, .. } => {
                let reason = StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                write!(f, "answered {status} {reason}")
            }
            UpstreamError::Denied => write!(f, "refused access"),
            UpstreamError::NotFound => write!(f, "answered 404"),
            UpstreamError::Unexpected(why) => write!(f, "{why}"),
        }
    }
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// One configured upstream and its cached tokens.
pub struct Upstream {
    pub prefix: String,
    /// Base URL without a trailing `/`.
    pub url: String,
    pub public: bool,
    pub tag_ttl: Duration,
    username: String,
    password: Secret,
    http: ThreadClient,
    /// `Authorization` values per scope, until they expire.
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl Upstream {
    pub fn new(c: &UpstreamConfig) -> Result<Upstream, String> {
        Ok(Upstream {
            prefix: c.prefix.clone(),
            url: c.url.trim_end_matches('/').to_string(),
            public: c.public,
            tag_ttl: Duration::from_secs(c.tag_ttl_seconds),
            username: c.username.clone(),
            password: c.password()?,
            http: ThreadClient::new(Duration::from_secs(c.timeout_seconds), &c.ca_certificate)?,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// How long a pause in a body may last before the fetch is given up.
    pub fn idle_timeout(&self) -> Duration {
        self.http.timeout()
    }

    /// "upstream hub (https://registry-1.docker.io)", for messages.
    pub fn describe(&self) -> String {
        format!("upstream {} ({})", self.prefix, self.url)
    }

    fn basic(&self) -> Option<String> {
        (!self.username.is_empty()).then(|| {
            let raw = format!("{}:{}", self.username, self.password.expose());
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        })
    }

    fn cached_auth(&self, scope: &str) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(scope)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(v, _)| v.clone())
    }

    fn remember(&self, scope: &str, value: String, lifetime: Duration) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        tokens.retain(|_, (_, until)| *until > now);
        tokens.insert(scope.to_string(), (value, now + lifetime));
    }

    /// `method <url>/v2/<remote>/<tail>` with `accept`, authenticating as the upstream
    /// asks and following redirects. Statuses other than 2xx become errors, except that
    /// a `304`-free registry API has none worth keeping.
    pub async fn send(
        &self,
        method: Method,
        remote: &str,
        tail: &str,
        accept: Option<&str>,
    ) -> Result<Response, UpstreamError> {
        let url = format!("{}/v2/{remote}/{tail}", self.url);
        let scope = format!("repository:{remote}:pull");
        let mut auth = self.cached_auth(&scope);
        let mut res = self.once(&method, &url, accept, auth.as_deref()).await?;
        if res.status() == StatusCode::UNAUTHORIZED {
            let header = res
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            auth = Some(self.authenticate(&header, &scope).await?);
            res = self.once(&method, &url, accept, auth.as_deref()).await?;
        }
        let mut hops = 0;
        while res.status().is_redirection() {
            hops += 1;
            let location = res
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| resolve(&url, l));
            let Some(location) = location.filter(|_| hops <= MAX_REDIRECTS) else {
                return Err(UpstreamError::Unexpected(format!(
                    "redirect without a usable Location after {hops} hops"
                )));
            };
            // Credentials stay with the registry; a CDN's URL carries its own signature.
            let same_origin = origin(&location) == origin(&self.url);
            let a = if same_origin { auth.as_deref() } else { None };
            res = self.once(&method, &location, accept, a).await?;
        }
        check_status(res)
    }

    async fn once(
        &self,
        method: &Method,
        url: &str,
        accept: Option<&str>,
        auth: Option<&str>,
    ) -> Result<Response, UpstreamError> {
        let mut req = self.http.get().request(method.clone(), url);
        if let Some(a) = accept {
            req = req.insert_header(("Accept", a));
        }
        if let Some(a) = auth {
            req = req.insert_header((AUTHORIZATION, a));
        }
        req.send()
            .await
            .map_err(|e| UpstreamError::Unreachable(e.to_string()))
    }

    /// Answer a 401's challenge: the `Authorization` value to retry with (cached).
    async fn authenticate(&self, header: &str, scope: &str) -> Result<String, UpstreamError> {
        match challenge::parse(header) {
            Some(Challenge::Basic) => {
                let basic = self.basic().ok_or(UpstreamError::Denied)?;
                self.remember(scope, basic.clone(), Duration::from_secs(3600));
                Ok(basic)
            }
            Some(Challenge::Bearer { realm, service, .. }) => {
                let (value, lifetime) = self.fetch_token(&realm, service.as_deref(), scope).await?;
                self.remember(scope, value.clone(), lifetime);
                Ok(value)
            }
            None => Err(UpstreamError::Denied),
        }
    }

    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<(String, Duration), UpstreamError> {
        let mut query: Vec<(&str, &str)> = vec![("scope", scope)];
        if let Some(s) = service {
            query.insert(0, ("service", s));
        }
        let qs = serde_urlencoded::to_string(&query)
            .map_err(|e| UpstreamError::Unexpected(e.to_string()))?;
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{qs}");
        let mut req = self.http.get().get(&url);
        if let Some(b) = self.basic() {
            req = req.insert_header((AUTHORIZATION, b));
        }
        let mut res = req
            .send()
            .await
            .map_err(|e| UpstreamError::Unreachable(format!("token endpoint: {e}")))?;
        match res.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Err(UpstreamError::Denied),
            s => {
                return Err(refused_or_unexpected(
                    s,
                    retry_after(&res),
                    "token endpoint answered",
                ))
            }
        }
        let answer: TokenAnswer = res
            .json()
            .limit(MAX_TOKEN_BODY)
            .await
            .map_err(|e| UpstreamError::Unexpected(format!("token endpoint's answer: {e}")))?;
        let token = if answer.token.is_empty() {
            answer.access_token
        } else {
            answer.token
        };
        if token.is_empty() {
            return Err(UpstreamError::Unexpected(
                "token endpoint's answer holds no token".into(),
            ));
        }
        // Renew a little early, so that a token never expires between check and use.
        let secs = answer.expires_in.unwrap_or(DEFAULT_TOKEN_SECONDS);
        let lifetime = Duration::from_secs(secs.saturating_sub(secs / 10 + 1).max(1));
        Ok((format!("Bearer {token}"), lifetime))
    }
}

fn retry_after(res: &Response) -> Option<String> {
    res.headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn refused_or_unexpected(status: StatusCode, retry: Option<String>, what: &str) -> UpstreamError {
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        UpstreamError::Refused {
            status: status.as_u16(),
            retry_after: retry,
        }
    } else {
        UpstreamError::Unexpected(format!("{what} {}", status.as_u16()))
    }
}

fn check_status(res: Response) -> Result<Response, UpstreamError> {
    match res.status() {
        s if s.is_success() => Ok(res),
        StatusCode::NOT_FOUND => Err(UpstreamError::NotFound),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(UpstreamError::Denied),
        s => Err(refused_or_unexpected(s, retry_after(&res), "answered")),
    }
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    let end = url[after..]
        .find(['/', '?', '#'])
        .map(|i| after + i)
        .unwrap_or(url.len());
    &url[..end]
}

/// A `Location` value made absolute against the URL that answered it.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        location.to_string()
    } else if location.starts_with('/') {
        format!("{}{location}", origin(base))
    } else {
        let dir = base.rsplit_once('/').map(|(d, _)| d).unwrap_or(base);
        format!("{dir}/{location}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_locations() {
        assert_eq!(origin("https://a.b:5000/v2/x?y"), "https://a.b:5000");
        assert_eq!(origin("http://h"), "http://h");
        assert_eq!(
            resolve("http://h:1/v2/a/blobs/x", "/cdn/blob?sig=1"),
            "http://h:1/cdn/blob?sig=1"
        );
        assert_eq!(
            resolve("http://h/v2/a/blobs/x", "https://cdn/y"),
            "https://cdn/y"
        );
        assert_eq!(
            resolve("http://h/v2/a/blobs/x", "y"),
            "http://h/v2/a/blobs/y"
        );
    }

    #[test]
    fn outages_are_told_apart_from_answers() {
        assert!(UpstreamError::Unreachable("x".into()).is_outage());
        assert!(UpstreamError::Refused {
            status: 429,
            retry_after: None
        }
        .is_outage());
        assert!(!UpstreamError::NotFound.is_outage());
        assert!(!UpstreamError::Denied.is_outage());
        assert_eq!(
            UpstreamError::Refused {
                status: 429,
                retry_after: None
            }
            .to_string(),
            "answered 429 Too Many Requests"
        );
    }
}
