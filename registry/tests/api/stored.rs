//! What the tests check of storage, through the registry's own driver, so that every
//! test reads the same over the filesystem and S3.

use crate::common::Api;

impl Api {
    /// Keys the registry's storage driver holds under `prefix` (`blobs`, `uploads`),
    /// sorted: what the tests check of storage, the same over every driver.
    pub async fn stored(&self, prefix: &str) -> Vec<String> {
        let prefix = pier_registry::storage::StoragePath::from_listed(prefix).expect("prefix");
        let listed = self.reg.storage.list(&prefix).await.expect("list storage");
        listed.iter().map(ToString::to_string).collect()
    }

    /// Every key in storage: blobs and uploads.
    pub async fn stored_all(&self) -> Vec<String> {
        let mut all = self.stored("blobs").await;
        all.extend(self.stored("uploads").await);
        all
    }

    /// The upload sessions that have bytes in storage (a file each on the filesystem,
    /// a tail or data object each on S3).
    pub async fn stored_uploads(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .stored("uploads")
            .await
            .iter()
            .filter_map(|k| k.split('/').nth(1).map(str::to_string))
            .collect();
        ids.dedup();
        ids
    }

    /// The bytes of the object at `key`.
    pub async fn stored_bytes(&self, key: &str) -> Vec<u8> {
        let path = pier_registry::storage::StoragePath::from_listed(key).expect("key");
        let s = self
            .reg
            .storage
            .read(&path, 0, None)
            .await
            .expect("stored object");
        pier_registry::storage::fs::read_all(s)
            .await
            .expect("read stored object")
    }
}
