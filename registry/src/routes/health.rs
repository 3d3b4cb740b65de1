//! `GET /healthz` and `GET /readyz`, for load balancers: unauthenticated, outside `/v2`.
//!
//! ```text
//! GET /healthz  →  200 {"status":"ok"}
//! GET /readyz   →  200 {"status":"ok","checks":{"database":"ok","storage":"ok"}}
//!               →  503 {"status":"unavailable","checks":{"database":"ok","storage":"stat failed: not a directory"}}
//! ```

use crate::state::Registry;
use actix_web::{web, HttpResponse};

pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";

pub async fn healthz() -> HttpResponse {
    pier_shared::health::healthz()
}

pub async fn readyz(reg: web::Data<Registry>) -> HttpResponse {
    crate::services::health::readiness(reg.get_ref())
        .await
        .response()
}
