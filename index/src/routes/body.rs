//! Bodies read whole into memory, each kind with its limit (`[limits]`): more is
//! [`Error::PayloadTooLarge`], which each protocol answers as a 413 of its own format.
//! (The JSON API's `web::Json` and the web UI's `web::Form` get theirs from the
//! `JsonConfig` / `FormConfig` that `server::app` registers.)

use crate::error::{Error, Result};
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::web::{self, Bytes};
use actix_web::HttpRequest;

/// Read `payload`, refusing more than `limit` bytes (announced or sent).
pub async fn read(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Bytes> {
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Err(Error::PayloadTooLarge(limit));
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(Error::BadRequest(format!("reading the request body: {e}"))),
        Err(_) => Err(Error::PayloadTooLarge(limit)),
    }
}

/// A form body (`POST /token`, `POST /introspect`).
pub async fn form(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Bytes> {
    read(req, payload, limit).await
}
