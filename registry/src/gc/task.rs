//! The background GC task: one run every `gc.interval_seconds`, started by the server.

use crate::state::Registry;
use std::time::Duration;

/// Spawn the periodic task on the current actix system (no-op if the interval is 0).
pub fn spawn(reg: Registry) {
    let every = reg.config.gc.interval_seconds;
    if every == 0 {
        log::info!("gc: background task off (gc.interval_seconds = 0)");
        return;
    }
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(Duration::from_secs(every)).await;
            if let Err(e) = super::run(&reg, false).await {
                log::warn!("gc: run failed, retrying in {every} s: {e}");
            }
        }
    });
}
