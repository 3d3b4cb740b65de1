//! Abuse limits (issue #13) on the real binaries, over raw TCP where the point is what a
//! misbehaving client does on the wire. Each test prints `FIGURE …` lines, which
//! `integration-tests/tools/abuse-figures.sh` collects for docs/reliability.md.
//!
//! `slow`: slowloris (headers dribbled) and stalled uploads are cut off, and more stalled
//! clients than workers × database connections do not stop a normal request.
//! `logins`: failed logins at the defaults, the victim from another address.
//! `rates`: `[rate_limit]` per anonymous address and per user.

mod logins;
mod rates;
mod raw;
mod slow;

/// `FIGURE <name> = <value>`, for integration-tests/tools/abuse-figures.sh.
pub fn figure(name: &str, value: impl std::fmt::Display) {
    println!("FIGURE {name} = {value}");
}
