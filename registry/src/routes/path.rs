//! Parsing `/v2/…` paths into typed routes, as distribution's router does.
//!
//! Repository names contain `/`, so a route is recognised by its last segments
//! (`…/manifests/<ref>`, `…/blobs/uploads/<id>`, `…/tags/list`) and everything before them
//! must be a valid repository name. The raw (still percent-encoded) path is parsed, so
//! `%2e%2e` is just an invalid name, never a directory.

use pier_shared::{Digest, ErrorCode, OciError, Reference, RepoName};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// `/v2/`
    Base,
    /// `/v2/_catalog`
    Catalog,
    /// `/v2/<name>/tags/list`
    Tags(RepoName),
    /// `/v2/<name>/manifests/<reference>`
    Manifest(RepoName, Reference),
    /// `/v2/<name>/blobs/<digest>`
    Blob(RepoName, Digest),
    /// `/v2/<name>/blobs/uploads/`
    UploadStart(RepoName),
    /// `/v2/<name>/blobs/uploads/<id>` — an id that is not a UUID is simply unknown.
    Upload(RepoName, Option<Uuid>),
    /// `/v2/<name>/referrers/<digest>`
    Referrers(RepoName, Digest),
}

impl Route {
    /// The repository the route acts on, if any.
    pub fn repository(&self) -> Option<&RepoName> {
        match self {
            Route::Base | Route::Catalog => None,
            Route::Tags(n)
            | Route::Manifest(n, _)
            | Route::Blob(n, _)
            | Route::UploadStart(n)
            | Route::Upload(n, _)
            | Route::Referrers(n, _) => Some(n),
        }
    }

    /// The same route on another repository (the mirror authorizes some requests on the
    /// local name of the cache).
    pub fn with_repository(&self, name: RepoName) -> Route {
        match self {
            Route::Base | Route::Catalog => self.clone(),
            Route::Tags(_) => Route::Tags(name),
            Route::Manifest(_, r) => Route::Manifest(name, r.clone()),
            Route::Blob(_, d) => Route::Blob(name, d.clone()),
            Route::UploadStart(_) => Route::UploadStart(name),
            Route::Upload(_, id) => Route::Upload(name, *id),
            Route::Referrers(_, d) => Route::Referrers(name, d.clone()),
        }
    }
}

fn name(segments: &[&str]) -> Result<RepoName, OciError> {
    segments
        .join("/")
        .parse()
        .map_err(|e: pier_shared::NameError| {
            OciError::with_message(ErrorCode::NameInvalid, e.to_string())
        })
}

fn not_found() -> OciError {
    OciError::with_message(ErrorCode::Unsupported, "no such endpoint")
        .status(actix_web::http::StatusCode::NOT_FOUND)
}

/// Parse the part of the path after `/v2/`.
pub fn parse(rest: &str) -> Result<Route, OciError> {
    if rest.is_empty() {
        return Ok(Route::Base);
    }
    if rest == "_catalog" {
        return Ok(Route::Catalog);
    }
    let segs: Vec<&str> = rest.split('/').collect();
    let n = segs.len();
    if n >= 3 && segs[n - 2] == "tags" && segs[n - 1] == "list" {
        return Ok(Route::Tags(name(&segs[..n - 2])?));
    }
    if n >= 4 && segs[n - 3] == "blobs" && segs[n - 2] == "uploads" {
        let repo = name(&segs[..n - 3])?;
        return Ok(match segs[n - 1] {
            "" => Route::UploadStart(repo),
            id => Route::Upload(repo, Uuid::parse_str(id).ok()),
        });
    }
    if n < 3 {
        return Err(not_found());
    }
    let (kind, last) = (segs[n - 2], segs[n - 1]);
    let digest = |s: &str, code| {
        s.parse::<Digest>()
            .map_err(|e| OciError::with_message(code, e.to_string()))
    };
    match kind {
        "manifests" => {
            let repo = name(&segs[..n - 2])?;
            let reference = last.parse().map_err(|e: pier_shared::NameError| {
                let code = if last.contains(':') {
                    ErrorCode::DigestInvalid
                } else {
                    ErrorCode::TagInvalid
                };
                OciError::with_message(code, e.to_string())
            })?;
            Ok(Route::Manifest(repo, reference))
        }
        "blobs" if last == "uploads" => Ok(Route::UploadStart(name(&segs[..n - 2])?)),
        "blobs" => {
            let repo = name(&segs[..n - 2])?;
            Ok(Route::Blob(repo, digest(last, ErrorCode::DigestInvalid)?))
        }
        "referrers" => {
            let repo = name(&segs[..n - 2])?;
            Ok(Route::Referrers(
                repo,
                digest(last, ErrorCode::DigestInvalid)?,
            ))
        }
        _ => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn routes() {
        assert_eq!(parse("").unwrap(), Route::Base);
        assert_eq!(parse("_catalog").unwrap(), Route::Catalog);
        assert!(matches!(parse("a/b/tags/list").unwrap(), Route::Tags(n) if n.as_str() == "a/b"));
        assert!(matches!(
            parse("a/manifests/latest").unwrap(),
            Route::Manifest(_, Reference::Tag(_))
        ));
        assert!(matches!(
            parse(&format!("a/blobs/{D}")).unwrap(),
            Route::Blob(..)
        ));
        assert!(matches!(
            parse("a/blobs/uploads/").unwrap(),
            Route::UploadStart(_)
        ));
        assert!(matches!(
            parse("a/blobs/uploads").unwrap(),
            Route::UploadStart(_)
        ));
        assert!(matches!(
            parse("a/blobs/uploads/x").unwrap(),
            Route::Upload(_, None)
        ));
        // A repository may be called "blobs" or "manifests".
        assert!(
            matches!(parse(&format!("blobs/blobs/{D}")).unwrap(), Route::Blob(n, _) if n.as_str() == "blobs")
        );
        assert!(matches!(
            parse(&format!("x/referrers/{D}")).unwrap(),
            Route::Referrers(..)
        ));
    }

    #[test]
    fn bad_paths() {
        let code = |p: &str| parse(p).unwrap_err().code;
        assert_eq!(code("../etc/manifests/latest"), ErrorCode::NameInvalid);
        assert_eq!(code("%2e%2e/manifests/latest"), ErrorCode::NameInvalid);
        assert_eq!(code("/abs/manifests/latest"), ErrorCode::NameInvalid);
        assert_eq!(code("a//b/manifests/latest"), ErrorCode::NameInvalid);
        assert_eq!(code("A/manifests/latest"), ErrorCode::NameInvalid);
        assert_eq!(code("a/manifests/-bad"), ErrorCode::TagInvalid);
        assert_eq!(code("a/manifests/sha256:xyz"), ErrorCode::DigestInvalid);
        assert_eq!(code("a/blobs/sha256:..%2f..%2fx"), ErrorCode::DigestInvalid);
        assert_eq!(code("a/blobs/sha256:../../x"), ErrorCode::Unsupported);
        assert_eq!(code("a/nothing/here"), ErrorCode::Unsupported);
        assert_eq!(code("x"), ErrorCode::Unsupported);
    }
}
