//! `GET /v2/` — the API version check.
//!
//! ```text
//! GET /v2/            →  200 {}   Docker-Distribution-API-Version: registry/2.0
//! ```

use actix_web::HttpResponse;

pub fn get() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body("{}")
}
