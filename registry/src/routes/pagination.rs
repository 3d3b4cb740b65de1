//! `n` / `last` paging and the `Link: <…>; rel="next"` header (RFC 8288).

use super::query::Query;
use crate::error::{Error, Result};
use pier_shared::ErrorCode;

pub struct Paging {
    pub n: usize,
    pub last: Option<String>,
    /// The client asked for 0 entries.
    pub zero: bool,
}

/// Read `n` (clamped to `max`, `default` if absent) and `last`.
pub fn parse(q: &Query, default: usize, max: usize) -> Result<Paging> {
    let n = match q.get("n") {
        None | Some("") => default,
        Some(raw) => raw.parse::<usize>().map_err(|_| {
            Error::oci(
                ErrorCode::PaginationNumberInvalid,
                format!("n must be a non-negative integer, got {raw:?}"),
            )
        })?,
    };
    Ok(Paging {
        n: n.min(max),
        zero: n == 0,
        last: q.get("last").filter(|l| !l.is_empty()).map(String::from),
    })
}

/// `Link` header for the page after `last_item`.
pub fn link(path: &str, n: usize, last_item: &str) -> (&'static str, String) {
    let last: String = url_encode(last_item);
    ("Link", format!("<{path}?n={n}&last={last}>; rel=\"next\""))
}

fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}
