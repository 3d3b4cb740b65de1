//! The audit trail. Events are buffered in memory and written in batches (one
//! transaction per batch), because token issuance and introspection confirmations are on
//! the hot path: a batch is written when it holds [`BATCH`] events, when its oldest event
//! is older than [`MAX_AGE`] at the next event, and by the periodic flusher `server::bind`
//! starts. Every event is recorded (no sampling); a crash loses at most the last second's
//! buffered events.

use crate::db::audit::NewEvent;
use crate::db::{now, Db, DbError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const BATCH: usize = 256;
pub const MAX_AGE: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct AuditLog {
    buffer: Mutex<(Vec<NewEvent>, Option<Instant>)>,
}

impl AuditLog {
    /// Buffer one event; start writing the batch in the background when it is due.
    pub fn record(&self, db: &Db, actor: &str, action: &str, target: &str, detail: Option<String>) {
        let event = NewEvent {
            time: now(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.to_string(),
            detail,
        };
        let due = {
            let Ok(mut buf) = self.buffer.lock() else {
                return;
            };
            let first = *buf.1.get_or_insert_with(Instant::now);
            buf.0.push(event);
            if buf.0.len() >= BATCH || first.elapsed() >= MAX_AGE {
                buf.1 = None;
                std::mem::take(&mut buf.0)
            } else {
                Vec::new()
            }
        };
        if !due.is_empty() {
            let db = db.clone();
            actix_web::rt::spawn(async move { write(&db, due).await });
        }
    }

    /// Write whatever is buffered now.
    pub async fn flush(&self, db: &Db) {
        let batch = match self.buffer.lock() {
            Ok(mut buf) => {
                buf.1 = None;
                std::mem::take(&mut buf.0)
            }
            Err(_) => return,
        };
        write(db, batch).await;
    }
}

async fn write(db: &Db, batch: Vec<NewEvent>) {
    if batch.is_empty() {
        return;
    }
    let n = batch.len();
    let r: Result<(), DbError> = db
        .transaction(move |c| crate::db::audit::insert_all(c, &batch))
        .await;
    if let Err(e) = r {
        log::error!("audit: {n} events lost: {e}");
    }
}
