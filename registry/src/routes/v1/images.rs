//! `/v1/images/<id>/…`:
//!
//! ```text
//! PUT /v1/images/<id>/json      image json (id = <id>, in the session's image list) → 200 true
//! PUT /v1/images/<id>/layer     the layer bytes (chunked)                            → 200 true
//! PUT /v1/images/<id>/checksum  X-Docker-Checksum-Payload: sha256:…                  → 200 true
//! GET /v1/images/<id>/json      raw json, X-Docker-Size, X-Docker-Checksum-Payload
//! GET /v1/images/<id>/layer     the layer (Range: bytes=a-b → 206)
//! GET /v1/images/<id>/ancestry  ["<id>", "<parent>", …]
//! ```
//!
//! 400 for an id that is not 64 hex characters, 403 for an image not in the repository's
//! image list at the index, 404 for an image not (completely) pushed, 409 for pushing an
//! image that is complete.

use super::{authorize, json, ok_true, respond, then, Refusal, Result};
use crate::routes::blobs::parse_range;
use crate::routes::headers::HeadBody;
use crate::services::v1::{images, Need, V1Error};
use crate::state::Registry;
use actix_web::http::header::{ACCEPT_RANGES, CONTENT_RANGE, RANGE};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use pier_shared::v1::{Access, ImageId};

fn image_id(req: &HttpRequest) -> Result<ImageId> {
    req.match_info()
        .query("id")
        .parse()
        .map_err(|e: String| Refusal::from(V1Error::BadRequest(e)))
}

fn need(access: Access) -> Need<'static> {
    Need {
        access,
        repository: None,
    }
}

pub async fn put_json(
    req: HttpRequest,
    mut payload: web::Payload,
    reg: web::Data<Registry>,
) -> Result<HttpResponse> {
    let id = image_id(&req)?;
    let auth = authorize(&reg, &req, need(Access::Write)).await?;
    then(&auth, async {
        auth.check_image(&id)?;
        let mut body = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| V1Error::BadRequest(format!("reading the body: {e}")))?;
            let limit = reg.config.limits.json_max_bytes;
            if body.len() + chunk.len() > limit {
                return Err(V1Error::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        images::put_json(&reg, &auth.session.repository, &id, &body).await?;
        Ok(ok_true(&auth))
    })
    .await
}

pub async fn put_layer(
    req: HttpRequest,
    payload: web::Payload,
    reg: web::Data<Registry>,
) -> Result<HttpResponse> {
    let id = image_id(&req)?;
    let auth = authorize(&reg, &req, need(Access::Write)).await?;
    then(&auth, async {
        auth.check_image(&id)?;
        let body = crate::routes::uploads::body(payload);
        images::put_layer(&reg, &auth.session.repository, &id, body).await?;
        Ok(ok_true(&auth))
    })
    .await
}

pub async fn put_checksum(req: HttpRequest, reg: web::Data<Registry>) -> Result<HttpResponse> {
    let id = image_id(&req)?;
    let auth = authorize(&reg, &req, need(Access::Write)).await?;
    then(&auth, async {
        auth.check_image(&id)?;
        let claimed = req
            .headers()
            .get("x-docker-checksum-payload")
            .and_then(|v| v.to_str().ok());
        images::put_checksum(&reg, &id, claimed).await?;
        Ok(ok_true(&auth))
    })
    .await
}

pub async fn get_json(req: HttpRequest, reg: web::Data<Registry>) -> Result<HttpResponse> {
    let id = image_id(&req)?;
    let auth = authorize(&reg, &req, need(Access::Read)).await?;
    then(&auth, async {
        auth.check_image(&id)?;
        let image = images::get(&reg, &id).await?;
        Ok(respond(StatusCode::OK, &auth)
            .content_type("application/json")
            .insert_header(("X-Docker-Size", image.size.to_string()))
            .insert_header(("X-Docker-Checksum-Payload", image.checksum))
            .body(image.json))
    })
    .await
}

pub async fn get_layer(req: HttpRequest, reg: web::Data<Registry>) -> Result<HttpResponse> {
    let id = image_id(&req)?;
    let auth = authorize(&reg, &req, need(Access::Read)).await?;
    then(&auth, async {
        auth.check_image(&id)?;
        let image = images::get(&reg, &id).await?;
        let size = image.size;
        let range = req
            .headers()
            .get(RANGE)
            .and_then(|v| v.to_str().ok())
            .map(|r| parse_range(r, size))
            .transpose()
            .map_err(|_| V1Error::Range(size))?
            .flatten();
        let status = if range.is_some() {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        };
        let mut res = respond(status, &auth);
        res.insert_header((ACCEPT_RANGES, "bytes"))
            .insert_header(("X-Docker-Size", size.to_string()))
            .content_type("application/octet-stream");
        let (offset, len) = match range {
            Some((start, end)) => {
                res.insert_header((CONTENT_RANGE, format!("bytes {start}-{end}/{size}")));
                (start, end - start + 1)
            }
            None => (0, size),
        };
        if req.method() == Method::HEAD {
            return Ok(res.body(HeadBody(len)));
        }
        let stream = images::open_layer(&reg, &image, offset, len).await?;
        Ok(res.no_chunking(len).streaming(stream))
    })
    .await
}

pub async fn ancestry(req: HttpRequest, reg: web::Data<Registry>) -> Result<HttpResponse> {
    let id = image_id(&req)?;
    let auth = authorize(&reg, &req, need(Access::Read)).await?;
    then(&auth, async {
        auth.check_image(&id)?;
        let list = images::ancestry(&reg, &id).await?;
        Ok(json(&auth, &list))
    })
    .await
}
