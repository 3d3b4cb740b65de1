//! v1 refusals: a status and a message, written as `{"error": "<message>"}` by the routes.

use crate::error::Error;
use actix_web::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum V1Error {
    #[error("{0}")]
    BadRequest(String),
    /// No token, or one the index (or the local checks) refused: 401 `WWW-Authenticate: Token`.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    /// A `Range` outside the layer; carries the layer size.
    #[error("requested range not satisfiable")]
    Range(u64),
    #[error("{0}")]
    Unavailable(String),
    /// A JSON body over `limits.json_max_bytes`: 413.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Internal(#[from] Error),
}

impl V1Error {
    pub fn status(&self) -> StatusCode {
        match self {
            V1Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            V1Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            V1Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            V1Error::Forbidden(_) => StatusCode::FORBIDDEN,
            V1Error::NotFound(_) => StatusCode::NOT_FOUND,
            V1Error::Conflict(_) => StatusCode::CONFLICT,
            V1Error::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            V1Error::Range(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            V1Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            V1Error::Internal(Error::Oci(o)) => o.status,
            V1Error::Internal(Error::Db(e)) if e.is_unavailable() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            V1Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a client may see (internal causes are logged instead).
    pub fn public_message(&self) -> String {
        match self {
            V1Error::Internal(Error::Oci(o)) => o.message.clone(),
            V1Error::Internal(e) => {
                log::error!("v1: {e}");
                "the registry could not complete the request".into()
            }
            other => other.to_string(),
        }
    }
}

impl From<crate::db::DbError> for V1Error {
    fn from(e: crate::db::DbError) -> Self {
        V1Error::Internal(Error::Db(e))
    }
}

impl From<crate::storage::StorageError> for V1Error {
    fn from(e: crate::storage::StorageError) -> Self {
        V1Error::Internal(Error::Storage(e))
    }
}

pub type V1Result<T> = Result<T, V1Error>;

impl From<diesel::result::Error> for V1Error {
    fn from(e: diesel::result::Error) -> Self {
        V1Error::Internal(Error::from(e))
    }
}
