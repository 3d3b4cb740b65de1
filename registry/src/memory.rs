//! Process-wide memory settings.
//!
//! glibc's malloc gives each thread that allocates under contention an arena of its own
//! (up to 8 per core), and pages an arena once touched stay resident. The registry runs
//! dozens of threads (actix workers, tokio's blocking pool for file I/O, the SQLite pool),
//! so under concurrent reads its RSS was mostly arena slack: 26 MiB peak against 15 MiB
//! with two arenas, at the same throughput (docs/performance.md). [`limit_malloc_arenas`]
//! caps them; an operator's own `MALLOC_ARENA_MAX` wins.

/// Arenas the registry's allocator may use.
pub const MALLOC_ARENAS: i32 = 2;

/// Cap glibc's malloc arenas at [`MALLOC_ARENAS`] unless `MALLOC_ARENA_MAX` is set. Call
/// first thing in `main`, before any thread starts. No-op on other C libraries.
pub fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any other
    // thread exists, and M_ARENA_MAX with a positive value is a documented, valid call.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
}
