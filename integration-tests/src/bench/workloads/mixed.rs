//! A mixed run: of every four operations three pull a 1 MiB blob and one pushes a new one.

use super::proto;
use super::Settings;
use crate::bench::data::BlobSet;
use crate::bench::runner::{self, Ctx, Op, Unit};

pub fn run(ctx: &Ctx, s: &Settings) -> Result<(), String> {
    if !s.wants("mixed_75pull_25push") {
        return Ok(());
    }
    let size = if s.smoke { 4096 } else { 1 << 20 };
    let repo = s.repo("mixed");
    let pulled = BlobSet::new(size, 1, s.salt ^ 0x0111);
    let pushed = BlobSet::new(size, if s.smoke { 8 } else { 4_000 }, s.salt ^ 0x0222);
    let mut c = s.client();
    proto::push_monolithic(&mut c, &repo, &pulled.body(0), &pulled.digests[0])?;
    let bound = 4 * pushed.len() as u64;
    runner::run(
        ctx,
        &s.plan("mixed_75pull_25push", Unit::Ops, s.c, bound),
        |_| {
            let mut c = s.client();
            c.authenticate(&proto::scope(&repo))?;
            let (repo, pulled, pushed) = (&repo, &pulled, &pushed);
            Ok(Box::new(move |i: u64| {
                if i % 4 == 3 {
                    let k = (i / 4) as usize;
                    proto::push_monolithic(&mut c, repo, &pushed.body(k), &pushed.digests[k])?;
                    Ok(0u64)
                } else {
                    proto::pull(&mut c, repo, &pulled.digests[0], pulled.size(), false)
                        .map(|_| 0u64)
                }
            }) as Op)
        },
    );
    Ok(())
}
