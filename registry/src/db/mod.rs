//! Registry metadata in SQL: the only module that writes queries.
//!
//! Functions here take a connection and do one thing; they never await and never touch
//! storage. [`Db::run`] moves a closure onto the blocking pool so that no connection is
//! held across a network `.await`. SQLite runs in WAL mode with a busy timeout; the schema
//! and migrations for PostgreSQL sit beside it (`migrations/registry/postgres`).

pub mod blobs;
pub mod gc;
pub mod manifests;
pub mod repositories;
pub mod schema;
pub mod tags;
pub mod uploads;
pub mod v1;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use pier_shared::sqlite::Durability;
pub use pier_shared::sqlite::{now, Conn, Db, DbError};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/registry/sqlite");

/// Open (and migrate) the registry's metadata database. Commits are durable on power loss:
/// a client that got 201 for a blob or manifest must find it after any crash.
pub fn open(url: &str) -> Result<Db, DbError> {
    Db::open(url, MIGRATIONS, Durability::Full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel_migrations::MigrationHarness;

    #[test]
    fn migrations_go_up_down_up() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path().join("m.db").to_str().unwrap()).unwrap();
        let mut conn = db.conn().unwrap();
        conn.revert_all_migrations(MIGRATIONS).unwrap();
        assert!(conn.has_pending_migration(MIGRATIONS).unwrap());
        conn.run_pending_migrations(MIGRATIONS).unwrap();
        assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
    }
}
