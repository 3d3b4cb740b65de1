//! Blob workloads: monolithic and chunked push, pull, HEAD (present, absent), mount.

use super::proto;
use super::Settings;
use crate::bench::data::BlobSet;
use crate::bench::runner::{self, Ctx, Op, Unit};

/// PATCH size of chunked pushes.
const CHUNK: usize = 8 << 20;
/// Large blobs are pushed and pulled by one client at a time, small ones by `s.c`.
const LARGE: usize = 16 << 20;

fn conc(s: &Settings, size: usize) -> usize {
    if size >= LARGE {
        1
    } else {
        s.c
    }
}

/// How many distinct blobs a push workload may need (its count bound).
fn push_bound(s: &Settings, size: usize) -> usize {
    if s.smoke {
        return 4;
    }
    match size {
        n if n >= 128 << 20 => 3,
        n if n >= LARGE => 6,
        n if n >= 1 << 20 => 2_000,
        _ => 20_000,
    }
}

pub fn pushes(ctx: &Ctx, s: &Settings) -> Result<(), String> {
    for (kind, chunked) in [("push_mono", false), ("push_chunked", true)] {
        for &size in &s.sizes {
            let name = format!("{kind}_{}", super::size_name(size));
            if !s.wants(&name) {
                continue;
            }
            let set = BlobSet::new(size, push_bound(s, size), s.salt ^ chunked as u64 ^ 0x5ee);
            let repo = s.repo(&name.replace('_', "-"));
            let mut plan = s.plan(&name, Unit::MiB, conc(s, size), set.len() as u64);
            plan.pushes = true;
            runner::run(ctx, &plan, |_| {
                let mut c = s.client();
                c.authenticate(&proto::scope(&repo))?;
                let (set, repo) = (&set, &repo);
                Ok(Box::new(move |i: u64| {
                    let i = i as usize;
                    let body = set.body(i);
                    if chunked {
                        proto::push_chunked(&mut c, repo, &body, &set.digests[i], CHUNK)?;
                    } else {
                        proto::push_monolithic(&mut c, repo, &body, &set.digests[i])?;
                    }
                    Ok(set.size())
                }) as Op)
            });
        }
    }
    Ok(())
}

pub fn pulls(ctx: &Ctx, s: &Settings) -> Result<(), String> {
    for &size in &s.sizes {
        let name = format!("pull_{}", super::size_name(size));
        if !s.wants(&name) {
            continue;
        }
        let set = BlobSet::new(size, 1, s.salt ^ 0x9011);
        let repo = s.repo("pull");
        let mut c = s.client();
        proto::push_monolithic(&mut c, &repo, &set.body(0), &set.digests[0])?;
        proto::pull(&mut c, &repo, &set.digests[0], set.size(), true)?;
        let bound = if size >= LARGE { 8 } else { 1_000_000 };
        let plan = s.plan(&name, Unit::MiB, conc(s, size), bound);
        runner::run(ctx, &plan, |_| {
            let mut c = s.client();
            c.authenticate(&proto::scope(&repo))?;
            let (set, repo) = (&set, &repo);
            Ok(
                Box::new(move |_: u64| {
                    proto::pull(&mut c, repo, &set.digests[0], set.size(), false)
                }) as Op,
            )
        });
    }
    Ok(())
}

pub fn heads(ctx: &Ctx, s: &Settings) -> Result<(), String> {
    if !s.wants_any("blob_head") {
        return Ok(());
    }
    let repo = s.repo("head");
    let set = BlobSet::new(1024, 2, s.salt ^ 0x4ead);
    let mut c = s.client();
    proto::push_monolithic(&mut c, &repo, &set.body(0), &set.digests[0])?;
    for (name, present) in [("blob_head_present", true), ("blob_head_absent", false)] {
        if !s.wants(name) {
            continue;
        }
        // The second blob is never pushed: absent.
        let digest = &set.digests[if present { 0 } else { 1 }];
        runner::run(ctx, &s.plan(name, Unit::Ops, s.c, 10_000_000), |_| {
            let mut c = s.client();
            c.authenticate(&proto::scope(&repo))?;
            let repo = &repo;
            Ok(
                Box::new(move |_: u64| {
                    proto::head_blob(&mut c, repo, digest, present).map(|_| 0u64)
                }) as Op,
            )
        });
    }
    Ok(())
}

/// Cross-repository mount: each operation mounts a different blob (pushed beforehand to
/// the source) into the destination, so none is a repeat.
pub fn mounts(ctx: &Ctx, s: &Settings) -> Result<(), String> {
    if !s.wants("blob_mount") {
        return Ok(());
    }
    let (src, dst) = (s.repo("mount-src"), s.repo("mount-dst"));
    let set = BlobSet::new(1024, if s.smoke { 4 } else { 1_000 }, s.salt ^ 0x3047);
    let mut c = s.client();
    for i in 0..set.len() {
        proto::push_monolithic(&mut c, &src, &set.body(i), &set.digests[i])?;
    }
    runner::run(
        ctx,
        &s.plan("blob_mount", Unit::Ops, s.c, set.len() as u64),
        |_| {
            let mut c = s.client();
            c.authenticate(&format!("{} repository:{src}:pull", proto::scope(&dst)))?;
            let (set, src, dst) = (&set, &src, &dst);
            Ok(Box::new(move |i: u64| {
                proto::mount(&mut c, dst, src, &set.digests[i as usize]).map(|_| 0u64)
            }) as Op)
        },
    );
    Ok(())
}
