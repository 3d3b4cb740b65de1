//! `GET /v1/_pier/flow/<jti>` (site administrators): what the index recorded about one
//! token flow — every audit event whose detail starts `jti=<jti> `, v1 or v2. This is how
//! `pier walkthrough` shows the registry → index confirmation the client never sees.

use super::{basic_subject, json, V1Result};
use crate::db::v1;
use crate::error::Error;
use crate::state::Index;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn get(
    req: HttpRequest,
    jti: web::Path<String>,
    index: web::Data<Index>,
) -> V1Result<HttpResponse> {
    let Some(admin) = basic_subject(&index, &req).await? else {
        return Err(Error::Unauthenticated.into());
    };
    if !admin.is_admin {
        return Err(Error::Forbidden("site administrators only".into()).into());
    }
    index.audit.flush(&index.db).await;
    let id = jti.into_inner();
    let owned = id.clone();
    let events = index
        .db
        .run(move |c| v1::flow_events(c, &owned))
        .await
        .map_err(Error::from)?;
    let events: Vec<serde_json::Value> = events
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "time": e.time, "actor": e.actor, "action": e.action,
                "target": e.target, "detail": e.detail,
            })
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "jti": id, "events": events }),
    ))
}
