//! The pull-through mirror's test harness (issue 14, tests/mirror): real upstreams and real
//! clients, all on 127.0.0.1.
//!
//! - [`upstream`]: Debian's docker-registry holding generated images, its access log
//!   counted (one upstream GET per blob).
//! - [`images`]: images with real tar+gzip layers, pushed with skopeo.
//! - [`flaky`]: a proxy in front of an upstream, switched between pass-through, 429,
//!   503 and down.
//! - [`config`]: the registry's `[mirror]` TOML, with the contract's names.
//! - [`dockerd`], [`containerd`]: a docker engine and a containerd of the test's own,
//!   configured with a mirror as docs/mirror.md ("Client settings") says.
//! - [`daemon`]: how those third-party daemons are started, awaited and stopped.

pub mod config;
pub mod containerd;
pub mod daemon;
pub mod dockerd;
pub mod flaky;
pub mod images;
pub mod upstream;

pub use config::{MirrorToml, UpstreamToml};
pub use flaky::{FlakyProxy, Mode};
pub use images::{Format, Image};
pub use upstream::Upstream;
