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
pub mod login_failures;
pub mod mirrors;
pub mod namespaces;
pub mod refresh_tokens;
pub mod repositories;
pub mod schema;
pub mod signing_keys;
pub mod teams;
pub mod users;
pub mod v1;
pub mod web_sessions;

use diesel_migrations::embed_migrations;
pub use pier_shared::db::{now, Backend, Conn, Db, DbError};
use pier_shared::db::{Durability, Migrations, Options};

pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &embed_migrations!("../migrations/index/sqlite"),
    postgres: &embed_migrations!("../migrations/index/postgres"),
    lock_key: 0x7069_6572_6978,
};

/// Open (and migrate) the index database. On SQLite `NORMAL` durability: a power loss may
/// lose the last commits (a just-issued refresh token, an audit batch), never corrupt the file.
pub fn open(url: &str, pool_size: u32) -> Result<Db, DbError> {
    let options = Options {
        durability: Durability::Normal,
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
