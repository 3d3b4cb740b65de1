//! The tag list of a mirrored repository: the upstream's (its tags, not only the cached
//! ones), paged with the client's `n` and `last`; the cached tags, with a `Warning`, when
//! the upstream cannot answer.

use super::names::Mapped;
use super::upstream::UpstreamError;
use actix_web::http::header::LINK;
use actix_web::http::Method;
use futures_util::StreamExt;

/// Largest tag list read from an upstream.
const MAX_BODY: usize = 16 << 20;

#[derive(serde::Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// One page of the upstream's tags, and whether it said there are more.
pub async fn upstream(
    reg: &crate::state::Registry,
    mapped: &Mapped,
    n: Option<usize>,
    last: Option<&str>,
) -> Result<(Vec<String>, bool), UpstreamError> {
    let up = reg.mirror.upstream(mapped);
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(n) = n {
        query.push(("n", n.to_string()));
    }
    if let Some(l) = last {
        query.push(("last", l.to_string()));
    }
    let qs = serde_urlencoded::to_string(&query).unwrap_or_default();
    let tail = if qs.is_empty() {
        "tags/list".to_string()
    } else {
        format!("tags/list?{qs}")
    };
    let mut res = up.send(Method::GET, &mapped.remote, &tail, None).await?;
    let more = res.headers().contains_key(LINK);
    let mut body = Vec::new();
    while let Some(chunk) = res.next().await {
        let chunk = chunk.map_err(|e| UpstreamError::Unreachable(format!("tag list: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(UpstreamError::Unexpected(format!(
                "tag list larger than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let list: TagList = serde_json::from_slice(&body)
        .map_err(|e| UpstreamError::Unexpected(format!("tag list is not JSON: {e}")))?;
    Ok((list.tags.unwrap_or_default(), more))
}
