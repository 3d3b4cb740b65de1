//! A legacy Docker v1 client for the tests, doing exactly what the Docker 1.x daemon did
//! (the "actual client sequence" sections of `shared/specs/legacy-v1-index-registry.md`):
//! Basic auth and `X-Docker-Token: true` at the index, `Authorization: Token …` and the
//! registry's session cookie at the registry.

use std::collections::BTreeMap;

/// A response: status, headers (lower-case names; values of repeated headers joined by
/// `, `), body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
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
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Send one request; any status is a reply (transport errors panic).
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
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let mut headers = BTreeMap::new();
    for name in res.headers_names() {
        let values = res.all(&name).join(", ");
        headers.insert(name.to_ascii_lowercase(), values);
    }
    let status = res.status();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut res.into_reader(), &mut body).expect("read body");
    Reply {
        status,
        headers,
        body,
    }
}

/// One image of a v1 push: id, json, layer bytes.
#[derive(Debug, Clone)]
pub struct Image {
    pub id: String,
    pub json: Vec<u8>,
    pub layer: Vec<u8>,
}

impl Image {
    /// `sha256:` of json + "\n" + layer: `X-Docker-Checksum-Payload`.
    pub fn payload_checksum(&self) -> String {
        let mut data = self.json.clone();
        data.push(b'\n');
        data.extend_from_slice(&self.layer);
        crate::sha256(&data)
    }
}

/// A chain of `layers.len()` images, base first, each the parent of the next.
pub fn chain(seed: u64, layers: &[usize]) -> Vec<Image> {
    let mut out: Vec<Image> = Vec::new();
    for (n, size) in layers.iter().enumerate() {
        let layer = crate::image::pseudo_random(*size, seed * 100 + n as u64);
        let id = crate::sha256(format!("v1-image {seed} {n}").as_bytes())
            .trim_start_matches("sha256:")
            .to_string();
        let mut json = serde_json::json!({
            "id": id,
            "created": "2026-11-23T12:00:00Z",
            "container_config": {"Cmd": ["/bin/sh"]},
        });
        if let Some(parent) = out.last() {
            json["parent"] = serde_json::Value::String(parent.id.clone());
        }
        out.push(Image {
            id,
            json: serde_json::to_vec(&json).unwrap(),
            layer,
        });
    }
    out
}

/// What a pull got for one image: id, json, layer.
pub type Pulled = (String, Vec<u8>, Vec<u8>);

/// A v1 client session with one index: credentials, the current token and the cookies
/// the registry set (as the daemon's cookie jar keeps them).
pub struct Client {
    pub index: String,
    pub basic: Option<String>,
    pub token: Option<String>,
    pub cookie: Option<String>,
    pub endpoints: Vec<String>,
}

impl Client {
    /// `index`: `http://127.0.0.1:<port>`.
    pub fn new(index: &str, basic: Option<String>) -> Client {
        Client {
            index: index.trim_end_matches('/').to_string(),
            basic,
            token: None,
            cookie: None,
            endpoints: Vec::new(),
        }
    }

    /// A request to the index: Basic auth and `X-Docker-Token: true`, keeping the token
    /// and the endpoints the index answers.
    pub fn index_call(&mut self, method: &str, path: &str, body: Option<&[u8]>) -> Reply {
        let url = format!("{}{path}", self.index);
        let mut h: Vec<(&str, &str)> = vec![("X-Docker-Token", "true")];
        if let Some(b) = &self.basic {
            h.push(("Authorization", b));
        }
        if body.is_some() {
            h.push(("Content-Type", "application/json"));
        }
        let r = call(method, &url, &h, body);
        if let Some(t) = r.header("x-docker-token") {
            self.token = Some(t.to_string());
            self.cookie = None;
        }
        if let Some(e) = r.header("x-docker-endpoints") {
            self.endpoints = e.split(',').map(|s| s.trim().to_string()).collect();
        }
        r
    }

    /// A request to the registry (first endpoint): `Authorization: Token …` and the
    /// cookie, keeping a new cookie.
    pub fn registry_call(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let ep = self.endpoints.first().expect("X-Docker-Endpoints").clone();
        let url = format!("http://{ep}{path}");
        let auth = self.token.as_ref().map(|t| format!("Token {t}"));
        let mut h: Vec<(&str, &str)> = extra.to_vec();
        if let Some(a) = &auth {
            h.push(("Authorization", a));
        }
        if let Some(c) = &self.cookie {
            h.push(("Cookie", c));
        }
        let r = call(method, &url, &h, body);
        if let Some(c) = r.header("set-cookie") {
            self.cookie = c.split(';').next().map(str::to_string);
        }
        r
    }

    /// The v1 push of `images` (base first) to `repo` with the top image tagged `tag`.
    pub fn push(&mut self, repo: &str, images: &[Image], tag: &str) {
        let top = images.last().expect("an image");
        let list: Vec<serde_json::Value> = images
            .iter()
            .map(|i| {
                if i.id == top.id {
                    serde_json::json!({"id": i.id, "Tag": tag})
                } else {
                    serde_json::json!({"id": i.id})
                }
            })
            .collect();
        let body = serde_json::to_vec(&list).unwrap();
        let r = self.index_call("PUT", &format!("/v1/repositories/{repo}/"), Some(&body));
        assert!(
            r.status == 200 || r.status == 201,
            "PUT repository: {} {}",
            r.status,
            r.text()
        );
        assert!(self.token.is_some() && !self.endpoints.is_empty(), "{r:?}");
        for i in images {
            let exists = self.registry_call("GET", &format!("/v1/images/{}/json", i.id), &[], None);
            if exists.status == 200 {
                continue;
            }
            let r = self.registry_call(
                "PUT",
                &format!("/v1/images/{}/json", i.id),
                &[("Content-Type", "application/json")],
                Some(&i.json),
            );
            if r.status == 409 {
                continue;
            }
            assert_eq!(r.status, 200, "PUT json: {}", r.text());
            let r = self.registry_call(
                "PUT",
                &format!("/v1/images/{}/layer", i.id),
                &[("Content-Type", "application/octet-stream")],
                Some(&i.layer),
            );
            assert_eq!(r.status, 200, "PUT layer: {}", r.text());
            let sum = i.payload_checksum();
            let r = self.registry_call(
                "PUT",
                &format!("/v1/images/{}/checksum", i.id),
                &[("X-Docker-Checksum-Payload", &sum)],
                Some(b""),
            );
            assert_eq!(r.status, 200, "PUT checksum: {}", r.text());
        }
        let body = format!("\"{}\"", top.id);
        let r = self.registry_call(
            "PUT",
            &format!("/v1/repositories/{repo}/tags/{tag}"),
            &[("Content-Type", "application/json")],
            Some(body.as_bytes()),
        );
        assert!(r.status == 200 || r.status == 201, "PUT tag: {}", r.text());
        let r = self.index_call(
            "PUT",
            &format!("/v1/repositories/{repo}/images"),
            Some(b"[]"),
        );
        assert_eq!(r.status, 204, "PUT images: {}", r.text());
    }

    /// The v1 pull of `repo:tag`: `(image id, json, layer)` from the base up, or the
    /// status of the first refusal.
    pub fn pull(&mut self, repo: &str, tag: &str) -> Result<Vec<Pulled>, Reply> {
        let r = self.index_call("GET", &format!("/v1/repositories/{repo}/images"), None);
        if r.status != 200 {
            return Err(r);
        }
        let r = self.registry_call(
            "GET",
            &format!("/v1/repositories/{repo}/tags/{tag}"),
            &[],
            None,
        );
        if r.status != 200 {
            return Err(r);
        }
        let top: String = serde_json::from_slice(&r.body).expect("tag is a JSON string");
        let r = self.registry_call("GET", &format!("/v1/images/{top}/ancestry"), &[], None);
        if r.status != 200 {
            return Err(r);
        }
        let ancestry: Vec<String> = serde_json::from_slice(&r.body).expect("ancestry");
        let mut out = Vec::new();
        for id in ancestry.iter().rev() {
            let json = self.registry_call("GET", &format!("/v1/images/{id}/json"), &[], None);
            if json.status != 200 {
                return Err(json);
            }
            let layer = self.registry_call("GET", &format!("/v1/images/{id}/layer"), &[], None);
            if layer.status != 200 {
                return Err(layer);
            }
            out.push((id.clone(), json.body, layer.body));
        }
        Ok(out)
    }
}

/// Index and registry linked in token mode, with users `alice` and `bob`.
pub fn start_with_users(dir: &std::path::Path) -> crate::Pier {
    let pier = crate::Pier::start_linked(dir, 0);
    pier.add_user("alice", "alice-password");
    pier.add_user("bob", "bob-password");
    pier
}

/// A v1 client logged in as `alice`.
pub fn alice(pier: &crate::Pier) -> Client {
    Client::new(
        &format!("http://{}", pier.index.addr),
        Some(crate::basic_auth("alice", "alice-password")),
    )
}

/// A v1 error: `status` and a `{"error": "…"}` body.
pub fn assert_error(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.text());
    assert!(r.json()["error"].is_string(), "{}", r.text());
}
