//! What a pier-registry under test keeps in its storage, read through the registry's own
//! storage driver with the same settings as the process ([`crate::server::Registry::env`]),
//! so that a test asserts on bytes in storage the same way on the filesystem and on S3.

use pier_registry::storage::{layout, Storage};
use pier_registry::RegistryConfig;
use std::path::Path;
use std::sync::Arc;

pub struct Stored {
    storage: Arc<dyn Storage>,
    rt: tokio::runtime::Runtime,
}

impl Stored {
    /// The storage of the registry whose data directory is `data`.
    pub fn of(data: &Path) -> Stored {
        let env = crate::server::Registry::env(data, &[]);
        let config: RegistryConfig = pier_shared::config::load_with_env(
            RegistryConfig::default(),
            None,
            pier_registry::config::ENV_PREFIX,
            &env,
        )
        .expect("the registry's test configuration");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let storage = {
            let _guard = rt.enter();
            pier_registry::state::open_storage(&config.storage).expect("the registry's storage")
        };
        Stored { storage, rt }
    }

    /// The stored size of the blob with this digest (`sha256:…`), if it is stored.
    pub fn blob_size(&self, digest: &str) -> Option<u64> {
        let d = digest.parse().expect("a digest");
        self.rt
            .block_on(self.storage.stat(&layout::blob(&d)))
            .expect("storage stat")
    }

    /// The bytes of every stored blob.
    pub fn blob_bytes(&self) -> u64 {
        self.rt.block_on(async {
            let mut total = 0;
            for p in self
                .storage
                .list(&layout::blobs_root())
                .await
                .expect("list")
            {
                total += self.storage.stat(&p).await.expect("stat").unwrap_or(0);
            }
            total
        })
    }

    /// How many objects the uploads in progress (or left behind) hold.
    pub fn upload_objects(&self) -> usize {
        self.rt
            .block_on(self.storage.list(&layout::uploads_root()))
            .expect("list")
            .len()
    }

    /// Delete the blob file of `digest` behind the registry's back (fsck tests).
    pub fn delete_blob(&self, digest: &str) {
        let d = digest.parse().expect("a digest");
        self.rt
            .block_on(self.storage.delete(&layout::blob(&d)))
            .expect("storage delete");
    }

    /// Store `data` at its blob key with no row recording it: an orphan (fsck tests).
    pub fn put_unrecorded_blob(&self, data: &[u8]) -> String {
        let digest = crate::sha256(data);
        let d = digest.parse().expect("a digest");
        self.rt.block_on(async {
            let mut w = self.storage.put(&layout::blob(&d)).await.expect("put");
            w.write(data.to_vec().into()).await.expect("write");
            w.commit().await.expect("commit");
        });
        digest
    }
}
