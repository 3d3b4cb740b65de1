//! The index's data in SQL: the only module that writes queries.
//!
//! Functions here take a connection and do one thing; they never await, never hash a
//! password and never decide a permission (that is `services::policy`). [`Db::run`] moves a
//! closure onto the blocking pool so that no connection is held across a network `.await`.
//! SQLite runs in WAL mode with a busy timeout; the PostgreSQL migrations sit beside the
//! SQLite ones (`migrations/index/postgres`).

pub mod access_tokens;
pub mod audit;
pub mod deletions;
pub mod namespaces;
pub mod refresh_tokens;
pub mod repositories;
pub mod schema;
pub mod signing_keys;
pub mod teams;
pub mod users;
pub mod v1;
pub mod web_sessions;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use pier_shared::sqlite::Durability;
pub use pier_shared::sqlite::{now, Conn, Db, DbError};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/index/sqlite");

/// Open (and migrate) the index database. `NORMAL` durability: a power loss may lose the
/// last commits (a just-issued refresh token, an audit batch), never corrupt the file.
pub fn open(url: &str) -> Result<Db, DbError> {
    Db::open(url, MIGRATIONS, Durability::Normal)
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
