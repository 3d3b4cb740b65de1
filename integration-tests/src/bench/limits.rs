//! The machine's limits, measured by the same tool: SHA-256 on one core (the sha2 crate
//! Pier hashes with), sequential disk write ended by fdatasync, the same on tmpfs, and a
//! TCP copy over loopback. Each is the best of three bounded runs.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

const MIB: f64 = 1048576.0;

fn line(name: &str, mib_s: f64, note: &str) -> serde_json::Value {
    serde_json::json!({"name": name, "unit": "MiB/s", "value": super::runner::round(mib_s), "note": note})
}

fn best(f: impl Fn() -> std::io::Result<f64>) -> std::io::Result<f64> {
    let mut b: f64 = 0.0;
    for _ in 0..3 {
        b = b.max(f()?);
    }
    Ok(b)
}

/// SHA-256 of `size` bytes on this thread.
pub fn sha256(size: usize) -> f64 {
    use sha2::Digest;
    let data = super::data::random_bytes(size, 42);
    best(|| {
        let t = Instant::now();
        std::hint::black_box(sha2::Sha256::digest(&data));
        Ok(size as f64 / MIB / t.elapsed().as_secs_f64())
    })
    .unwrap_or(0.0)
}

/// Write `size` bytes in 1 MiB writes to a new file in `dir`, then fdatasync.
pub fn disk(dir: &Path, size: usize) -> std::io::Result<f64> {
    let chunk = super::data::random_bytes(1 << 20, 7);
    let path = dir.join(format!("pier-bench-limit-{}", std::process::id()));
    let r = best(|| {
        let t = Instant::now();
        let mut f = std::fs::File::create(&path)?;
        for _ in 0..size.div_ceil(chunk.len()) {
            f.write_all(&chunk)?;
        }
        f.sync_data()?;
        let v = size as f64 / MIB / t.elapsed().as_secs_f64();
        std::fs::remove_file(&path)?;
        Ok(v)
    });
    let _ = std::fs::remove_file(&path);
    r
}

/// Copy `size` bytes from one thread to another over a 127.0.0.1 TCP connection.
pub fn loopback(size: usize) -> std::io::Result<f64> {
    best(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let reader = std::thread::spawn(move || -> std::io::Result<u64> {
            let (mut s, _) = listener.accept()?;
            let mut buf = vec![0u8; 256 << 10];
            let mut n = 0u64;
            loop {
                match s.read(&mut buf)? {
                    0 => return Ok(n),
                    k => n += k as u64,
                }
            }
        });
        let chunk = vec![1u8; 256 << 10];
        let t = Instant::now();
        let mut s = std::net::TcpStream::connect(addr)?;
        for _ in 0..size / chunk.len() {
            s.write_all(&chunk)?;
        }
        drop(s);
        let n = reader
            .join()
            .map_err(|_| std::io::Error::other("reader panicked"))??;
        Ok(n as f64 / MIB / t.elapsed().as_secs_f64())
    })
}

/// All limits, as JSON lines. `disk_dir` is where the registries store data; `tmpfs_dir`
/// the tmpfs of the tmpfs variant.
pub fn measure(disk_dir: &Path, tmpfs_dir: Option<&Path>, size: usize) -> Vec<serde_json::Value> {
    let mut out = vec![line(
        "limit_sha256_1core",
        sha256(size),
        "sha2 crate, one thread",
    )];
    match disk(disk_dir, size) {
        Ok(v) => out.push(line(
            "limit_disk_fdatasync",
            v,
            "1 MiB writes, then fdatasync",
        )),
        Err(e) => eprintln!("pier-bench: disk limit in {}: {e}", disk_dir.display()),
    }
    if let Some(t) = tmpfs_dir {
        match disk(t, size) {
            Ok(v) => out.push(line("limit_tmpfs_write", v, "1 MiB writes to tmpfs")),
            Err(e) => eprintln!("pier-bench: tmpfs limit in {}: {e}", t.display()),
        }
    }
    match loopback(size * 4) {
        Ok(v) => out.push(line(
            "limit_loopback_tcp",
            v,
            "one TCP stream over 127.0.0.1",
        )),
        Err(e) => eprintln!("pier-bench: loopback limit: {e}"),
    }
    out
}
