//! Concurrency: many clients at once on a few repositories. They push the same blobs into
//! the same repositories (monolithic and chunked), mount them across repositories, race
//! manifest PUTs on the same tags and read tags back while others overwrite them. Every
//! answer is checked (status, digest header, body digest); afterwards every acknowledged
//! blob and manifest is read back and verified, each tag must name one of its racing writes
//! that no later-started write superseded, and `pier-registry fsck` must be clean.
//!
//! Documented outcomes that are not errors: a mount whose source does not hold the blob yet
//! answers 202 and the client uploads instead (OCI distribution spec, "Mounting a blob").

use super::{Rng, Tally};
use crate::bench::client::{Client, Keep};
use crate::bench::data::BlobSet;
use crate::bench::workloads::proto;
use crate::Pier;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Plan {
    pub clients: usize,
    pub duration: Duration,
    pub repositories: usize,
    pub tags: usize,
    pub seed: u64,
}

/// One manifest PUT on a tag: when it was sent and when (if) it was acknowledged.
struct Write {
    digest: String,
    started: Instant,
    acked: Option<Instant>,
}

/// What every client shares: the blob pool, acknowledged blobs per repository, writes per tag.
struct Shared {
    pool: Vec<BlobSet>,
    repos: Vec<String>,
    tags: usize,
    present: Mutex<HashSet<(usize, usize)>>,
    /// When a write into each repository was first acknowledged: before that, the
    /// repository may not exist and its tag list is a 404 NAME_UNKNOWN.
    known: Mutex<HashMap<usize, Instant>>,
    writes: Mutex<HashMap<(usize, usize), Vec<Write>>>,
    /// Repository of each manifest digest written.
    manifests: Mutex<HashMap<String, usize>>,
    tally: Tally,
}

/// Blob `b` of the pool: (set, index in set).
fn locate(s: &Shared, b: usize) -> (&BlobSet, usize) {
    let per = s.pool[0].len();
    (&s.pool[b / per], b % per)
}

fn blob_count(s: &Shared) -> usize {
    s.pool.iter().map(BlobSet::len).sum()
}

/// Note an acknowledged write into repository `r`.
fn acked_in(s: &Shared, r: usize) {
    s.known
        .lock()
        .unwrap()
        .entry(r)
        .or_insert_with(Instant::now);
}

/// Push blob `b` into repository `r`, monolithic or chunked.
fn push(c: &mut Client, s: &Shared, r: usize, b: usize, chunked: bool) -> Result<(), String> {
    let (set, i) = locate(s, b);
    let repo = &s.repos[r];
    if chunked {
        let chunk = (set.size() as usize / 3).max(1);
        proto::push_chunked(c, repo, &set.body(i), &set.digests[i], chunk)?;
    } else {
        proto::push_monolithic(c, repo, &set.body(i), &set.digests[i])?;
    }
    s.present.lock().unwrap().insert((r, b));
    acked_in(s, r);
    Ok(())
}

/// Mount blob `b` from repository `from` into `r`; a 202 (not in the source) is uploaded.
fn mount(c: &mut Client, s: &Shared, r: usize, from: usize, b: usize) -> Result<(), String> {
    let (set, i) = locate(s, b);
    let (repo, src, digest) = (&s.repos[r], &s.repos[from], &set.digests[i]);
    let scope = format!("{} repository:{src}:pull", proto::scope(repo));
    let path = format!("/v2/{repo}/blobs/uploads/?mount={digest}&from={src}");
    // Whether the source held the blob *before* the request: a push to the source that is
    // acknowledged while this mount is in flight may land after the mount looked.
    let held_before = s.present.lock().unwrap().contains(&(from, b));
    let reply = c.send("POST", &path, &scope, &[], None, Keep::Body)?;
    match reply.status {
        201 => {}
        202 => {
            if held_before {
                return Err(format!(
                    "mount from {src}, which holds {digest}, answered 202"
                ));
            }
            s.tally.documented("mount_fell_back_to_upload");
            let loc = reply.header("location").ok_or("202 without Location")?;
            let sep = if loc.contains('?') { '&' } else { '?' };
            let url = format!("{loc}{sep}digest={digest}");
            let ct = [("Content-Type", "application/octet-stream")];
            c.send("PUT", &url, &scope, &ct, Some(&set.body(i)), Keep::Body)?
                .expect(201, "PUT after mount fallback")?;
        }
        _ => return reply.expect(201, "mount").map(|_| ()),
    }
    s.present.lock().unwrap().insert((r, b));
    acked_in(s, r);
    Ok(())
}

/// PUT a new manifest (config and layer from the pool, pushed first if needed) on a tag.
fn put_tag(c: &mut Client, s: &Shared, rng: &mut Rng, r: usize, note: &str) -> Result<(), String> {
    let n = blob_count(s) as u64;
    let (cfg, layer) = (rng.below(n) as usize, rng.below(n) as usize);
    for b in [cfg, layer] {
        if !s.present.lock().unwrap().contains(&(r, b)) {
            push(c, s, r, b, false)?;
        }
    }
    let desc = |b: usize| {
        let (set, i) = locate(s, b);
        (set.digests[i].clone(), set.size())
    };
    let (cd, cs) = desc(cfg);
    let (ld, ls) = desc(layer);
    let body = proto::manifest((&cd, cs), &[(&ld, ls)], note);
    let digest = crate::sha256(&body);
    let t = rng.below(s.tags as u64) as usize;
    s.manifests.lock().unwrap().insert(digest.clone(), r);
    let at = {
        let mut w = s.writes.lock().unwrap();
        let list = w.entry((r, t)).or_default();
        list.push(Write {
            digest: digest.clone(),
            started: Instant::now(),
            acked: None,
        });
        list.len() - 1
    };
    proto::put_manifest(c, &s.repos[r], &format!("t{t}"), &body)?;
    s.writes.lock().unwrap().get_mut(&(r, t)).unwrap()[at].acked = Some(Instant::now());
    acked_in(s, r);
    Ok(())
}

/// GET a racing tag: the body must hash to the digest header and be one of its writes; then
/// GET its layer and verify it.
fn read_tag(c: &mut Client, s: &Shared, rng: &mut Rng, r: usize) -> Result<(), String> {
    let t = rng.below(s.tags as u64) as usize;
    let repo = &s.repos[r];
    let h = [("Accept", proto::OCI_MANIFEST)];
    let asked = Instant::now();
    let reply = c.send(
        "GET",
        &format!("/v2/{repo}/manifests/t{t}"),
        &proto::scope(repo),
        &h,
        None,
        Keep::Body,
    )?;
    let acked_before = |w: &Write| w.acked.is_some_and(|a| a < asked);
    if reply.status == 404 {
        // Only before the first write to the tag was acknowledged.
        let writes = s.writes.lock().unwrap();
        if !writes
            .get(&(r, t))
            .is_some_and(|l| l.iter().any(acked_before))
        {
            return Ok(());
        }
    }
    let reply = reply.expect(200, "GET tag")?;
    let digest = crate::sha256(&reply.body);
    if reply.header("docker-content-digest") != Some(digest.as_str()) {
        return Err(format!(
            "GET {repo}:t{t}: digest header does not match the body"
        ));
    }
    let known = s.writes.lock().unwrap()[&(r, t)]
        .iter()
        .any(|w| w.digest == digest);
    if !known {
        return Err(format!("GET {repo}:t{t}: {digest} was never written there"));
    }
    let m: serde_json::Value = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
    let layer = &m["layers"][0];
    let (ld, ls) = (
        layer["digest"].as_str().unwrap_or(""),
        layer["size"].as_u64().unwrap_or(0),
    );
    proto::pull(c, repo, ld, ls, true).map(|_| ())
}

/// List the tags of repository `r`: only tags the clients write. A 404 NAME_UNKNOWN is
/// right only while no write into the repository had been acknowledged when it was asked.
fn list_tags(c: &mut Client, s: &Shared, r: usize) -> Result<(), String> {
    let repo = &s.repos[r];
    let asked = Instant::now();
    let reply = c.send(
        "GET",
        &format!("/v2/{repo}/tags/list"),
        &proto::scope(repo),
        &[],
        None,
        Keep::Body,
    )?;
    if reply.status == 404 && s.known.lock().unwrap().get(&r).is_none_or(|&k| k >= asked) {
        return Ok(());
    }
    let reply = reply.expect(200, "tags/list")?;
    let v: serde_json::Value = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
    let tags = v["tags"].as_array().ok_or("tags/list without tags")?;
    match tags
        .iter()
        .find(|t| !t.as_str().is_some_and(|t| t.starts_with('t')))
    {
        Some(t) => Err(format!("tags/list of {repo} has {t}, never pushed")),
        None => Ok(()),
    }
}

/// One client until `until`: a random mix of the operations above.
fn client(s: &Shared, pier_url: &str, creds: &str, seed: u64, id: usize, until: Instant) {
    let mut c = Client::new(pier_url, Some(creds));
    let mut rng = Rng::new(seed);
    let (nr, nb) = (s.repos.len() as u64, blob_count(s) as u64);
    let mut k = 0u64;
    while Instant::now() < until {
        k += 1;
        let r = rng.below(nr) as usize;
        let b = rng.below(nb) as usize;
        match rng.below(100) {
            0..=29 => {
                let chunked = rng.below(2) == 0;
                let kind = if chunked {
                    "push_chunked"
                } else {
                    "push_monolithic"
                };
                s.tally.record(kind, push(&mut c, s, r, b, chunked));
            }
            30..=44 => {
                let from = (r + 1 + rng.below(nr - 1) as usize) % nr as usize;
                s.tally.record("mount", mount(&mut c, s, r, from, b));
            }
            45..=69 => {
                let note = format!("client {id} write {k}");
                s.tally
                    .record("put_tag", put_tag(&mut c, s, &mut rng, r, &note));
            }
            70..=89 => s.tally.record("read_tag", read_tag(&mut c, s, &mut rng, r)),
            90..=94 => {
                let present = s.present.lock().unwrap().contains(&(r, b));
                let (set, i) = locate(s, b);
                let out = if present {
                    proto::head_blob(&mut c, &s.repos[r], &set.digests[i], true)
                } else {
                    Ok(())
                };
                s.tally.record("head_blob", out);
            }
            _ => s.tally.record("list_tags", list_tags(&mut c, s, r)),
        }
    }
}

/// The checks after the run: (blobs verified, manifests verified, tags checked, problems).
fn verify(s: &Shared, c: &mut Client) -> (usize, usize, usize, Vec<String>) {
    let mut problems = Vec::new();
    let present: Vec<_> = s.present.lock().unwrap().iter().copied().collect();
    for &(r, b) in &present {
        let (set, i) = locate(s, b);
        if let Err(e) = proto::pull(c, &s.repos[r], &set.digests[i], set.size(), true) {
            problems.push(format!("acknowledged blob: {e}"));
        }
    }
    let manifests = s.manifests.lock().unwrap();
    let writes = s.writes.lock().unwrap();
    let acked: HashSet<&str> = writes
        .values()
        .flatten()
        .filter(|w| w.acked.is_some())
        .map(|w| w.digest.as_str())
        .collect();
    for d in &acked {
        if let Err(e) = proto::read_manifest(c, &s.repos[manifests[*d]], d, d, true) {
            problems.push(format!("acknowledged manifest {d}: {e}"));
        }
    }
    for ((r, t), list) in writes.iter() {
        let repo = &s.repos[*r];
        let Ok(reply) = c.send(
            "GET",
            &format!("/v2/{repo}/manifests/t{t}"),
            &proto::scope(repo),
            &[("Accept", proto::OCI_MANIFEST)],
            None,
            Keep::Body,
        ) else {
            problems.push(format!("{repo}:t{t} unreadable"));
            continue;
        };
        if list.iter().all(|w| w.acked.is_none()) && reply.status == 404 {
            continue;
        }
        let digest = crate::sha256(&reply.body);
        match list.iter().find(|w| w.digest == digest) {
            None => problems.push(format!("{repo}:t{t} is {digest}, none of its writes")),
            Some(w) => {
                // Superseded: another write was sent after this one was acknowledged and
                // was acknowledged itself, so the tag must show that one (or a later one).
                let later = list
                    .iter()
                    .any(|o| o.acked.is_some() && w.acked.is_some_and(|a| o.started > a));
                if later {
                    problems.push(format!("{repo}:t{t} is {digest}, a superseded write"));
                }
            }
        }
    }
    (present.len(), acked.len(), writes.len(), problems)
}

/// Run `plan` against `pier` (a token-mode pair); the figures as JSON.
pub fn run(pier: &Pier, plan: &Plan) -> serde_json::Value {
    let per = 16;
    let salt = plan.seed;
    let shared = Arc::new(Shared {
        pool: [1024, 64 * 1024, 1 << 20]
            .iter()
            .map(|&size| BlobSet::new(size, per, salt ^ size as u64))
            .collect(),
        repos: (0..plan.repositories.max(2))
            .map(|i| format!("admin/race-{salt}-{i}"))
            .collect(),
        tags: plan.tags.max(1),
        present: Mutex::default(),
        known: Mutex::default(),
        writes: Mutex::default(),
        manifests: Mutex::default(),
        tally: Tally::default(),
    });
    let creds = format!("admin:{}", crate::pier::ADMIN_PASSWORD);
    let url = pier.registry.url("");
    let started = Instant::now();
    let until = started + plan.duration;
    let threads: Vec<_> = (0..plan.clients.max(1))
        .map(|id| {
            let (s, url, creds) = (Arc::clone(&shared), url.clone(), creds.clone());
            let seed = plan.seed.wrapping_mul(31).wrapping_add(id as u64);
            std::thread::spawn(move || client(&s, &url, &creds, seed, id, until))
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let ran = started.elapsed().as_secs_f64();
    let mut c = Client::new(&url, Some(&creds));
    let (blobs, manifests, tags, problems) = verify(&shared, &mut c);
    let (fsck_exit, fsck_problems, _) = super::fsck(pier);
    serde_json::json!({
        "clients": plan.clients,
        "seconds": ran,
        "repositories": shared.repos.len(),
        "tags_per_repository": shared.tags,
        "traffic": shared.tally.json(),
        "verified_blobs": blobs,
        "verified_manifests": manifests,
        "tags_checked": tags,
        "problems": problems,
        "fsck_exit": fsck_exit,
        "fsck_problems": fsck_problems,
    })
}
