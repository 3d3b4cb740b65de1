//! `kill -9` of the registry replica receiving a 256 MiB blob through nginx, in the middle
//! of the body. The client's retry through nginx (a new upload, as docker does) reaches the
//! survivor and succeeds; every stored blob then verifies.

use crate::cluster;
use crate::http::{self, req, send, token};
use pier_integration_tests::image::pseudo_random;
use pier_integration_tests::replicas::storage_is_directory;
use std::io::Read;
use std::sync::mpsc;

const MIB: u64 = 1024 * 1024;
const SIZE: u64 = 256 * MIB;
/// Where the first attempt stops and waits for the kill.
const PAUSE_AT: u64 = 64 * MIB;

/// The blob's bytes, made on the fly: 1 MiB of noise, each MiB stamped with its index.
struct Body {
    noise: Vec<u8>,
    pos: u64,
    /// First attempt: tell the test at `PAUSE_AT`, then wait until it says go on.
    pause: Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>,
}

impl Body {
    fn new(pause: Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>) -> Body {
        Body {
            noise: pseudo_random(MIB as usize, 77),
            pos: 0,
            pause,
        }
    }

    /// The sha256 of all of it, made the same way.
    fn digest() -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut body = Body::new(None);
        let mut buf = vec![0u8; MIB as usize];
        loop {
            let n = body.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}

impl Read for Body {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == PAUSE_AT {
            if let Some((told, go)) = self.pause.take() {
                let _ = told.send(());
                let _ = go.recv();
            }
        }
        if self.pos >= SIZE {
            return Ok(0);
        }
        let at = (self.pos % MIB) as usize;
        let mut n = out.len().min(MIB as usize - at);
        if self.pos < PAUSE_AT {
            n = n.min((PAUSE_AT - self.pos) as usize);
        }
        out[..n].copy_from_slice(&self.noise[at..at + n]);
        if at == 0 && n >= 8 {
            out[..8].copy_from_slice(&(self.pos / MIB).to_le_bytes());
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// CPU time a process has used so far, in clock ticks (`/proc/<pid>/stat`: utime +
/// stime). The replica receiving the body hashes and stores it; the other one idles.
/// (Socket reads are not in `/proc/<pid>/io`, and with S3 neither are the writes.)
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    // Fields after the command: state is the 3rd of the line, utime the 14th, stime 15th.
    let fields: Vec<u64> = after_comm
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    fields.iter().sum()
}

/// POST an upload through nginx, then stream `body` into it with a PATCH and finish it
/// with `PUT ?digest=`; the status of the first step that failed, or Ok.
fn upload(nginx: &str, repo: &str, tok: &str, body: Body, digest: &str) -> Result<(), String> {
    let (status, r) = send(
        req("POST", nginx, &format!("/v2/{repo}/blobs/uploads/"), tok),
        None,
    );
    if status != 202 {
        return Err(format!("POST: {status}"));
    }
    let location = r.header("Location").unwrap_or_default().to_string();
    let patch = req("PATCH", nginx, &location, tok)
        .set("Content-Type", "application/octet-stream")
        .send(body);
    let location = match patch {
        Ok(r) if r.status() == 202 => r.header("Location").unwrap_or(&location).to_string(),
        Ok(r) => return Err(format!("PATCH: {}", r.status())),
        Err(ureq::Error::Status(code, _)) => return Err(format!("PATCH: {code}")),
        Err(e) => return Err(format!("PATCH: {e}")),
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    let (status, _) = send(
        req(
            "PUT",
            nginx,
            &format!("{location}{sep}digest={digest}"),
            tok,
        ),
        None,
    );
    (status == 201)
        .then_some(())
        .ok_or(format!("PUT: {status}"))
}

#[test]
fn a_replica_killed_mid_push_loses_nothing_and_the_retry_succeeds() {
    let (tmp, mut c) = cluster();
    let nginx = c.registry_url("");
    let repo = "alice/big";
    let t = token(&c.index_url(""), &format!("repository:{repo}:pull,push"));
    let digest = Body::digest();
    // Something already stored, to verify afterwards too.
    http::push_image(
        &nginx,
        "alice/small",
        "v1",
        &token(&c.index_url(""), "repository:alice/small:pull,push"),
        &[pseudo_random(100_000, 3)],
    );

    let pids = [c.registries[0].svc().pid(), c.registries[1].svc().pid()];
    let before = pids.map(cpu_ticks);
    let (told_tx, told_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel();
    let first = {
        let (nginx, t, digest) = (nginx.clone(), t.clone(), digest.clone());
        std::thread::spawn(move || {
            upload(&nginx, repo, &t, Body::new(Some((told_tx, go_rx))), &digest)
        })
    };
    told_rx.recv().expect("the first attempt reaches 64 MiB");
    // The receiver is the replica that worked on those 64 MiB. Had we picked the wrong
    // one, the first attempt would succeed below and the test fail.
    let grown = [0, 1].map(|i| cpu_ticks(pids[i]).saturating_sub(before[i]));
    let victim = if grown[0] > grown[1] { 0 } else { 1 };
    assert!(
        grown[victim] > grown[1 - victim],
        "no replica worked on the body: {grown:?}"
    );
    c.registries[victim].kill();
    let _ = go_tx.send(());
    let first = first.join().expect("first attempt");
    assert!(
        first.is_err(),
        "the upload survived the kill of its replica"
    );

    // The client retries, through nginx: the survivor takes it.
    upload(&nginx, repo, &t, Body::new(None), &digest)
        .unwrap_or_else(|e| panic!("retry failed: {e}\n{}", c.logs()));
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = http::push_blob(&nginx, repo, &t, config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": http::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": SIZE}],
    });
    http::put_manifest(&nginx, repo, "v1", &t, manifest.to_string().as_bytes());

    // The killed replica comes back; every stored blob is served intact by both.
    c.registries[victim].restart();
    let t = token(
        &c.index_url(""),
        "repository:alice/big:pull repository:alice/small:pull",
    );
    for r in &c.registries {
        assert_eq!(http::verify_repository(&r.url(""), repo, &t), 2);
        assert_eq!(http::verify_repository(&r.url(""), "alice/small", &t), 2);
    }
    if storage_is_directory() {
        verify_blob_files(&tmp.path().join("shared-storage/blobs/sha256"));
    }
}

/// Every file under `blobs/sha256` hashes to its own name (nothing partial became a blob).
fn verify_blob_files(dir: &std::path::Path) {
    use sha2::{Digest, Sha256};
    let mut seen = 0;
    for shard in std::fs::read_dir(dir).expect("blobs dir").flatten() {
        for f in std::fs::read_dir(shard.path()).expect("shard").flatten() {
            let mut h = Sha256::new();
            let mut file = std::fs::File::open(f.path()).expect("blob file");
            let mut buf = vec![0u8; MIB as usize];
            loop {
                let n = file.read(&mut buf).expect("read blob");
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            let name = f.file_name().to_string_lossy().into_owned();
            assert_eq!(hex::encode(h.finalize()), name, "{}", f.path().display());
            seen += 1;
        }
    }
    assert!(seen >= 4, "only {seen} blob files");
}
