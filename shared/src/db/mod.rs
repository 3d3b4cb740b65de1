//! The connection pool both services keep their metadata in: SQLite (one file, the
//! zero-configuration default) or PostgreSQL (shared by any number of replicas), picked by
//! the URL (`sqlite://PATH` or a bare path; `postgres://…` or `postgresql://…`).
//!
//! One place for what every Pier database needs: the backend's connection settings
//! ([`backend`]), embedded migrations run at open (on PostgreSQL under an advisory lock, so
//! replicas starting at once are safe), and [`Db::run`], which moves a closure onto the
//! blocking pool so that no connection is held across a network `.await`.
//!
//! Queries are written once against [`Conn`], diesel's `MultiConnection` over both
//! backends. The few statements it cannot express (upserts, raw SQL with bind
//! placeholders) go through [`on_backend!`](crate::on_backend) and [`sql`].
//!
//! Write transactions ([`Db::transaction`], [`write_transaction`]) are serialised, on both
//! backends: SQLite's `BEGIN IMMEDIATE` takes the database's write lock; on PostgreSQL the
//! transaction takes one transaction-scoped advisory lock (`pg_advisory_xact_lock`) first.
//! Every rule the services built on SQLite's single writer therefore holds across
//! replicas; reads and single statements outside a transaction run concurrently.

mod backend;
pub mod lease;
mod sql;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{Pool, PooledConnection};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::EmbeddedMigrations;

pub use backend::{redact, up_down_up, Backend, Manager};
pub use sql::sql;

/// A connection to either backend. Query functions take `&mut Conn` and are written once.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

/// Run one statement on the concrete connection, for what `MultiConnection` cannot
/// express (e.g. `on_conflict`): `on_backend!(conn, c => insert_into(t).values(v)
/// .on_conflict_do_nothing().execute(c))`. The body is compiled once per backend.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Pg($c) => $body,
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("connection pool: {0}")]
    Pool(String),
    #[error("migrations: {0}")]
    Migration(String),
    #[error(
        "unsupported database URL {0}: use sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB"
    )]
    Url(String),
}

impl DbError {
    /// The database cannot serve now (pool exhausted, server gone, locked past the busy
    /// timeout): a 503 the client may retry, not a 500.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            DbError::Pool(_) => true,
            DbError::Query(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)) => true,
            DbError::Query(Error::DatabaseError(_, info)) => {
                let m = info.message();
                m.contains("locked")
                    || m.contains("busy")
                    || m.contains("terminating connection")
                    || m.contains("server closed the connection")
                    || m.contains("the database system is")
            }
            DbError::Query(Error::BrokenTransactionManager) => true,
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

/// How much a commit survives (SQLite `PRAGMA synchronous` in WAL mode; PostgreSQL commits
/// are always durable with its default `synchronous_commit = on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A commit survives a process crash; the last ones may be lost on power loss.
    Normal,
    /// A commit survives power loss once the client has its answer.
    Full,
}

/// A service's migrations, one folder per backend (`migrations/<service>/{sqlite,postgres}`).
#[derive(Clone, Copy)]
pub struct Migrations {
    pub sqlite: &'static EmbeddedMigrations,
    pub postgres: &'static EmbeddedMigrations,
    /// The PostgreSQL advisory lock key held while migrating and by write transactions;
    /// distinct per service, so two services on one server never wait for each other.
    pub lock_key: i64,
}

/// How to open a database.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub durability: Durability,
    /// Connections in the pool (`database.pool_size`).
    pub pool_size: u32,
}

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    lock_key: i64,
    /// Threads inside [`Db::conn`] now (r2d2's `State` does not say who waits).
    waiting: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// The pool at one moment (`pier_db_pool_*` metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub connections: u64,
    pub idle: u64,
    pub in_use: u64,
    pub max: u64,
    pub waiting: u64,
}

impl Db {
    /// Open the database named by `url` (creating a SQLite file's directory) and run the
    /// backend's pending `migrations`.
    pub fn open(url: &str, migrations: Migrations, options: Options) -> Result<Db, DbError> {
        let manager = Manager::new(url, options.durability)?;
        let backend = manager.backend();
        manager.prepare(&migrations)?;
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)
            .map_err(|e| DbError::Pool(e.to_string()))?;
        Ok(Db {
            pool,
            backend,
            lock_key: migrations.lock_key,
            waiting: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection from the pool (blocking; async code uses [`Db::run`]).
    pub fn conn(&self) -> Result<PooledConnection<Manager>, DbError> {
        use std::sync::atomic::Ordering;
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let conn = self.pool.get();
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        conn.map_err(|e| DbError::Pool(e.to_string()))
    }

    /// Connections open, idle, in use and waited for, now.
    pub fn pool_stats(&self) -> PoolStats {
        let state = self.pool.state();
        let (connections, idle) = (
            u64::from(state.connections),
            u64::from(state.idle_connections),
        );
        PoolStats {
            connections,
            idle,
            in_use: connections.saturating_sub(idle),
            max: u64::from(self.pool.max_size()),
            // A checkout that found an idle connection counts for an instant; only real
            // waits last long enough to be seen by a scrape.
            waiting: self.waiting.load(std::sync::atomic::Ordering::Relaxed),
        }
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

    /// As [`Db::run`], inside one write transaction ([`write_transaction`]): concurrent
    /// writers, in this process or another replica, queue instead of failing mid-way.
    pub async fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
    {
        let key = self.lock_key;
        self.run(move |c: &mut Conn| write_transaction(c, key, f))
            .await
    }

    /// As [`Db::transaction`], on the calling thread (command-line tools, start-up).
    pub fn transaction_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<DbError> + From<diesel::result::Error>,
        F: FnOnce(&mut Conn) -> Result<T, E>,
    {
        let key = self.lock_key;
        self.run_sync(move |c| write_transaction(c, key, f))
    }

    /// The key [`write_transaction`] takes on PostgreSQL for this database's service.
    pub fn lock_key(&self) -> i64 {
        self.lock_key
    }

    /// Is the database reachable now? One round trip on a pooled connection (`/readyz`).
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|c| {
            use diesel::connection::SimpleConnection;
            c.batch_execute("SELECT 1").map_err(DbError::from)
        })
        .await
    }
}

/// Run `f` in one serialised write transaction: SQLite `BEGIN IMMEDIATE`; PostgreSQL
/// `BEGIN` + `pg_advisory_xact_lock(lock_key)`, released at commit or rollback. Committed
/// when `f` returns `Ok`, rolled back otherwise. Nested calls become savepoints.
pub fn write_transaction<T, E, F>(c: &mut Conn, lock_key: i64, f: F) -> Result<T, E>
where
    E: From<DbError> + From<diesel::result::Error>,
    F: FnOnce(&mut Conn) -> Result<T, E>,
{
    let depth = <Conn as Connection>::TransactionManager::transaction_manager_status_mut(c)
        .transaction_depth()
        .map_err(DbError::from)?;
    if depth.is_some() {
        return c.transaction(f);
    }
    match c {
        Conn::Sqlite(s) => AnsiTransactionManager::begin_transaction_sql(s, "BEGIN IMMEDIATE")?,
        Conn::Pg(p) => {
            AnsiTransactionManager::begin_transaction_sql(p, "BEGIN")?;
            let locked = diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(lock_key)
                .execute(p);
            if let Err(e) = locked {
                let _ = AnsiTransactionManager::rollback_transaction(p);
                return Err(e.into());
            }
        }
    }
    match f(c) {
        Ok(value) => {
            <Conn as Connection>::TransactionManager::commit_transaction(c)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = <Conn as Connection>::TransactionManager::rollback_transaction(c)
            {
                log::warn!("rollback failed: {rollback}");
            }
            Err(e)
        }
    }
}
