//! Today's flow (Docker Registry v2 token authentication), shown the same way: the
//! challenge, the token request, the retry, and the registry's RFC 7662 confirmation
//! with the index (read back from the index's audit log).

use super::http::{self, call, Reply};
use super::{fail, recorded, recorded_about, Steps, WalkthroughArgs};
use base64::Engine;

struct Client<'a> {
    args: &'a WalkthroughArgs,
    token: Option<String>,
    jti: String,
    confirmations: usize,
    steps: Steps,
}

impl<'a> Client<'a> {
    fn new(args: &'a WalkthroughArgs, title: &str) -> Client<'a> {
        Client {
            args,
            token: None,
            jti: String::new(),
            confirmations: 0,
            steps: Steps::new(title),
        }
    }

    fn registry_url(&self, path: &str) -> String {
        if path.starts_with("http") {
            return path.to_string();
        }
        format!("{}{path}", self.args.registry.trim_end_matches('/'))
    }

    /// A registry request (with the token once there is one), then any confirmation
    /// with the index it caused, as the index recorded it.
    fn registry(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let url = self.registry_url(path);
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut h: Vec<(&str, &str)> = extra.to_vec();
        let mut sent = Vec::new();
        if let Some(b) = &bearer {
            h.push(("Authorization", b));
            sent.push(format!("Authorization: {}", http::shorten(b)));
        }
        let r = call(method, &url, &h, body);
        let shown = path.split('?').next().unwrap_or(path);
        let shown = shown
            .split("/v2/")
            .nth(1)
            .map_or(shown.to_string(), |p| format!("/v2/{p}"));
        self.steps.exchange(
            "registry",
            &format!("{method} {shown}"),
            &sent,
            &r,
            &["www-authenticate"],
        );
        self.confirmations();
        r
    }

    fn confirmations(&mut self) {
        if self.jti.is_empty() {
            return;
        }
        let all = recorded(self.args, &self.jti, "token.confirm");
        let during = self.steps.n;
        for detail in all.iter().skip(self.confirmations) {
            let notes = vec![
                format!("(while serving step {during})"),
                "> Authorization: Basic registry:… (the introspection secret)".to_string(),
                format!("index recorded: token.confirm {detail}"),
                "(the client never sees this request)".to_string(),
            ];
            self.steps.step(
                "registry",
                "index",
                "POST /introspect",
                "200 active",
                &notes,
            );
        }
        self.confirmations = all.len();
    }

    /// `GET /v2/` → 401 with the challenge; then the token for `actions`.
    fn login(&mut self, actions: &str) {
        let r = self.registry("GET", "/v2/", &[], None);
        if r.status != 401 {
            fail(format!(
                "GET /v2/ answered {} (is the registry in token mode?)",
                r.status
            ));
        }
        let challenge = r.header("www-authenticate").unwrap_or("").to_string();
        let param = |k: &str| {
            challenge
                .split(&format!("{k}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or("")
                .to_string()
        };
        let (realm, service) = (param("realm"), param("service"));
        let scope = format!("repository:{}:{actions}", self.args.repository);
        let url = format!("{realm}?service={service}&scope={scope}");
        let basic = http::basic(&self.args.user, &self.args.password);
        let r = call("GET", &url, &[("Authorization", &basic)], None);
        let path = url
            .split_once("/token")
            .map_or(url.clone(), |(_, q)| format!("/token{q}"));
        self.steps.exchange(
            "index",
            &format!("GET {path}"),
            &["Authorization: Basic …".into()],
            &r,
            &[],
        );
        if r.status != 200 {
            fail(format!(
                "the index refused a token: {} {}",
                r.status,
                r.text()
            ));
        }
        let token = r.json()["token"].as_str().unwrap_or("").to_string();
        let claims = token
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .unwrap_or_default();
        self.jti = claims["jti"].as_str().unwrap_or("").to_string();
        println!(
            "      < 200 {{\"token\": \"{}…\", …}}  (jti {})",
            &token[..token.len().min(12)],
            self.jti
        );
        self.token = Some(token);
    }
}

fn expect(r: &Reply, ok: &[u16], what: &str) {
    if !ok.contains(&r.status) {
        fail(format!("{what}: {} {}", r.status, r.text()));
    }
}

fn upload(c: &mut Client, data: &[u8]) -> String {
    let repo = c.args.repository.clone();
    let digest = format!("sha256:{}", http::sha256_hex(data));
    let r = c.registry("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
    expect(&r, &[202], "starting an upload");
    let location = r.header("location").unwrap_or("").to_string();
    let sep = if location.contains('?') { '&' } else { '?' };
    let url = format!("{location}{sep}digest={digest}");
    let octets = [("Content-Type", "application/octet-stream")];
    let r = c.registry("PUT", &url, &octets, Some(data));
    expect(&r, &[201], "finishing the upload");
    digest
}

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

pub fn push(args: &WalkthroughArgs) {
    let mut c = Client::new(args, &format!("v2 push of {}:latest", args.repository));
    c.login("pull,push");
    let layer = http::fresh_bytes(2048, "v2 layer");
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", http::sha256_hex(&layer))]},
    }))
    .unwrap_or_default();
    let layer_digest = upload(&mut c, &layer);
    let config_digest = upload(&mut c, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap_or_default();
    let repo = args.repository.clone();
    let h = [("Content-Type", MANIFEST)];
    let r = c.registry(
        "PUT",
        &format!("/v2/{repo}/manifests/latest"),
        &h,
        Some(&manifest),
    );
    expect(&r, &[201], "PUT manifest");
}

pub fn pull(args: &WalkthroughArgs) {
    let mut c = Client::new(args, &format!("v2 pull of {}:latest", args.repository));
    c.login("pull");
    let repo = args.repository.clone();
    let accept = [("Accept", MANIFEST)];
    let r = c.registry(
        "GET",
        &format!("/v2/{repo}/manifests/latest"),
        &accept,
        None,
    );
    expect(&r, &[200], "GET manifest");
    let m = r.json();
    let mut blobs = vec![m["config"]["digest"].as_str().unwrap_or("").to_string()];
    if let Some(layers) = m["layers"].as_array() {
        blobs.extend(
            layers
                .iter()
                .filter_map(|l| l["digest"].as_str())
                .map(String::from),
        );
    }
    for d in blobs {
        let r = c.registry("GET", &format!("/v2/{repo}/blobs/{d}"), &[], None);
        expect(&r, &[200], "GET blob");
    }
}

/// Pier's v2 counterpart of the v1 delete: the JSON API marks the repository deleted; the
/// index's deletion worker deletes it at the registry with a deletion token.
pub fn delete(args: &WalkthroughArgs) {
    let mut steps = Steps::new(&format!("v2 delete of {}", args.repository));
    let repo = &args.repository;
    let path = format!("/api/v1/repositories/{repo}");
    let url = format!("{}{path}", args.index.trim_end_matches('/'));
    let basic = http::basic(&args.user, &args.password);
    let before = recorded_about(args, repo, "repository.purge").len();
    let r = call("DELETE", &url, &[("Authorization", &basic)], None);
    steps.exchange(
        "index",
        &format!("DELETE {path}"),
        &["Authorization: Basic …".into()],
        &r,
        &[],
    );
    expect(&r, &[204], "deleting through the API");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let purged = recorded_about(args, repo, "repository.purge");
        if purged.len() > before {
            break;
        }
        if std::time::Instant::now() > deadline {
            fail("the index's deletion worker did not delete the repository in 30 s".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let notes = vec![
        "(the index's deletion worker, within a second)".to_string(),
        "> Authorization: Bearer <deletion token: repository:…:delete>".to_string(),
        "(the registry confirms the deletion token with POST /introspect first)".to_string(),
        "index recorded: repository.purge".to_string(),
    ];
    steps.step(
        "index",
        "registry",
        &format!("DELETE /pier/v1/repositories/{repo}"),
        "202",
        &notes,
    );
}
