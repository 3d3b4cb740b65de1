//! The database pool's gauges, read from the pool at scrape time (nothing to keep in step
//! on the request path): connections open, in use, idle, the pool's maximum, and threads
//! waiting for a connection — the first sign of a pool too small for the load.

use crate::db::Db;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;

/// Registered with `Registry::register_collector`; names `pier_db_pool_*`.
#[derive(Clone)]
pub struct PoolCollector(pub Db);

impl std::fmt::Debug for PoolCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolCollector")
    }
}

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.0.pool_stats();
        let gauges = [
            (
                "db_pool_connections",
                "Connections the pool holds open.",
                s.connections,
            ),
            (
                "db_pool_in_use",
                "Connections checked out of the pool now.",
                s.in_use,
            ),
            ("db_pool_idle", "Open connections not in use.", s.idle),
            (
                "db_pool_max",
                "The pool's size (database.pool_size).",
                s.max,
            ),
            (
                "db_pool_waiting",
                "Threads waiting for a connection from the pool now.",
                s.waiting,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
            let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}
