//! Query strings, with repeated keys kept (`?tag=a&tag=b`).

use pier_shared::{ErrorCode, OciError};

pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: &str) -> Result<Query, OciError> {
        serde_urlencoded::from_str(raw).map(Query).map_err(|e| {
            OciError::with_message(ErrorCode::Unsupported, format!("query string: {e}"))
                .status(actix_web::http::StatusCode::BAD_REQUEST)
        })
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The same query without `keys`.
    pub fn without(self, keys: &[&str]) -> Query {
        Query(
            self.0
                .into_iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .collect(),
        )
    }

    /// Every value of `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
