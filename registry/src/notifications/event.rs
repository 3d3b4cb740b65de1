//! The wire format: distribution's `application/vnd.docker.distribution.events.v1+json`
//! (its `notifications/event.go`). Field names, nesting and which fields are left out
//! when empty follow it exactly: `request.id`, `request.method` and `request.useragent`
//! are always present, every other field only when set.

use serde::{Deserialize, Serialize};

/// The envelope's media type, sent as the request's `Content-Type`.
pub const MEDIA_TYPE: &str = "application/vnd.docker.distribution.events.v1+json";

/// What a blob's `target.mediaType` says (distribution's, for blobs it serves).
pub const BLOB_MEDIA_TYPE: &str = "application/octet-stream";

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One event. `id` is stable: a re-delivery carries the same one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    /// RFC 3339, UTC.
    pub timestamp: String,
    /// `push`, `pull`, `delete` or `mount`.
    pub action: String,
    pub target: Target,
    pub request: RequestInfo,
    pub actor: Actor,
    pub source: Source,
}

/// What the event is about: a manifest (push, pull, delete by digest), a blob (mount), a
/// tag (delete: `repository` and `tag` only) or a repository (delete: `repository` only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Target {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub size: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// The same as `size` (distribution keeps it for older receivers).
    #[serde(skip_serializing_if = "is_zero")]
    pub length: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub repository: String,
    /// A mount's source repository.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from_repository: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tag: String,
}

/// The HTTP request that caused the event (distribution's `RequestRecord`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestInfo {
    /// The client's `X-Request-Id` if it sent a sane one, else a fresh UUID.
    pub id: String,
    /// The client's address (`ip:port`, or the address `http.trusted_proxies` resolve).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub addr: String,
    /// The `Host` the client asked for.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    pub method: String,
    pub useragent: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Actor {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// The registry process that generated the event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Source {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub addr: String,
    #[serde(rename = "instanceID", skip_serializing_if = "String::is_empty")]
    pub instance_id: String,
}

/// `{"events":[…]}` of already serialised events, in the order given.
pub fn envelope<'a>(payloads: impl IntoIterator<Item = &'a str>) -> String {
    let mut body = String::from("{\"events\":[");
    for (i, p) in payloads.into_iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(p);
    }
    body.push_str("]}");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of distribution's own format test (notifications/event_test.go): the
    /// same keys, in the same order, left out under the same conditions.
    #[test]
    fn serialises_like_distribution() {
        let e = Event {
            id: "asdf-asdf-asdf-asdf-0".into(),
            timestamp: "2006-01-02T15:04:05Z".into(),
            action: "push".into(),
            target: Target {
                media_type: "application/vnd.docker.distribution.manifest.v2+json".into(),
                size: 1,
                digest: "sha256:0123456789abcdef0".into(),
                length: 1,
                repository: "library/test".into(),
                url: "http://example.com/v2/library/test/manifests/sha256:0123456789abcdef0".into(),
                tag: "latest".into(),
                ..Default::default()
            },
            request: RequestInfo {
                id: "asdfasdf".into(),
                addr: "client.local".into(),
                host: "registrycluster.local".into(),
                method: "PUT".into(),
                useragent: "test/0.1".into(),
            },
            actor: Actor {
                name: "test-actor".into(),
            },
            source: Source {
                addr: "hostname.local:port".into(),
                instance_id: String::new(),
            },
        };
        let got = envelope([serde_json::to_string(&e).unwrap().as_str()]);
        let want = r#"{"events":[{"id":"asdf-asdf-asdf-asdf-0","timestamp":"2006-01-02T15:04:05Z","action":"push","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":1,"digest":"sha256:0123456789abcdef0","length":1,"repository":"library/test","url":"http://example.com/v2/library/test/manifests/sha256:0123456789abcdef0","tag":"latest"},"request":{"id":"asdfasdf","addr":"client.local","host":"registrycluster.local","method":"PUT","useragent":"test/0.1"},"actor":{"name":"test-actor"},"source":{"addr":"hostname.local:port"}}]}"#;
        assert_eq!(got, want);
        let back: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(back["events"][0]["target"]["tag"], "latest");
    }

    #[test]
    fn a_tag_delete_has_only_repository_and_tag() {
        let t = Target {
            repository: "a/b".into(),
            tag: "v1".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"repository":"a/b","tag":"v1"}"#
        );
        let anonymous = serde_json::to_string(&Actor::default()).unwrap();
        assert_eq!(anonymous, "{}");
        let r = serde_json::to_string(&RequestInfo::default()).unwrap();
        assert_eq!(r, r#"{"id":"","method":"","useragent":""}"#);
    }

    #[test]
    fn envelope_of_nothing_is_empty_list() {
        assert_eq!(envelope([]), r#"{"events":[]}"#);
        assert_eq!(envelope(["1", "2"]), r#"{"events":[1,2]}"#);
    }
}
