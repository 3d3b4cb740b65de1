//! The registry's error type: a protocol refusal, or an internal failure.
//!
//! Internal failures (database, storage) are logged here with their cause and reach the
//! client only as `UNKNOWN` / `UNAVAILABLE`, never with the cause in the body.

use crate::db::DbError;
use crate::storage::StorageError;
use actix_web::{HttpResponse, ResponseError};
use pier_shared::{ErrorCode, OciError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Oci(OciError),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Db(DbError::Query(e))
    }
}

impl From<OciError> for Error {
    fn from(e: OciError) -> Self {
        Error::Oci(e)
    }
}

impl From<ErrorCode> for Error {
    fn from(c: ErrorCode) -> Self {
        Error::Oci(OciError::new(c))
    }
}

impl Error {
    /// A protocol error with a specific message.
    pub fn oci(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Oci(OciError::with_message(code, message))
    }

    fn to_oci(&self) -> OciError {
        match self {
            Error::Oci(e) => e.clone(),
            Error::Db(e) if e.is_unavailable() => {
                log::error!("database unavailable: {e}");
                OciError::new(ErrorCode::Unavailable)
            }
            other => {
                log::error!("internal error: {other}");
                OciError::internal()
            }
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> actix_web::http::StatusCode {
        match self {
            Error::Oci(e) => e.status,
            Error::Db(e) if e.is_unavailable() => ErrorCode::Unavailable.status(),
            _ => ErrorCode::Unknown.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.to_oci().error_response()
    }
}
