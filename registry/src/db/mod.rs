//! Registry metadata in SQL: the only module that writes queries.
//!
//! Functions here take a connection and do one thing; they never await and never touch
//! storage. [`Db::run`] moves a closure onto the blocking pool so that no connection is
//! held across a network `.await`. SQLite runs in WAL mode with a busy timeout; the schema
//! and migrations for PostgreSQL sit beside it (`migrations/registry/postgres`).

pub mod blobs;
pub mod fsck;
pub mod gc;
pub mod manifests;
pub mod mirror;
pub mod outbox;
pub mod repositories;
pub mod schema;
pub mod tags;
pub mod uploads;
pub mod v1;
pub mod v1_sessions;

use diesel_migrations::embed_migrations;
pub use pier_shared::db::{now, Backend, Conn, Db, DbError};
use pier_shared::db::{Durability, Migrations, Options};

pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &embed_migrations!("../migrations/registry/sqlite"),
    postgres: &embed_migrations!("../migrations/registry/postgres"),
    lock_key: 0x7069_6572_7267,
};

/// Open (and migrate) the registry's metadata database. Commits are durable on power loss:
/// a client that got 201 for a blob or manifest must find it after any crash.
pub fn open(url: &str, pool_size: u32) -> Result<Db, DbError> {
    let options = Options {
        durability: Durability::Full,
        pool_size,
    };
    Db::open(url, MIGRATIONS, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_go_up_down_up() {
        let dir = tempfile::tempdir().unwrap();
        let url = pier_shared::testing::database_url(dir.path(), "m.db");
        let db = open(&url, 2).unwrap();
        let mut conn = db.conn().unwrap();
        assert_eq!(
            pier_shared::db::up_down_up(&mut conn, &MIGRATIONS),
            Ok(true)
        );
    }
}
