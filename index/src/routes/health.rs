//! `GET /healthz` and `GET /readyz`, for load balancers: unauthenticated and cheap.
//!
//! ```text
//! GET /healthz  →  200 {"status":"ok"}
//! GET /readyz   →  200 {"status":"ok","checks":{"database":"ok"}}
//!               →  503 {"status":"unavailable","checks":{"database":"timed out after 2s"}}
//! ```
//!
//! Readiness is the database only: the signing keys are loaded before the index listens
//! and reloaded from that same database.

use crate::state::Index;
use actix_web::{web, HttpResponse};
use pier_shared::health::{check, describe_db_error, Readiness};

pub async fn healthz() -> HttpResponse {
    pier_shared::health::healthz()
}

pub async fn readyz(index: web::Data<Index>) -> HttpResponse {
    let mut r = Readiness::new();
    r.add(
        "database",
        check("database", index.db.ping(), describe_db_error).await,
    );
    r.response()
}
