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
}

impl Registry {
    /// Open the database (migrating it), the filesystem storage the config names, and the
    /// authorization gate (reading `auth.jwks_file`).
    pub fn open(config: RegistryConfig) -> Result<Registry, String> {
        let auth = Gate::from_config(&config.auth)?;
        let db = crate::db::open(config.database.url.expose(), config.database.pool_size)
            .map_err(|e| e.to_string())?;
        let storage = crate::storage::fs::FsStorage::new(&config.storage.root)
            .map_err(|e| format!("storage root {}: {e}", config.storage.root.display()))?;
        let v1 = crate::services::v1::V1State::new(
            &config.v1,
            std::time::Duration::from_secs(config.auth.index_timeout_seconds.max(1)),
            &config.auth.ca_certificate,
            db.clone(),
        )?;
        Ok(Registry {
            v1: Arc::new(v1),
            db,
            storage: Arc::new(storage),
            config: Arc::new(config),
            auth: Arc::new(auth),
        })
    }
}
