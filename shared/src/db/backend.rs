//! The two backends: which one a URL names, how a connection to it is made and set up,
//! and how its migrations run.

use super::{Conn, DbError, Durability, Migrations};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::MigrationHarness;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, and what to hand its driver (a SQLite path, or
    /// the PostgreSQL URL as is).
    pub fn of(url: &str) -> Result<(Backend, String), DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok((Backend::Postgres, url.to_string()));
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(DbError::Url(redact(url)));
        }
        Ok((Backend::Sqlite, path.to_string()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A URL fit for a message: any password in it replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(parts) => parts,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Makes the pool's connections: the backend's driver, with SQLite's pragmas set on every
/// new connection (busy timeout, durability, foreign keys; WAL is set once, at open).
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
    target: String,
    durability: Durability,
}

impl Manager {
    pub fn new(url: &str, durability: Durability) -> Result<Manager, DbError> {
        let (backend, target) = Backend::of(url)?;
        Ok(Manager {
            backend,
            target,
            durability,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn establish(&self) -> Result<Conn, diesel::ConnectionError> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&self.target)?;
                let sync = match self.durability {
                    Durability::Normal => "NORMAL",
                    Durability::Full => "FULL",
                };
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = 10000; PRAGMA synchronous = {sync}; \
                     PRAGMA foreign_keys = ON;"
                ))
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                Ok(Conn::Sqlite(c))
            }
            Backend::Postgres => Ok(Conn::Pg(PgConnection::establish(&self.target)?)),
        }
    }

    /// Before the pool opens: create a SQLite file's directory and switch it to WAL (once,
    /// from one connection: concurrent switches fail with "database is locked"), then run
    /// the pending migrations, on PostgreSQL while holding the service's advisory lock so
    /// that replicas starting together migrate one after the other.
    pub fn prepare(&self, migrations: &Migrations) -> Result<(), DbError> {
        let unreachable = |e: &dyn std::fmt::Display| DbError::Pool(e.to_string());
        match self.backend {
            Backend::Sqlite => {
                if let Some(parent) = std::path::Path::new(&self.target).parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent).map_err(|e| unreachable(&e))?;
                    }
                }
                create_private(&self.target).map_err(|e| unreachable(&e))?;
                let mut c =
                    SqliteConnection::establish(&self.target).map_err(|e| unreachable(&e))?;
                c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")?;
                c.run_pending_migrations(Source(migrations.sqlite))
                    .map_err(|e| DbError::Migration(e.to_string()))?;
                restrict_sqlite_files(&self.target).map_err(|e| unreachable(&e))?;
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.target).map_err(|e| unreachable(&e))?;
                diesel::sql_query("SELECT pg_advisory_lock($1)")
                    .bind::<diesel::sql_types::BigInt, _>(migrations.lock_key)
                    .execute(&mut c)?;
                let result = c
                    .run_pending_migrations(Source(migrations.postgres))
                    .map(|_| ())
                    .map_err(|e| DbError::Migration(e.to_string()));
                // Closing the session releases the lock too; unlock to be explicit.
                let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
                    .bind::<diesel::sql_types::BigInt, _>(migrations.lock_key)
                    .execute(&mut c);
                result?;
            }
        }
        Ok(())
    }
}

/// Create the SQLite file `path` with mode 0600 if it does not exist, whatever the umask
/// (SQLite would make it 0644), before SQLite opens it: its `-wal` and `-shm` files take
/// the database file's mode.
fn create_private(path: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Mode 0600 on the database file and its `-wal`/`-shm` files (one made by an older
/// version, or by hand, may be readable by others: it holds password hashes and sealed
/// keys).
fn restrict_sqlite_files(path: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for file in [
        path.to_string(),
        format!("{path}-wal"),
        format!("{path}-shm"),
    ] {
        match std::fs::metadata(&file) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Embedded migrations by reference (diesel takes a source by value).
#[derive(Clone, Copy)]
struct Source(&'static diesel_migrations::EmbeddedMigrations);

impl<B: diesel::backend::Backend> diesel::migration::MigrationSource<B> for Source {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<B>>>> {
        diesel::migration::MigrationSource::<B>::migrations(self.0)
    }
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        self.establish()
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.is_broken()
    }
}

/// Revert every migration, then apply them all again (the migration tests, on either
/// backend): true when both directions ran and nothing is pending after.
pub fn up_down_up(conn: &mut Conn, migrations: &Migrations) -> Result<bool, String> {
    fn cycle<C: MigrationHarness<B>, B: diesel::backend::Backend>(
        c: &mut C,
        m: Source,
    ) -> Result<bool, String> {
        c.revert_all_migrations(m).map_err(|e| e.to_string())?;
        let pending = c.has_pending_migration(m).map_err(|e| e.to_string())?;
        c.run_pending_migrations(m).map_err(|e| e.to_string())?;
        let after = c.has_pending_migration(m).map_err(|e| e.to_string())?;
        Ok(pending && !after)
    }
    match conn {
        Conn::Sqlite(c) => cycle(c, Source(migrations.sqlite)),
        Conn::Pg(c) => cycle(c, Source(migrations.postgres)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(
            Backend::of("sqlite:///tmp/x.db").unwrap(),
            (Backend::Sqlite, "/tmp/x.db".into())
        );
        assert_eq!(
            Backend::of("x.db").unwrap(),
            (Backend::Sqlite, "x.db".into())
        );
        assert_eq!(
            Backend::of("postgres://u:p@h:5/d").unwrap().0,
            Backend::Postgres
        );
        assert_eq!(
            Backend::of("postgresql://h/d").unwrap().0,
            Backend::Postgres
        );
        for bad in ["mysql://h/d", "", "sqlite://"] {
            assert!(Backend::of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sqlite_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("pier-db-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("new.db");
        let _ = std::fs::remove_file(&db);
        create_private(db.to_str().unwrap()).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&db), 0o600);
        // An existing, world-readable file and its WAL are tightened.
        let old = dir.join("old.db");
        let wal = dir.join("old.db-wal");
        for f in [&old, &wal] {
            std::fs::write(f, b"").unwrap();
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        create_private(old.to_str().unwrap()).unwrap();
        restrict_sqlite_files(old.to_str().unwrap()).unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(mode(&wal), 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://pier:s3cret@db:5432/pier"),
            "postgres://pier:***@db:5432/pier"
        );
        assert_eq!(redact("postgres://db/pier"), "postgres://db/pier");
        let e = Backend::of("mysql://u:s3cret@h/d").unwrap_err().to_string();
        assert!(!e.contains("s3cret"), "{e}");
    }
}
