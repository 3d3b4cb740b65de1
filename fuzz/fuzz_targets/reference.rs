//! Repository names, tags, references and digests: `registry::routes::path::parse` (the
//! router every `/v2/…` request goes through) and the `pier_shared` types it parses into,
//! plus the legacy v1 image ids, tags and repository names.
//!
//! Input: the path after `/v2/` (also tried as a bare name, tag, reference and digest).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pier_registry::routes::path::{self, Route};
use pier_shared::name::{MAX_NAME_LEN, MAX_TAG_LEN};
use pier_shared::{v1, Digest, Reference, RepoName, Tag};

fn check_name(n: &RepoName) {
    let s = n.as_str();
    assert!(!s.is_empty() && s.len() <= MAX_NAME_LEN);
    assert!(!s.starts_with('/') && !s.ends_with('/') && !s.contains("//"));
    assert!(s.split('/').all(|c| c != "." && c != ".." && !c.contains('%')));
    assert!(s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' | b'/')));
    assert_eq!(&s.parse::<RepoName>().expect("re-parse"), n);
    assert!(!n.namespace().is_empty() && !n.namespace().contains('/'));
}

fn check_digest(d: &Digest) {
    let s = d.to_string();
    let (alg, hex) = s.split_once(':').expect("algorithm:hex");
    assert_eq!(alg, d.algorithm().as_str());
    assert_eq!(hex, d.hex());
    assert_eq!(hex.len(), d.algorithm().hex_len());
    assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(&s.parse::<Digest>().expect("re-parse"), d);
}

fn check_reference(r: &Reference) {
    match r {
        Reference::Tag(t) => {
            assert!(!t.as_str().is_empty() && t.as_str().len() <= MAX_TAG_LEN);
            assert!(!t.as_str().contains(':') && !t.as_str().contains('/'));
        }
        Reference::Digest(d) => check_digest(d),
    }
    assert_eq!(&r.to_string().parse::<Reference>().expect("re-parse"), r);
}

/// The path a route was parsed from, rebuilt from its parts.
fn rebuild(route: &Route) -> String {
    match route {
        Route::Base => String::new(),
        Route::Catalog => "_catalog".into(),
        Route::Tags(n) => format!("{n}/tags/list"),
        Route::Manifest(n, r) => format!("{n}/manifests/{r}"),
        Route::Blob(n, d) => format!("{n}/blobs/{d}"),
        Route::UploadStart(n) => format!("{n}/blobs/uploads/"),
        Route::Upload(n, Some(id)) => format!("{n}/blobs/uploads/{id}"),
        Route::Upload(n, None) => format!("{n}/blobs/uploads/not-a-uuid"),
        Route::Referrers(n, d) => format!("{n}/referrers/{d}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(route) = path::parse(s) {
        if let Some(n) = route.repository() {
            check_name(n);
        }
        match &route {
            Route::Manifest(_, r) => check_reference(r),
            Route::Blob(_, d) | Route::Referrers(_, d) => check_digest(d),
            _ => {}
        }
        let again = path::parse(&rebuild(&route)).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(again, route);
    }
    if let Ok(n) = s.parse::<RepoName>() {
        assert_eq!(n.as_str(), s);
        check_name(&n);
    }
    if let Ok(t) = s.parse::<Tag>() {
        assert_eq!(t.as_str(), s);
        assert_eq!(t.as_str().parse::<Reference>(), Ok(Reference::Tag(t.clone())));
    }
    if let Ok(r) = s.parse::<Reference>() {
        assert_eq!(r.to_string(), s);
        check_reference(&r);
    }
    if let Ok(d) = s.parse::<Digest>() {
        assert_eq!(d.to_string(), s);
        check_digest(&d);
    }
    if let Ok(id) = s.parse::<v1::ImageId>() {
        assert_eq!(id.as_str(), s);
        assert!(id.as_str().len() == 64);
    }
    if v1::valid_tag(s) {
        assert!(!s.is_empty() && s.len() <= 128);
    }
    let parts: Vec<&str> = s.split('/').collect();
    if let Ok(n) = v1::repository(&parts) {
        check_name(&n);
        assert_eq!(n.as_str().split('/').count(), 2);
    }
});
