//! What `pier-registry fsck` found and did: the JSON document (`--json`) and the human
//! text printed by default. The wire format is in docs/reliability.md.

use serde::Serialize;
use std::fmt::Write as _;

/// The kinds of problem fsck reports (docs/reliability.md, "Consistency check").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A manifest references a blob its repository cannot serve, or a child manifest
    /// the repository does not hold.
    ManifestReferenceMissing,
    /// A tag points at a manifest the repository does not hold.
    TagManifestMissing,
    /// A `blobs` row whose bytes are not in storage.
    BlobMissing,
    /// A blob's stored size differs from its recorded size.
    BlobSizeMismatch,
    /// A blob's bytes do not hash to its digest.
    BlobDigestMismatch,
    /// Bytes at a blob key that no row records and that do not hash to the key: an
    /// unverified upload where a verified blob belongs (the next push of that digest
    /// would adopt them).
    UploadVisibleAsBlob,
    /// A verified blob file no row, upload or GC queue accounts for, older than the grace.
    OrphanBlobFile,
    /// An object under `uploads/` whose session row is gone, older than the grace.
    OrphanUploadFile,
    /// An object under `blobs/` that is not at a content-addressed key.
    StrayFile,
    /// A row that points at a row that is gone.
    OrphanRow,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ManifestReferenceMissing => "manifest_reference_missing",
            Kind::TagManifestMissing => "tag_manifest_missing",
            Kind::BlobMissing => "blob_missing",
            Kind::BlobSizeMismatch => "blob_size_mismatch",
            Kind::BlobDigestMismatch => "blob_digest_mismatch",
            Kind::UploadVisibleAsBlob => "upload_visible_as_blob",
            Kind::OrphanBlobFile => "orphan_blob_file",
            Kind::OrphanUploadFile => "orphan_upload_file",
            Kind::StrayFile => "stray_file",
            Kind::OrphanRow => "orphan_row",
        }
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The storage path involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub detail: String,
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            repository: None,
            digest: None,
            path: None,
            detail: detail.into(),
        }
    }

    pub fn repository(mut self, r: impl Into<String>) -> Problem {
        self.repository = Some(r.into());
        self
    }

    pub fn digest(mut self, d: impl Into<String>) -> Problem {
        self.digest = Some(d.into());
        self
    }

    pub fn path(mut self, p: impl Into<String>) -> Problem {
        self.path = Some(p.into());
        self
    }
}

/// What `--repair` did about one problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repaired {
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What was done, e.g. "deleted", "quarantined to quarantine/sha256/…".
    pub action: String,
}

/// How much was looked at.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub repositories: u64,
    pub manifests: u64,
    pub references: u64,
    pub tags: u64,
    pub links: u64,
    pub uploads: u64,
    /// `blobs` rows checked against storage.
    pub blobs: u64,
    /// Bytes read and hashed.
    pub blob_bytes: u64,
    /// Objects listed under `blobs/`.
    pub blob_files: u64,
    /// Objects listed under `uploads/`.
    pub upload_files: u64,
}

/// The whole result of one run.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    pub repair: bool,
    pub checked: Checked,
    pub problems: Vec<Problem>,
    pub repaired: Vec<Repaired>,
    /// Files that would be orphans but are younger than `gc.grace_seconds`: work in flight
    /// (or left by a crash moments ago). Not problems; looked at again by the next run.
    pub within_grace: u64,
    pub grace_seconds: u64,
    pub duration_seconds: f64,
}

impl Report {
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The text printed without `--json`.
    pub fn human(&self) -> String {
        let c = &self.checked;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "checked {} repositories, {} manifests ({} references), {} tags, {} links, \
             {} uploads, {} blobs ({} bytes hashed), {} blob files, {} upload files in {:.1} s",
            c.repositories,
            c.manifests,
            c.references,
            c.tags,
            c.links,
            c.uploads,
            c.blobs,
            c.blob_bytes,
            c.blob_files,
            c.upload_files,
            self.duration_seconds
        );
        if self.within_grace > 0 {
            let _ = writeln!(
                out,
                "{} unaccounted file(s) younger than the grace period ({} s): not checked yet",
                self.within_grace, self.grace_seconds
            );
        }
        for p in &self.problems {
            let mut line = format!("problem {}:", p.kind.as_str());
            for (name, v) in [
                ("repository", &p.repository),
                ("digest", &p.digest),
                ("path", &p.path),
            ] {
                if let Some(v) = v {
                    line.push_str(&format!(" {name}={v}"));
                }
            }
            let _ = writeln!(out, "{line} — {}", p.detail);
        }
        for r in &self.repaired {
            let what = r.digest.as_deref().or(r.path.as_deref()).unwrap_or("");
            let _ = writeln!(out, "repaired {} {what}: {}", r.kind.as_str(), r.action);
        }
        let _ = writeln!(
            out,
            "{}",
            if self.clean() {
                "clean: no problems".to_string()
            } else {
                format!(
                    "{} problem(s), {} repaired",
                    self.problems.len(),
                    self.repaired.len()
                )
            }
        );
        out
    }
}
