//! The index's data in SQL: the only module that writes queries.
//!
//! Functions here take a connection and do one thing; they never await, never hash a
//! password and never decide a permission (that is `services::policy`). [`Db::run`] moves a
//! closure onto the blocking pool so that no connection is held across a network `.await`.
//! SQLite runs in WAL mode with a busy timeout; the PostgreSQL migrations sit beside the
//! SQLite ones (`migrations/index/postgres`).

pub mod audit;
pub mod deletions;
pub mod namespaces;
pub mod refresh_tokens;
pub mod repositories;
pub mod schema;
pub mod teams;
pub mod users;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type Conn = SqliteConnection;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/index/sqlite");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("connection pool: {0}")]
    Pool(String),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH")]
    Url(String),
}

impl DbError {
    /// The database cannot serve now (pool exhausted, locked past the busy timeout).
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Pool(_) => true,
            DbError::Query(diesel::result::Error::DatabaseError(_, info)) => {
                let m = info.message();
                m.contains("locked") || m.contains("busy")
            }
            _ => false,
        }
    }

    /// A uniqueness constraint refused the write (the name is taken).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Seconds since the Unix epoch, the unit of every time column.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<Conn, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(
            "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A pool of connections to the index database.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<Conn>>,
}

impl Db {
    /// Open the database named by `url` (`sqlite://PATH` or a bare path) and migrate it.
    pub fn open(url: &str) -> Result<Db, DbError> {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        if path.contains("://") {
            return Err(DbError::Url(url.to_string()));
        }
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| DbError::Pool(e.to_string()))?;
            }
        }
        // WAL is a property of the file: set it once, from one connection, before the pool
        // opens several at once (concurrent switches fail with "database is locked").
        {
            use diesel::Connection;
            let mut first = Conn::establish(path).map_err(|e| DbError::Pool(e.to_string()))?;
            first
                .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
                .map_err(DbError::Query)?;
        }
        let pool = Pool::builder()
            .max_size(8)
            .connection_customizer(Box::new(Pragmas))
            .build(ConnectionManager::<Conn>::new(path))
            .map_err(|e| DbError::Pool(e.to_string()))?;
        let db = Db { pool };
        let mut conn = db.conn()?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        Ok(db)
    }

    fn conn(&self) -> Result<diesel::r2d2::PooledConnection<ConnectionManager<Conn>>, DbError> {
        self.pool.get().map_err(|e| DbError::Pool(e.to_string()))
    }

    /// Run `f` with a connection on the blocking pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        actix_web::rt::task::spawn_blocking(move || {
            let mut conn = db.conn()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| DbError::Pool(format!("blocking task failed: {e}")))?
    }

    /// As [`Db::run`], inside one (immediate) transaction.
    pub async fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
    {
        self.run(move |c: &mut Conn| c.immediate_transaction(f))
            .await
    }

    /// As [`Db::run`], on the calling thread (the CLI, start-up).
    pub fn run_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<DbError>,
        F: FnOnce(&mut Conn) -> Result<T, E>,
    {
        let mut conn = self.conn()?;
        f(&mut conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_go_up_down_up() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("m.db").to_str().unwrap()).unwrap();
        let mut conn = db.conn().unwrap();
        conn.revert_all_migrations(MIGRATIONS).unwrap();
        assert!(conn.has_pending_migration(MIGRATIONS).unwrap());
        conn.run_pending_migrations(MIGRATIONS).unwrap();
        assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
    }
}
