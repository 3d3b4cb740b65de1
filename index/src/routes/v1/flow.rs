//! What the index recorded, for site administrators (`pier walkthrough` reads the steps
//! the client never sees from here; a web UI may too):
//!
//! ```text
//! GET /v1/_pier/flow/<jti>            every audit event whose detail starts `jti=<jti> `
//!                                     (one v1 or v2 token flow), in order
//! GET /v1/_pier/events?target=<name>  the newest 50 audit events about <name>
//! ```
//!
//! Both write out the buffered audit events first, so a step just taken is included.

use super::{basic_subject, json, V1Result};
use crate::db::{audit::Event, v1};
use crate::error::Error;
use crate::state::Index;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

async fn admin(index: &Index, req: &HttpRequest) -> V1Result<()> {
    let Some(admin) = basic_subject(index, req).await? else {
        return Err(Error::Unauthenticated.into());
    };
    if !admin.is_admin {
        return Err(Error::Forbidden("site administrators only".into()).into());
    }
    index.audit.flush(&index.db).await;
    Ok(())
}

fn events_json(events: Vec<Event>) -> Vec<serde_json::Value> {
    events
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "time": e.time, "actor": e.actor, "action": e.action,
                "target": e.target, "detail": e.detail,
            })
        })
        .collect()
}

pub async fn get(
    req: HttpRequest,
    jti: web::Path<String>,
    index: web::Data<Index>,
) -> V1Result<HttpResponse> {
    admin(&index, &req).await?;
    let id = jti.into_inner();
    let owned = id.clone();
    let events = index
        .db
        .run(move |c| v1::flow_events(c, &owned))
        .await
        .map_err(Error::from)?;
    let body = serde_json::json!({ "jti": id, "events": events_json(events) });
    Ok(json(StatusCode::OK, &body))
}

#[derive(serde::Deserialize)]
pub struct Target {
    target: String,
}

pub async fn events(
    req: HttpRequest,
    q: web::Query<Target>,
    index: web::Data<Index>,
) -> V1Result<HttpResponse> {
    admin(&index, &req).await?;
    let target = q.into_inner().target;
    let owned = target.clone();
    let events = index
        .db
        .run(move |c| v1::target_events(c, &owned, 50))
        .await
        .map_err(Error::from)?;
    let body = serde_json::json!({ "target": target, "events": events_json(events) });
    Ok(json(StatusCode::OK, &body))
}
