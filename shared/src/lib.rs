//! Types both Pier services use.
//!
//! Everything a request carries is parsed once into one of these types at the edge
//! (`Digest`, `RepoName`, `Tag`, `Reference`); code behind the routes never juggles raw
//! strings. The OCI error-code table and the one writer of `{"errors":[…]}` bodies live in
//! [`oci_error`]. Apart from reading configuration files, its only I/O is the database pool
//! both services keep their metadata in ([`db`]: SQLite or PostgreSQL).

pub mod client;
pub mod config;
pub mod db;
pub mod digest;
pub mod health;
pub mod logging;
pub mod metrics;
pub mod name;
pub mod oci_error;
pub mod rate_limit;
pub mod request_id;
pub mod scope;
pub mod slow;
pub mod tls;
pub mod token;
pub mod v1;

#[cfg(feature = "testing")]
pub mod testing;

pub use digest::{Algorithm, Digest, DigestError, Hasher};
pub use name::{NameError, Reference, RepoName, Tag};
pub use oci_error::{ErrorCode, OciError};
pub use scope::{Action, Scope};
pub use token::{Claims, Introspection, ResourceActions};
