//! The "cached from <url>" mark of repositories under a pull-through mirror's namespace,
//! with the registry's hit and miss counts (`services::mirror_stats`). The registry is
//! asked only when a page shows a mirrored repository; when it cannot answer, the page
//! still renders, with the counts shown as unknown.

use crate::services::mirror_stats::{self, CachedRepository};
use crate::services::mirrors::{self, MirrorView};
use crate::services::policy::Subject;
use crate::state::Index;
use maud::{html, Markup};
use std::collections::BTreeMap;

/// The mirrors, and the registry's counts if it gave them.
pub struct Cached {
    mirrors: Vec<MirrorView>,
    counts: Option<BTreeMap<String, CachedRepository>>,
}

impl Cached {
    /// What the marks of `names` need: the registered mirrors from the database, the counts
    /// from the registry when one of `names` is under a mirror.
    pub async fn read<'a>(
        index: &Index,
        subject: &Subject,
        names: impl IntoIterator<Item = &'a str>,
    ) -> crate::error::Result<Cached> {
        let mut cached = Cached {
            mirrors: mirrors::list(index).await?,
            counts: None,
        };
        if names.into_iter().any(|n| cached.is_mirrored(n)) {
            cached.counts = match mirror_stats::cached(index, subject).await {
                Ok(counts) => Some(counts),
                Err(e) => {
                    log::warn!("mirror counts: {}", e.public_detail());
                    None
                }
            };
        }
        Ok(cached)
    }

    /// Is repository `name` under a mirror's namespace?
    pub fn is_mirrored(&self, name: &str) -> bool {
        self.mirror_of(name).is_some()
    }

    fn mirror_of(&self, name: &str) -> Option<&MirrorView> {
        let namespace = name.split('/').next().unwrap_or(name);
        self.mirrors.iter().find(|m| m.prefix == namespace)
    }

    /// The mark of repository `name`; nothing when it is not under a mirror.
    pub fn mark(&self, name: &str) -> Markup {
        let Some(mirror) = self.mirror_of(name) else {
            return html! {};
        };
        let counts = match &self.counts {
            None => "hits and misses unknown".to_string(),
            Some(by_name) => match by_name.get(name) {
                Some(c) => format!("{} hits · {} misses", c.hits, c.misses),
                None => "not in the cache now".to_string(),
            },
        };
        html! {
            span.badge.cached title="Pull-through mirror: read-only, fetched from the upstream on a miss" {
                "cached from " (mirror.url) " · " (counts)
            }
        }
    }
}
