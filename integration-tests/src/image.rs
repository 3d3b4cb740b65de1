//! Writing OCI image layouts (the `oci:` transport of skopeo) with generated content.

use crate::sha256;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// An OCI image layout directory.
pub struct OciLayout {
    pub dir: PathBuf,
    refs: Vec<Value>,
}

/// A platform of a multi-arch image.
#[derive(Clone, Copy)]
pub struct Platform {
    pub os: &'static str,
    pub architecture: &'static str,
}

/// Deterministic pseudo-random bytes (xorshift), so tests need no RNG crate.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

impl OciLayout {
    pub fn create(dir: &Path) -> OciLayout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let layout = OciLayout {
            dir: dir.to_path_buf(),
            refs: Vec::new(),
        };
        layout.write_index();
        layout
    }

    /// Store a blob; returns its descriptor fields.
    pub fn blob(&self, media_type: &str, data: &[u8]) -> Value {
        let digest = sha256(data);
        let path = self.dir.join("blobs/sha256").join(&digest[7..]);
        std::fs::write(path, data).unwrap();
        json!({ "mediaType": media_type, "digest": digest, "size": data.len() })
    }

    /// An image manifest with `layer_sizes` layers of generated content.
    pub fn image(&self, seed: u64, layer_sizes: &[usize], platform: Platform) -> Value {
        let layers: Vec<Value> = layer_sizes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                self.blob(
                    "application/vnd.oci.image.layer.v1.tar+gzip",
                    &pseudo_random(*n, seed * 1000 + i as u64),
                )
            })
            .collect();
        let diff_ids: Vec<&Value> = layers.iter().map(|l| &l["digest"]).collect();
        let config = json!({
            "architecture": platform.architecture,
            "os": platform.os,
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
            "config": { "Labels": { "seed": seed.to_string() } },
        });
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            config.to_string().as_bytes(),
        );
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": layers,
        });
        let mut d = self.blob(
            "application/vnd.oci.image.manifest.v1+json",
            manifest.to_string().as_bytes(),
        );
        d["platform"] = json!({ "os": platform.os, "architecture": platform.architecture });
        d
    }

    /// An image index over `manifests` (descriptors returned by [`OciLayout::image`]).
    pub fn index(&self, manifests: &[Value]) -> Value {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        self.blob(
            "application/vnd.oci.image.index.v1+json",
            index.to_string().as_bytes(),
        )
    }

    /// Name `descriptor` as `tag` in the layout's index.json.
    pub fn tag(&mut self, tag: &str, descriptor: &Value) {
        let mut d = descriptor.clone();
        d.as_object_mut().unwrap().remove("platform");
        d["annotations"] = json!({ "org.opencontainers.image.ref.name": tag });
        self.refs.push(d);
        self.write_index();
    }

    fn write_index(&self) {
        let index = json!({ "schemaVersion": 2, "manifests": self.refs });
        std::fs::write(self.dir.join("index.json"), index.to_string()).unwrap();
    }

    /// Digests of every blob file in the layout.
    pub fn blob_digests(dir: &Path) -> BTreeSet<String> {
        std::fs::read_dir(dir.join("blobs/sha256"))
            .unwrap()
            .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
            .collect()
    }

    /// Every blob file hashes to its name.
    pub fn verify(dir: &Path) {
        for d in Self::blob_digests(dir) {
            let data = std::fs::read(dir.join("blobs/sha256").join(&d[7..])).unwrap();
            assert_eq!(sha256(&data), d, "corrupt blob in {}", dir.display());
        }
    }
}
