//! `GET /api/openapi.json`: the hand-written OpenAPI 3 document (`openapi.json` beside this
//! file). A test checks that it and `routes::ROUTES` list the same operations.

use actix_web::HttpResponse;

pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT)
}
