//! `registry::manifest::parse`, what `PUT /v2/<name>/manifests/<ref>` runs on the pushed body:
//! Docker schema2 manifests and manifest lists, OCI manifests and indexes, artifacts.
//!
//! Input: the `Content-Type` header value, a newline, the body (no newline: no header).
#![no_main]

use actix_web::http::header::HeaderValue;
use libfuzzer_sys::fuzz_target;
use pier_registry::manifest::{self, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use pier_shared::{Digest, ErrorCode};

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (HeaderValue::from_bytes(&data[..i]).ok(), &data[i + 1..]),
        None => (None, data),
    };
    // As the handler reads it: a header value that is not visible ASCII is no header.
    let content_type = header.as_ref().and_then(|v| v.to_str().ok());
    match manifest::parse(content_type, body) {
        Ok(p) => {
            assert!(
                [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST]
                    .contains(&p.media_type.as_str()),
                "accepted media type {:?}",
                p.media_type
            );
            let image = p.media_type == OCI_MANIFEST || p.media_type == DOCKER_MANIFEST;
            // An image references its config at least; an index references no blobs.
            if image {
                assert!(!p.blobs.is_empty() && p.children.is_empty());
            } else {
                assert!(p.blobs.is_empty());
            }
            for list in [&p.blobs, &p.children] {
                for (i, d) in list.iter().enumerate() {
                    let parsed: Digest = d.parse().expect("a stored reference is a digest");
                    assert_eq!(&parsed.to_string(), d);
                    assert!(!list[..i].contains(d), "duplicate reference {d}");
                }
            }
            if let Some(s) = &p.subject {
                assert_eq!(&s.to_string().parse::<Digest>().expect("subject"), s);
            }
            if let Some(a) = &p.annotations {
                let v: serde_json::Value = serde_json::from_str(a).expect("annotations are JSON");
                assert!(v.is_object());
            }
        }
        Err(e) => assert_eq!(e.code, ErrorCode::ManifestInvalid, "{}", e.message),
    }
});
