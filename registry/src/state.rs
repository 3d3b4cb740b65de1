//! What every request handler shares: the metadata database, the byte storage, the config,
//! and the authorization gate.

use crate::auth::Gate;
use crate::config::RegistryConfig;
use crate::db::Db;
use crate::storage::Storage;
use std::sync::Arc;

#[derive(Clone)]
pub struct Registry {
    pub db: Db,
    pub storage: Arc<dyn Storage>,
    pub config: Arc<RegistryConfig>,
    pub auth: Arc<Gate>,
    /// The legacy v1 protocol's link to the index and its sessions.
    pub v1: Arc<crate::services::v1::V1State>,
    /// `http.trusted_proxies`, parsed: who a request comes from.
    pub proxies: Arc<pier_shared::client::TrustedProxies>,
    /// `[rate_limit]`, this process's buckets.
    pub rate_limit: Arc<pier_shared::rate_limit::RateLimiter>,
    /// `[mirror]`: the pull-through cache's upstreams, fetches in flight and counts.
    pub mirror: Arc<crate::mirror::Mirror>,
    /// `[notifications]`: the endpoints events are queued for (docs/notifications.md).
    pub notifier: Arc<crate::notifications::Notifier>,
    /// This registry's Prometheus series (served on `metrics.listen` when set).
    pub metrics: Arc<crate::metrics::RegistryMetrics>,
}

impl Registry {
    /// Open the database (migrating it), the storage the config names (filesystem or S3),
    /// and the authorization gate (reading `auth.jwks_file`).
    pub fn open(config: RegistryConfig) -> Result<Registry, String> {
        let db = crate::db::open(config.database.url.expose(), config.database.pool_size)
            .map_err(|e| e.to_string())?;
        let metrics = crate::metrics::RegistryMetrics::new(&db);
        let auth = Gate::from_config(&config.auth, &metrics.index)?;
        let storage = crate::storage::timed::Timed::wrap(
            open_storage(&config.storage)?,
            metrics.storage.clone(),
        );
        let v1 = crate::services::v1::V1State::new(
            &config.v1,
            std::time::Duration::from_secs(config.auth.index_timeout_seconds.max(1)),
            &config.auth.ca_certificate,
            db.clone(),
            metrics.index.clone(),
        )?;
        let mirror = crate::mirror::Mirror::new(&config.mirror)?;
        let notifier =
            crate::notifications::Notifier::new(&config.notifications, &config.http.listen)?;
        Ok(Registry {
            notifier: Arc::new(notifier),
            metrics: Arc::new(metrics),
            mirror: Arc::new(mirror),
            v1: Arc::new(v1),
            proxies: Arc::new(pier_shared::client::TrustedProxies::parse(
                &config.http.trusted_proxies,
            )?),
            rate_limit: Arc::new(pier_shared::rate_limit::RateLimiter::new(
                &config.rate_limit,
            )),
            db,
            storage,
            config: Arc::new(config),
            auth: Arc::new(auth),
        })
    }
}

/// The driver `storage.driver` names.
pub fn open_storage(c: &crate::config::StorageConfig) -> Result<Arc<dyn Storage>, String> {
    use crate::config::StorageDriver;
    Ok(match c.driver {
        StorageDriver::Filesystem => Arc::new(
            crate::storage::fs::FsStorage::new(&c.root)
                .map_err(|e| format!("storage root {}: {e}", c.root.display()))?,
        ),
        StorageDriver::S3 => Arc::new(crate::storage::s3::S3Storage::new(&c.s3)?),
    })
}
