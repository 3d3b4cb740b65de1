//! The legacy v1 workflows, as the Docker 1.x daemon performed them
//! (shared/specs/legacy-v1-index-registry.md, "actual client sequence").

use super::http::{self, call, Reply};
use super::{fail, recorded, Steps, WalkthroughArgs};

/// The client's state: the token and endpoints the index gave, the registry's cookie.
struct Client<'a> {
    args: &'a WalkthroughArgs,
    token: Option<String>,
    endpoint: Option<String>,
    cookie: Option<String>,
    steps: Steps,
}

const INDEX_SHOWN: &[&str] = &["x-docker-token", "www-authenticate", "x-docker-endpoints"];

impl<'a> Client<'a> {
    fn new(args: &'a WalkthroughArgs, title: &str) -> Client<'a> {
        Client {
            args,
            token: None,
            endpoint: None,
            cookie: None,
            steps: Steps::new(title),
        }
    }

    fn repo(&self) -> &str {
        &self.args.repository
    }

    fn index(&mut self, method: &str, path: &str, body: Option<&[u8]>, want_token: bool) -> Reply {
        let url = format!("{}{path}", self.args.index.trim_end_matches('/'));
        let basic = http::basic(&self.args.user, &self.args.password);
        let mut h = vec![("Authorization", basic.as_str())];
        let mut sent = vec!["Authorization: Basic …".to_string()];
        if want_token {
            h.push(("X-Docker-Token", "true"));
            sent.push("X-Docker-Token: true".into());
        }
        if body.is_some() {
            h.push(("Content-Type", "application/json"));
        }
        let r = call(method, &url, &h, body);
        self.steps
            .exchange("index", &format!("{method} {path}"), &sent, &r, INDEX_SHOWN);
        if let Some(t) = r.header("x-docker-token") {
            self.token = Some(t.to_string());
            self.cookie = None;
        }
        if let Some(e) = r.header("x-docker-endpoints") {
            self.endpoint = e.split(',').next().map(|s| s.trim().to_string());
        }
        r
    }

    /// A registry request; when it made the registry confirm the token with the index,
    /// that (hidden) step follows, as the index recorded it.
    fn registry(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let Some(ep) = self.endpoint.clone() else {
            fail("the index named no registry (X-Docker-Endpoints)".into());
        };
        let scheme = self.args.index.split("://").next().unwrap_or("http");
        let url = format!("{scheme}://{ep}{path}");
        let auth = self.token.as_ref().map(|t| format!("Token {t}"));
        let mut h: Vec<(&str, &str)> = extra.to_vec();
        let mut sent: Vec<String> = Vec::new();
        if let Some(a) = &auth {
            h.push(("Authorization", a));
            sent.push(format!("Authorization: {}", http::shorten(a)));
        }
        if let Some(c) = &self.cookie {
            h.push(("Cookie", c));
            sent.push("Cookie: pier_v1_session=…".into());
        }
        for (k, v) in extra {
            if k.starts_with("X-Docker") {
                sent.push(format!("{k}: {v}"));
            }
        }
        let r = call(method, &url, &h, body);
        let new_cookie = r
            .header("set-cookie")
            .map(|c| c.split(';').next().unwrap_or("").to_string());
        self.steps
            .exchange("registry", &format!("{method} {path}"), &sent, &r, &[]);
        if let Some(c) = new_cookie {
            self.confirmation();
            self.cookie = Some(c);
            println!("      (the registry answered with Set-Cookie: pier_v1_session=…; HttpOnly)");
        }
        r
    }

    /// The registry → index check of the current token, read back from the index.
    fn confirmation(&mut self) {
        let Some(token) = self.token.clone() else {
            return;
        };
        let jti = token
            .trim_start_matches("signature=")
            .split('.')
            .next()
            .unwrap_or("")
            .to_string();
        let confirmed = recorded(self.args, &jti, "v1.token.confirm");
        let Some(detail) = confirmed.last() else {
            fail(format!("the index recorded no confirmation of token {jti}"));
        };
        let via = detail.split("via=").nth(1).unwrap_or("?");
        let during = self.steps.n;
        let note = vec![
            format!("(while serving step {during})"),
            format!("> Authorization: Token {}", http::shorten(&token)),
            format!("index recorded: v1.token.confirm {detail}"),
            "(the client never sees this request; the index used the token up)".to_string(),
        ];
        self.steps.step("registry", "index", via, "200", &note);
    }

    fn expect(&self, r: &Reply, ok: &[u16], what: &str) {
        if !ok.contains(&r.status) {
            fail(format!("{what}: {} {}", r.status, r.text()));
        }
    }
}

/// One image of the pushed chain.
struct Image {
    id: String,
    json: Vec<u8>,
    layer: Vec<u8>,
}

fn chain() -> Vec<Image> {
    let mut out: Vec<Image> = Vec::new();
    for n in 0..2 {
        let layer = http::fresh_bytes(1024 * (n + 1), "layer");
        let id = http::sha256_hex(&http::fresh_bytes(32, &format!("id {n}")));
        let mut json = serde_json::json!({"id": id, "created": "2026-11-23T00:00:00Z"});
        if let Some(p) = out.last() {
            json["parent"] = serde_json::Value::String(p.id.clone());
        }
        out.push(Image {
            id,
            json: serde_json::to_vec(&json).unwrap_or_default(),
            layer,
        });
    }
    out
}

pub fn push(args: &WalkthroughArgs) {
    let mut c = Client::new(args, &format!("v1 push of {}:latest", args.repository));
    let images = chain();
    let top = images.last().map(|i| i.id.clone()).unwrap_or_default();
    let list: Vec<_> = images
        .iter()
        .map(|i| match i.id == top {
            true => serde_json::json!({"id": i.id, "Tag": "latest"}),
            false => serde_json::json!({"id": i.id}),
        })
        .collect();
    let body = serde_json::to_vec(&list).unwrap_or_default();
    let repo = c.repo().to_string();
    let r = c.index(
        "PUT",
        &format!("/v1/repositories/{repo}/"),
        Some(&body),
        true,
    );
    c.expect(&r, &[200, 201], "allocating the repository");
    for i in &images {
        let r = c.registry("GET", &format!("/v1/images/{}/json", i.id), &[], None);
        if r.status == 200 {
            continue;
        }
        let json = [("Content-Type", "application/json")];
        let r = c.registry(
            "PUT",
            &format!("/v1/images/{}/json", i.id),
            &json,
            Some(&i.json),
        );
        c.expect(&r, &[200], "PUT json");
        let octets = [("Content-Type", "application/octet-stream")];
        let r = c.registry(
            "PUT",
            &format!("/v1/images/{}/layer", i.id),
            &octets,
            Some(&i.layer),
        );
        c.expect(&r, &[200], "PUT layer");
        let mut payload = i.json.clone();
        payload.push(b'\n');
        payload.extend_from_slice(&i.layer);
        let sum = format!("sha256:{}", http::sha256_hex(&payload));
        let h = [("X-Docker-Checksum-Payload", sum.as_str())];
        let r = c.registry(
            "PUT",
            &format!("/v1/images/{}/checksum", i.id),
            &h,
            Some(b""),
        );
        c.expect(&r, &[200], "PUT checksum");
    }
    let tag = format!("\"{top}\"");
    let json = [("Content-Type", "application/json")];
    let r = c.registry(
        "PUT",
        &format!("/v1/repositories/{repo}/tags/latest"),
        &json,
        Some(tag.as_bytes()),
    );
    c.expect(&r, &[200, 201], "PUT tag");
    let r = c.index(
        "PUT",
        &format!("/v1/repositories/{repo}/images"),
        Some(b"[]"),
        true,
    );
    c.expect(&r, &[204], "finishing the push");
}

pub fn pull(args: &WalkthroughArgs) {
    let mut c = Client::new(args, &format!("v1 pull of {}:latest", args.repository));
    let repo = c.repo().to_string();
    let r = c.index(
        "GET",
        &format!("/v1/repositories/{repo}/images"),
        None,
        true,
    );
    c.expect(&r, &[200], "asking the index for the image list");
    let r = c.registry(
        "GET",
        &format!("/v1/repositories/{repo}/tags/latest"),
        &[],
        None,
    );
    c.expect(&r, &[200], "resolving the tag");
    let top: String = serde_json::from_slice(&r.body).unwrap_or_default();
    let r = c.registry("GET", &format!("/v1/images/{top}/ancestry"), &[], None);
    c.expect(&r, &[200], "reading the ancestry");
    let ancestry: Vec<String> = serde_json::from_slice(&r.body).unwrap_or_default();
    for id in ancestry.iter().rev() {
        let r = c.registry("GET", &format!("/v1/images/{id}/json"), &[], None);
        c.expect(&r, &[200], "GET json");
        let r = c.registry("GET", &format!("/v1/images/{id}/layer"), &[], None);
        c.expect(&r, &[200], "GET layer");
    }
}

pub fn delete(args: &WalkthroughArgs) {
    let mut c = Client::new(args, &format!("v1 delete of {}", args.repository));
    let repo = c.repo().to_string();
    let path = format!("/v1/repositories/{repo}/");
    let r = c.index("DELETE", &path, None, true);
    c.expect(&r, &[202], "asking the index to delete");
    let r = c.registry("DELETE", &path, &[], None);
    c.expect(&r, &[200], "deleting at the registry");
    let r = c.index("DELETE", &path, None, false);
    c.expect(&r, &[200], "telling the index it is done");
}
