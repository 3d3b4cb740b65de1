//! pier-bench: a load generator for any registry speaking the OCI distribution API
//! (anonymous or with Docker bearer tokens), and the pieces the side-by-side script needs:
//! machine limits, per-workload server statistics from `/proc`, and the report table.
//!
//! Every loop is bounded (a duration and a count); test data is generated before the timed
//! part; each request's status and digests are checked, and a failed check is an error
//! counted in the workload's JSON line (`--strict` turns the first one into a failure).

pub mod client;
pub mod data;
pub mod limits;
pub mod procstat;
pub mod report;
pub mod runner;
pub mod workloads;
