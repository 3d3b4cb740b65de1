//! Understanding a pushed manifest: its media type and what it references.
//!
//! Pier stores manifests byte-exact and reads only what it must check: the descriptors
//! (config, layers, index entries, subject), `artifactType` and `annotations`. Media types
//! accepted: OCI image manifest and index, Docker schema2 manifest and manifest list (OCI
//! artifacts are image manifests with `artifactType`); anything else is MANIFEST_INVALID,
//! since the registry could not check what it references. oci-spec's typed structs were
//! considered: they reject fields and values a registry must store untouched (unknown
//! annotations' shapes, Docker media types in OCI fields), so a minimal view is used.

use pier_shared::{Digest, ErrorCode, OciError};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    size: i64,
    #[serde(default)]
    urls: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<i64>,
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    #[serde(rename = "artifactType")]
    artifact_type: Option<String>,
    config: Option<Descriptor>,
    layers: Option<Vec<Descriptor>>,
    manifests: Option<Vec<Descriptor>>,
    subject: Option<Descriptor>,
    annotations: Option<BTreeMap<String, String>>,
}

/// What the registry keeps of a manifest besides its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub media_type: String,
    pub artifact_type: Option<String>,
    /// Blobs the manifest needs (config and distributable layers), deduplicated.
    pub blobs: Vec<String>,
    /// Manifests an index needs, deduplicated.
    pub children: Vec<String>,
    pub subject: Option<Digest>,
    /// The `annotations` object as JSON text, if any.
    pub annotations: Option<String>,
}

fn invalid(msg: impl Into<String>) -> OciError {
    OciError::with_message(ErrorCode::ManifestInvalid, msg)
}

fn strip_params(ct: &str) -> &str {
    ct.split(';').next().unwrap_or("").trim()
}

fn check_digest(d: &Descriptor) -> Result<Digest, OciError> {
    if d.size < 0 {
        return Err(invalid(format!(
            "descriptor {} has a negative size",
            d.digest
        )));
    }
    d.digest
        .parse()
        .map_err(|e| invalid(format!("descriptor digest {:?}: {e}", d.digest)))
}

/// A layer the registry need not hold: non-distributable (foreign) with external URLs.
fn is_foreign(d: &Descriptor) -> bool {
    let mt = d.media_type.as_deref().unwrap_or("");
    d.urls.as_ref().is_some_and(|u| !u.is_empty())
        && (mt.contains("nondistributable") || mt.contains("foreign"))
}

fn push_unique(v: &mut Vec<String>, d: Digest) {
    let s = d.to_string();
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Parse `body` pushed with `content_type`.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Parsed, OciError> {
    let ct = content_type.map(strip_params).filter(|c| !c.is_empty());
    if ct.is_some_and(|c| DOCKER_SCHEMA1.contains(&c)) {
        return Err(schema1());
    }
    let raw: Raw = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("manifest is not valid JSON of a known shape: {e}")))?;
    if raw.schema_version == Some(1)
        || raw
            .media_type
            .as_deref()
            .is_some_and(|m| DOCKER_SCHEMA1.contains(&m))
    {
        return Err(schema1());
    }
    if raw.schema_version != Some(2) {
        return Err(invalid("schemaVersion must be 2"));
    }
    let generic = |c: &&str| *c != "application/json" && *c != "application/octet-stream";
    let media_type = match (raw.media_type.as_deref(), ct.filter(generic)) {
        (Some(body_mt), Some(header_mt)) if body_mt != header_mt => {
            return Err(invalid(format!(
                "Content-Type {header_mt} does not match the manifest's mediaType {body_mt}"
            )))
        }
        (Some(mt), _) | (None, Some(mt)) => mt.to_string(),
        (None, None) if raw.manifests.is_some() => OCI_INDEX.to_string(),
        (None, None) => OCI_MANIFEST.to_string(),
    };

    let mut parsed = Parsed {
        media_type: media_type.clone(),
        artifact_type: raw.artifact_type.clone(),
        blobs: Vec::new(),
        children: Vec::new(),
        subject: None,
        annotations: match &raw.annotations {
            Some(a) => Some(serde_json::to_string(a).map_err(|e| invalid(e.to_string()))?),
            None => None,
        },
    };
    if let Some(s) = &raw.subject {
        parsed.subject = Some(check_digest(s)?);
    }
    match media_type.as_str() {
        OCI_MANIFEST | DOCKER_MANIFEST => {
            if raw.manifests.is_some() {
                return Err(invalid("an image manifest has no \"manifests\""));
            }
            let config = raw
                .config
                .as_ref()
                .ok_or_else(|| invalid("an image manifest needs a config descriptor"))?;
            push_unique(&mut parsed.blobs, check_digest(config)?);
            let layers = match (&raw.layers, media_type.as_str()) {
                (Some(l), _) => l.as_slice(),
                (None, OCI_MANIFEST) => &[],
                (None, _) => return Err(invalid("a Docker manifest needs \"layers\"")),
            };
            for layer in layers {
                let d = check_digest(layer)?;
                if !is_foreign(layer) {
                    push_unique(&mut parsed.blobs, d);
                }
            }
            if parsed.artifact_type.is_none() {
                parsed.artifact_type = config.media_type.clone();
            }
        }
        OCI_INDEX | DOCKER_LIST => {
            if raw.config.is_some() || raw.layers.is_some() {
                return Err(invalid("an index has no config or layers"));
            }
            let entries = raw
                .manifests
                .as_ref()
                .ok_or_else(|| invalid("an index needs \"manifests\""))?;
            for m in entries {
                push_unique(&mut parsed.children, check_digest(m)?);
            }
        }
        other => {
            return Err(invalid(format!(
                "unsupported manifest media type {other:?}; supported: {OCI_MANIFEST}, \
                 {OCI_INDEX}, {DOCKER_MANIFEST}, {DOCKER_LIST}"
            )))
        }
    }
    Ok(parsed)
}

fn schema1() -> OciError {
    invalid(
        "Docker schema1 manifests are not supported (deprecated since 2017); \
         push with a current client, which sends schema2 or OCI manifests",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn image_manifest() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{D1}","size":2}},"layers":[{{"mediaType":"x","digest":"{D2}","size":3}},{{"mediaType":"x","digest":"{D2}","size":3}}],"annotations":{{"a":"b"}}}}"#
        );
        let p = parse(Some(OCI_MANIFEST), body.as_bytes()).unwrap();
        assert_eq!(p.blobs, vec![D1.to_string(), D2.to_string()]);
        assert_eq!(
            p.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        assert_eq!(p.annotations.as_deref(), Some(r#"{"a":"b"}"#));
    }

    #[test]
    fn index_and_subject() {
        let body = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":2}}],"subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":1}}}}"#
        );
        let p = parse(None, body.as_bytes()).unwrap();
        assert_eq!(p.media_type, OCI_INDEX);
        assert_eq!(p.children, vec![D1.to_string()]);
        assert_eq!(p.subject.unwrap().to_string(), D2);
    }

    #[test]
    fn rejects() {
        let cases = [
            (Some(DOCKER_SCHEMA1[1]), "{}".to_string(), "schema1"),
            (
                None,
                r#"{"schemaVersion":1,"fsLayers":[]}"#.into(),
                "schema1",
            ),
            (None, "not json".into(), "JSON"),
            (None, r#"{"schemaVersion":3}"#.into(), "schemaVersion"),
            (
                Some(OCI_INDEX),
                format!(
                    r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"digest":"{D1}","size":1}}}}"#
                ),
                "does not match",
            ),
            (
                None,
                r#"{"schemaVersion":2,"config":{"digest":"sha256:abc","size":1}}"#.into(),
                "digest",
            ),
            (
                None,
                r#"{"schemaVersion":2,"mediaType":"text/plain"}"#.into(),
                "unsupported",
            ),
        ];
        for (ct, body, want) in cases {
            let e = parse(ct, body.as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::ManifestInvalid);
            assert!(e.message.contains(want), "{body}: {}", e.message);
        }
    }
}
