//! The SQLite connection pool both services keep their metadata in.
//!
//! One place for what every Pier database needs: WAL mode (switched on once, from one
//! connection, before the pool opens; concurrent switches fail with "database is locked"),
//! a busy timeout, foreign keys, the service's durability level, embedded migrations run at
//! open, and [`Db::run`], which moves a closure onto the blocking pool so that no
//! connection is held across a network `.await`.

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

pub type Conn = SqliteConnection;

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
    /// The database cannot serve now (pool exhausted, locked past the busy timeout): a
    /// 503 the client may retry, not a 500.
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

/// How much a commit survives (SQLite `PRAGMA synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A commit survives a process crash; the last ones may be lost on power loss.
    Normal,
    /// A commit survives power loss once the client has its answer.
    Full,
}

#[derive(Debug)]
struct Pragmas(Durability);

impl CustomizeConnection<Conn, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        let sync = match self.0 {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = 10000; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;"
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A pool of connections to one SQLite database.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<Conn>>,
}

impl Db {
    /// Open the database named by `url` (`sqlite://PATH` or a bare path), creating its
    /// directory, and run `migrations`.
    pub fn open(
        url: &str,
        migrations: EmbeddedMigrations,
        durability: Durability,
    ) -> Result<Db, DbError> {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        if path.contains("://") {
            return Err(DbError::Url(url.to_string()));
        }
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| DbError::Pool(e.to_string()))?;
            }
        }
        {
            let mut first = Conn::establish(path).map_err(|e| DbError::Pool(e.to_string()))?;
            first.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")?;
        }
        let pool = Pool::builder()
            .max_size(8)
            .connection_customizer(Box::new(Pragmas(durability)))
            .build(ConnectionManager::<Conn>::new(path))
            .map_err(|e| DbError::Pool(e.to_string()))?;
        let db = Db { pool };
        db.conn()?
            .run_pending_migrations(migrations)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        Ok(db)
    }

    /// A connection from the pool (blocking; async code uses [`Db::run`]).
    pub fn conn(&self) -> Result<PooledConnection<ConnectionManager<Conn>>, DbError> {
        self.pool.get().map_err(|e| DbError::Pool(e.to_string()))
    }

    /// Run `f` with a connection on the blocking pool. `f` may fail with any error a
    /// database error converts into (services use their own, to refuse mid-query).
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

    /// As [`Db::run`], on the calling thread (command-line tools, start-up).
    pub fn run_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<DbError>,
        F: FnOnce(&mut Conn) -> Result<T, E>,
    {
        let mut conn = self.conn()?;
        f(&mut conn)
    }

    /// As [`Db::run`], inside one immediate transaction (SQLite takes the write lock at
    /// the start, so concurrent writers queue instead of failing mid-way).
    pub async fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
    {
        self.run(move |c: &mut Conn| c.immediate_transaction(f))
            .await
    }
}
