//! Images for the mirror's upstreams: real gzip-compressed tar layers (the docker engine and
//! containerd unpack what they pull, so random bytes labelled as a layer would not do), an
//! image config whose `diff_ids` match them, and a Docker schema 2 manifest, as Docker Hub
//! serves; or an OCI image index over several platforms.
//!
//! An [`Image`] lives in memory (the 64 MiB one too) and is written to disk only to be
//! pushed by skopeo: a single manifest through the `dir:` transport (which takes any
//! manifest type; skopeo 1.9's `oci:` reads only OCI types), an index through `oci:`.

use crate::image::pseudo_random;
use crate::{require_tool, run_ok, sha256};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Which media types an image's manifest, config and layers carry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// Docker image manifest v2 schema 2 (what Docker Hub serves for most tags).
    Docker,
    Oci,
}

/// An image: the manifest (or index) bytes clients resolve a tag to, and every blob and
/// child manifest it refers to, by digest.
#[derive(Clone)]
pub struct Image {
    pub manifest: Vec<u8>,
    pub media_type: &'static str,
    /// Config and layer blobs, by digest.
    pub blobs: BTreeMap<String, Vec<u8>>,
    /// An index's child manifests in its order (digest, media type, bytes); empty for an
    /// image.
    pub children: Vec<(String, &'static str, Vec<u8>)>,
}

impl Image {
    /// An image of one layer per entry of `layer_sizes`, each a tar holding one file of that
    /// many pseudo-random (incompressible) bytes made from `seed`, so that different seeds
    /// share no blob.
    pub fn new(seed: u64, layer_sizes: &[usize], format: Format) -> Image {
        Self::for_platform(seed, layer_sizes, format, "amd64")
    }

    fn for_platform(seed: u64, layer_sizes: &[usize], format: Format, arch: &str) -> Image {
        let (manifest_type, config_type, layer_type) = match format {
            Format::Docker => (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER),
            Format::Oci => (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER),
        };
        let mut blobs = BTreeMap::new();
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        for (i, size) in layer_sizes.iter().enumerate() {
            let name = format!("pier-test/{seed}-{i}");
            let tar = tar_of_one_file(&name, &pseudo_random(*size, seed * 1000 + i as u64));
            diff_ids.push(sha256(&tar));
            let gz = gzip(&tar);
            let layer = descriptor(layer_type, &gz);
            blobs.insert(layer["digest"].as_str().unwrap().to_string(), gz);
            layers.push(layer);
        }
        let config = serde_json::to_vec(&json!({
            "architecture": arch,
            "os": "linux",
            "config": { "Labels": { "pier.test.seed": seed.to_string() } },
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        }))
        .unwrap();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": descriptor(config_type, &config),
            "layers": layers,
        }))
        .unwrap();
        blobs.insert(sha256(&config), config);
        Image {
            manifest,
            media_type: manifest_type,
            blobs,
            children: Vec::new(),
        }
    }

    /// An OCI image index over one OCI image per architecture (`amd64`, `arm64`, …), each
    /// with its own layers.
    pub fn multi_arch(seed: u64, layer_sizes: &[usize], arches: &[&str]) -> Image {
        let mut blobs = BTreeMap::new();
        let mut children = Vec::new();
        let mut manifests = Vec::new();
        for (i, arch) in arches.iter().enumerate() {
            let one = Self::for_platform(seed * 100 + i as u64, layer_sizes, Format::Oci, arch);
            let mut d = descriptor(OCI_MANIFEST, &one.manifest);
            d["platform"] = json!({ "os": "linux", "architecture": arch });
            manifests.push(d);
            children.push((sha256(&one.manifest), OCI_MANIFEST, one.manifest));
            blobs.extend(one.blobs);
        }
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": manifests,
        }))
        .unwrap();
        Image {
            manifest,
            media_type: OCI_INDEX,
            blobs,
            children,
        }
    }

    /// `sha256:…` of the manifest bytes: what a tag resolves to.
    pub fn digest(&self) -> String {
        sha256(&self.manifest)
    }

    /// Bytes of every blob, child manifests excluded.
    pub fn size(&self) -> usize {
        self.blobs.values().map(Vec::len).sum()
    }

    /// The image manifest a linux/amd64 client picks: the manifest itself, or an index's
    /// first child (amd64 comes first wherever this module builds an index).
    pub fn amd64_manifest(&self) -> Value {
        match self.children.first() {
            Some((_, _, child)) => serde_json::from_slice(child).unwrap(),
            None => serde_json::from_slice(&self.manifest).unwrap(),
        }
    }

    /// The digest of the amd64 image's config: the image id the docker engine reports.
    pub fn config_digest(&self) -> String {
        self.amd64_manifest()["config"]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The amd64 image's config as JSON.
    pub fn config(&self) -> Value {
        serde_json::from_slice(&self.blobs[&self.config_digest()]).unwrap()
    }

    /// Write the image where skopeo can read it; its source reference (`dir:…` or
    /// `oci:…:<tag>`) and whether the copy needs `--all`.
    pub fn write_for_skopeo(&self, dir: &Path) -> (String, bool) {
        if self.children.is_empty() {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("version"), "Directory Transport Version: 1.1\n").unwrap();
            std::fs::write(dir.join("manifest.json"), &self.manifest).unwrap();
            for (digest, data) in &self.blobs {
                std::fs::write(dir.join(&digest[7..]), data).unwrap();
            }
            (format!("dir:{}", dir.display()), false)
        } else {
            let blobs = dir.join("blobs/sha256");
            std::fs::create_dir_all(&blobs).unwrap();
            std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
            let all = self
                .blobs
                .iter()
                .map(|(d, b)| (d.clone(), b))
                .chain(self.children.iter().map(|(d, _, b)| (d.clone(), b)))
                .chain(std::iter::once((self.digest(), &self.manifest)));
            for (digest, data) in all {
                std::fs::write(blobs.join(&digest[7..]), data).unwrap();
            }
            let mut top = descriptor(self.media_type, &self.manifest);
            top["annotations"] = json!({ "org.opencontainers.image.ref.name": "pushed" });
            let index = json!({ "schemaVersion": 2, "manifests": [top] });
            std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
            (format!("oci:{}:pushed", dir.display()), true)
        }
    }

    /// Push the image to `dest` (`docker://host:port/name:tag`, plain HTTP) with skopeo,
    /// digests preserved, as `user:password` when given; staging files go under `work`.
    pub fn push(&self, work: &Path, dest: &str, creds: Option<&str>) {
        require_tool("skopeo");
        let (src, all) = self.write_for_skopeo(work);
        let mut args = vec!["copy", "--preserve-digests", "--dest-tls-verify=false"];
        if all {
            args.push("--all");
        }
        if let Some(c) = creds {
            args.extend(["--dest-creds", c]);
        }
        args.extend([src.as_str(), dest]);
        run_ok("skopeo", &args);
        let _ = std::fs::remove_dir_all(work);
    }
}

/// A descriptor of `data` with `media_type`.
pub fn descriptor(media_type: &str, data: &[u8]) -> Value {
    json!({ "mediaType": media_type, "digest": sha256(data), "size": data.len() })
}

/// gzip with stored (uncompressed) deflate blocks: a valid `tar+gzip` layer for every
/// client, and the layers are random bytes, which no level would shrink; compressing 64 MiB
/// in a debug build costs seconds for nothing.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A POSIX ustar archive of one regular file `name` (mode 0644, owned by root, mtime 0)
/// holding `data`: what a layer needs to unpack, and nothing that changes between runs.
pub fn tar_of_one_file(name: &str, data: &[u8]) -> Vec<u8> {
    assert!(name.len() < 100, "tar name too long: {name}");
    let mut header = [0u8; 512];
    let field = |h: &mut [u8; 512], at: usize, value: &[u8]| {
        h[at..at + value.len()].copy_from_slice(value);
    };
    field(&mut header, 0, name.as_bytes());
    field(&mut header, 100, b"0000644\0");
    field(&mut header, 108, b"0000000\0");
    field(&mut header, 116, b"0000000\0");
    field(
        &mut header,
        124,
        format!("{:011o}\0", data.len()).as_bytes(),
    );
    field(&mut header, 136, b"00000000000\0");
    field(&mut header, 156, b"0");
    field(&mut header, 257, b"ustar\0");
    field(&mut header, 263, b"00");
    // The checksum is computed with its own field read as eight spaces.
    field(&mut header, 148, b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    field(&mut header, 148, format!("{sum:06o}\0 ").as_bytes());
    let mut tar = Vec::with_capacity(data.len() + 2048);
    tar.extend_from_slice(&header);
    tar.extend_from_slice(data);
    tar.resize(tar.len().div_ceil(512) * 512, 0);
    tar.resize(tar.len() + 1024, 0);
    tar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tar_unpacks_with_gnu_tar() {
        let dir = tempfile::tempdir().unwrap();
        let data = pseudo_random(5000, 7);
        let tar = tar_of_one_file("pier-test/file", &data);
        std::fs::write(dir.path().join("l.tar"), &tar).unwrap();
        let list = run_ok("tar", &["-tvf", dir.path().join("l.tar").to_str().unwrap()]);
        assert!(list.contains("pier-test/file"), "{list}");
        assert!(list.contains("5000"), "{list}");
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        run_ok(
            "tar",
            &[
                "-C",
                out.to_str().unwrap(),
                "-xf",
                dir.path().join("l.tar").to_str().unwrap(),
            ],
        );
        assert_eq!(std::fs::read(out.join("pier-test/file")).unwrap(), data);
    }

    #[test]
    fn config_diff_ids_are_the_uncompressed_layers() {
        let image = Image::new(3, &[100, 2000], Format::Docker);
        let manifest: Value = serde_json::from_slice(&image.manifest).unwrap();
        assert_eq!(manifest["mediaType"], DOCKER_MANIFEST);
        let diff_ids = image.config()["rootfs"]["diff_ids"].clone();
        for (layer, diff_id) in manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .zip(diff_ids.as_array().unwrap())
        {
            let gz = &image.blobs[layer["digest"].as_str().unwrap()];
            let mut tar = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut tar)
                .unwrap();
            assert_eq!(sha256(&tar), diff_id.as_str().unwrap());
        }
        assert_eq!(image.blobs.len(), 3);
        assert_ne!(
            Image::new(4, &[100], Format::Docker).digest(),
            Image::new(3, &[100], Format::Docker).digest()
        );
    }

    #[test]
    fn an_index_names_each_child_with_its_platform() {
        let image = Image::multi_arch(5, &[300], &["amd64", "arm64"]);
        let index: Value = serde_json::from_slice(&image.manifest).unwrap();
        let arches: Vec<&str> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["platform"]["architecture"].as_str().unwrap())
            .collect();
        assert_eq!(arches, ["amd64", "arm64"]);
        assert_eq!(image.children.len(), 2);
        assert_eq!(image.blobs.len(), 4);
    }
}
