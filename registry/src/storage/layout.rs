//! Where things live in storage: the one place that builds paths.
//!
//! ```text
//! <root>/
//!   blobs/<algorithm>/<first two hex>/<hex>     one file per blob, shared by every repository
//!   uploads/<uuid>                              filesystem: bytes of an upload in progress
//!   uploads/<uuid>/tail-<uuid>                  S3: the bytes after the last multipart part
//!   uploads/<uuid>/data                         S3: a chunked upload's multipart key
//!   quarantine/<algorithm>/<hex>                bytes `fsck --repair` took out of service
//! ```
//!
//! Nothing under `uploads/` is ever served.
//!
//! Blobs are content-addressed: a blob file is only ever created by renaming a finished,
//! verified upload onto it, so a partial upload is never readable as a blob. Which
//! repositories may see a blob, manifests, tags and upload state are in the database.

use pier_shared::Digest;
use std::fmt;
use uuid::Uuid;

/// A relative, validated storage path: components of `[a-z0-9-]` only.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoragePath(String);

impl StoragePath {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn join(parts: &[&str]) -> StoragePath {
        debug_assert!(parts.iter().all(|p| !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')));
        StoragePath(parts.join("/"))
    }

    /// Re-validate a path a driver listed (a driver never invents other paths).
    pub fn from_listed(s: &str) -> Option<StoragePath> {
        let ok = !s.is_empty()
            && s.split('/').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        ok.then(|| StoragePath(s.to_string()))
    }
}

impl fmt::Display for StoragePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StoragePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

pub fn blob(digest: &Digest) -> StoragePath {
    let hex = digest.hex();
    StoragePath::join(&["blobs", digest.algorithm().as_str(), &hex[..2], hex])
}

pub fn blobs_root() -> StoragePath {
    StoragePath::join(&["blobs"])
}

pub fn upload(id: &Uuid) -> StoragePath {
    let id = id.hyphenated().to_string();
    StoragePath::join(&["uploads", &id])
}

/// S3: the object holding an upload's bytes after its last part.
pub fn upload_tail(id: &Uuid, tail: &Uuid) -> StoragePath {
    let (id, tail) = (id.hyphenated().to_string(), tail.hyphenated().to_string());
    StoragePath::join(&["uploads", &id, &format!("tail-{tail}")])
}

/// S3: the key a chunked upload's multipart upload completes onto (the digest is not
/// known yet when it starts); published blobs are copied from it.
pub fn upload_data(id: &Uuid) -> StoragePath {
    let id = id.hyphenated().to_string();
    StoragePath::join(&["uploads", &id, "data"])
}

/// Where `fsck --repair` moves bytes that do not match their blob key: kept for an
/// operator to look at, never served, never collected.
pub fn quarantine(digest: &Digest) -> StoragePath {
    StoragePath::join(&["quarantine", digest.algorithm().as_str(), digest.hex()])
}

/// The digest whose blob key `p` is, if it is exactly one ([`blob`] of it).
pub fn parse_blob(p: &StoragePath) -> Option<Digest> {
    let mut parts = p.as_str().split('/');
    let (root, alg, _, hex) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if root != "blobs" || parts.next().is_some() {
        return None;
    }
    let d: Digest = format!("{alg}:{hex}").parse().ok()?;
    (blob(&d) == *p).then_some(d)
}

/// The upload id an object under `uploads/` belongs to.
pub fn parse_upload(p: &StoragePath) -> Option<Uuid> {
    let mut parts = p.as_str().split('/');
    if parts.next()? != "uploads" {
        return None;
    }
    Uuid::parse_str(parts.next()?).ok()
}

/// Is `p` a content-addressed blob key?
pub fn is_blob(p: &StoragePath) -> bool {
    p.as_str().starts_with("blobs/")
}

pub fn uploads_root() -> StoragePath {
    StoragePath::join(&["uploads"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use pier_shared::Algorithm;

    #[test]
    fn blob_paths_are_sharded() {
        let d = Algorithm::Sha256.digest_of(b"");
        assert_eq!(
            blob(&d).as_str(),
            "blobs/sha256/e3/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn blob_and_upload_keys_parse_back() {
        let d = Algorithm::Sha256.digest_of(b"x");
        assert_eq!(parse_blob(&blob(&d)), Some(d.clone()));
        let moved = StoragePath::from_listed(&format!("blobs/sha256/00/{}", d.hex())).unwrap();
        assert_eq!(parse_blob(&moved), None);
        assert_eq!(
            parse_blob(&StoragePath::from_listed("blobs/sha256/ab").unwrap()),
            None
        );
        let id = Uuid::new_v4();
        assert_eq!(parse_upload(&upload(&id)), Some(id));
        assert_eq!(parse_upload(&upload_tail(&id, &Uuid::new_v4())), Some(id));
        assert_eq!(parse_upload(&blob(&d)), None);
        assert_eq!(
            quarantine(&d).as_str(),
            format!("quarantine/sha256/{}", d.hex())
        );
    }

    #[test]
    fn listed_paths_are_revalidated() {
        assert!(StoragePath::from_listed("uploads/abc-1").is_some());
        for bad in ["", "/x", "a//b", "../x", "a/..", "A"] {
            assert!(StoragePath::from_listed(bad).is_none(), "{bad}");
        }
    }
}
