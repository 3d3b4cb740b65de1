//! Manifest workloads: PUT (each a new manifest under a new tag), then HEAD and GET by tag
//! and by digest at each concurrency level.

use super::proto;
use super::Settings;
use crate::bench::data::BlobSet;
use crate::bench::runner::{self, Ctx, Op, Unit};

/// Push a config and a layer to `repo` and return a manifest body over them.
pub fn prepare(s: &Settings, repo: &str) -> Result<impl Fn(&str) -> Vec<u8>, String> {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = BlobSet::new(1024, 1, s.salt ^ 0x1a7e);
    let config_digest = crate::sha256(config);
    let mut c = s.client();
    let cfg = crate::bench::client::Body {
        head: config,
        tail: &[],
    };
    proto::push_monolithic(&mut c, repo, &cfg, &config_digest)?;
    proto::push_monolithic(&mut c, repo, &layer.body(0), &layer.digests[0])?;
    let layer_digest = layer.digests[0].clone();
    let config_len = config.len() as u64;
    Ok(move |note: &str| {
        proto::manifest((&config_digest, config_len), &[(&layer_digest, 1024)], note)
    })
}

pub fn run_put(ctx: &Ctx, s: &Settings, make: &dyn Fn(&str) -> Vec<u8>, repo: &str) {
    if !s.wants("manifest_put") {
        return;
    }
    let bound = if s.smoke { 4 } else { 20_000 };
    let bodies: Vec<Vec<u8>> = (0..bound)
        .map(|i| make(&format!("{}-{i}", s.run)))
        .collect();
    runner::run(
        ctx,
        &s.plan("manifest_put", Unit::Ops, s.c, bound as u64),
        |_| {
            let mut c = s.client();
            c.authenticate(&proto::scope(repo))?;
            let bodies = &bodies;
            Ok(Box::new(move |i: u64| {
                proto::put_manifest(&mut c, repo, &format!("p{i}"), &bodies[i as usize])
                    .map(|_| 0u64)
            }) as Op)
        },
    );
}

pub fn run(ctx: &Ctx, s: &Settings) -> Result<(), String> {
    if !s.wants_any("manifest") {
        return Ok(());
    }
    let repo = s.repo("manifests");
    let make = prepare(s, &repo)?;
    let body = make("latest");
    let digest = crate::sha256(&body);
    let mut c = s.client();
    proto::put_manifest(&mut c, &repo, "latest", &body)?;
    proto::read_manifest(&mut c, &repo, "latest", &digest, true)?;
    run_put(ctx, s, &make, &repo);
    for &level in &s.levels {
        for (op, get) in [("head", false), ("get", true)] {
            for (by, reference) in [("tag", "latest"), ("digest", digest.as_str())] {
                let name = format!("manifest_{op}_{by}_c{level}");
                if !s.wants(&name) {
                    continue;
                }
                runner::run(ctx, &s.plan(&name, Unit::Ops, level, 10_000_000), |_| {
                    let mut c = s.client();
                    c.authenticate(&proto::scope(&repo))?;
                    let (repo, digest) = (&repo, &digest);
                    Ok(Box::new(move |_: u64| {
                        proto::read_manifest(&mut c, repo, reference, digest, get).map(|_| 0u64)
                    }) as Op)
                });
            }
        }
    }
    Ok(())
}
