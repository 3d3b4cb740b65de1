//! Test support (feature `testing`): the database a test runs on, chosen by the
//! environment so that one suite runs over both backends.
//!
//! `PIER_TEST_DATABASE=postgres` with `PIER_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/postgres`
//! (what `integration-tests/tools/postgres.sh start` prints) gives every caller a new, empty
//! database on that server; otherwise (`sqlite`, or unset) a SQLite file in the test's
//! directory. Asking for PostgreSQL without a server is a failure, never a silent fallback.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which backend the tests run on (`PIER_TEST_DATABASE`).
pub fn postgres_wanted() -> bool {
    match std::env::var("PIER_TEST_DATABASE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Ok("") | Err(_) => false,
        Ok(other) => panic!("PIER_TEST_DATABASE={other:?}: use sqlite or postgres"),
    }
}

/// A database URL for one test's service: `file` in `dir`, or on PostgreSQL a fresh
/// database, the same one for every call with the same `dir` and `file` (its URL is kept in
/// `dir`), so that a test reopening or restarting a service finds its data again.
pub fn database_url(dir: &Path, file: &str) -> String {
    if !postgres_wanted() {
        return format!("sqlite://{}", dir.join(file).display());
    }
    let marker = dir.join(format!("{file}.postgres-url"));
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return url;
    }
    let url = fresh_postgres_database();
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&marker, &url))
        .unwrap_or_else(|e| panic!("{}: {e}", marker.display()));
    url
}

/// Create an empty database on the server named by `PIER_TEST_POSTGRES_URL`; its URL.
pub fn fresh_postgres_database() -> String {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let admin = std::env::var("PIER_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "PIER_TEST_DATABASE=postgres needs PIER_TEST_POSTGRES_URL \
             (start a server with integration-tests/tools/postgres.sh start DIR)"
        )
    });
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let name = format!(
        "pier_test_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut c = PgConnection::establish(&admin)
        .unwrap_or_else(|e| panic!("PIER_TEST_POSTGRES_URL: cannot connect: {e}"));
    drop_databases_of_ended_processes(&mut c);
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or_else(|| panic!("PIER_TEST_POSTGRES_URL has no /DATABASE part"));
    format!("{base}/{name}")
}

/// Drop the test databases of test processes that have ended (their name carries the pid),
/// so that a whole suite's hundreds of databases do not fill the server's disk.
fn drop_databases_of_ended_processes(c: &mut diesel::PgConnection) {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'pier\\_test\\_%'")
            .load(c)
            .unwrap_or_default();
    for n in names {
        let pid = n
            .datname
            .split('_')
            .nth(2)
            .and_then(|p| p.parse::<u32>().ok());
        let ended = pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists());
        if ended {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                n.datname
            ))
            .execute(c);
        }
    }
}
