//! Readiness (`GET /readyz`): can this replica serve now? The database answers a ping and
//! the storage answers a `stat` of a fixed path, each within
//! [`pier_shared::health::CHECK_TIMEOUT`]. The path need not exist: an answer ("absent")
//! proves the driver reaches its storage; an I/O error (a root that is not a directory,
//! a mount gone stale, a bucket refusing us) does not.

use crate::state::Registry;
use crate::storage::{StorageError, StoragePath};
use pier_shared::health::{check, describe_db_error, Readiness};

/// The fixed path readiness stats. Outside `blobs/` and `uploads/`, so nothing else ever
/// writes, lists or deletes it.
const PROBE: &str = "readiness-probe";

pub async fn readiness(reg: &Registry) -> Readiness {
    let database = check("database", reg.db.ping(), describe_db_error);
    let storage = check("storage", probe(reg), describe_storage_error);
    let (database, storage) = futures_util::join!(database, storage);
    let mut r = Readiness::new();
    r.add("database", database);
    r.add("storage", storage);
    r
}

async fn probe(reg: &Registry) -> Result<(), StorageError> {
    let path = StoragePath::from_listed(PROBE).ok_or_else(|| StorageError::Io {
        op: "probe path",
        path: PROBE.into(),
        source: std::io::Error::other("invalid probe path"),
    })?;
    reg.storage.stat(&path).await.map(|_| ())
}

/// A phrase without the path (which names the host's layout) or a driver's message.
fn describe_storage_error(e: &StorageError) -> String {
    match e {
        StorageError::NotFound(_) => "not found".into(),
        StorageError::Io { op, source, .. } => format!("{op} failed: {}", source.kind()),
        StorageError::Remote { op, .. } => format!("{op} failed: the object store refused"),
    }
}
