//! The OCI / Docker registry error-code table and the one writer of `{"errors":[…]}` bodies.
//!
//! Each code is registered once with its wire name, default message and HTTP status, as in
//! distribution's `errcode/register.go`. Handlers build an [`OciError`]; its `ResponseError`
//! implementation is the only place an error body is written. Internal causes never reach
//! the body: log them where they happen and return [`OciError::internal`].

use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

macro_rules! error_codes {
    ($($variant:ident => ($wire:literal, $status:literal, $message:literal)),+ $(,)?) => {
        /// Every error code Pier puts on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),+ }

        impl ErrorCode {
            /// All codes, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as written in the body, e.g. `BLOB_UNKNOWN`.
            pub fn wire(self) -> &'static str {
                match self { $(ErrorCode::$variant => $wire),+ }
            }

            /// The HTTP status this code is sent with unless a handler overrides it.
            pub fn status(self) -> StatusCode {
                let code = match self { $(ErrorCode::$variant => $status),+ };
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }

            /// The default human-readable message.
            pub fn message(self) -> &'static str {
                match self { $(ErrorCode::$variant => $message),+ }
            }
        }
    };
}

error_codes! {
    BlobUnknown => ("BLOB_UNKNOWN", 404, "blob unknown to registry"),
    BlobUploadInvalid => ("BLOB_UPLOAD_INVALID", 400, "blob upload invalid"),
    BlobUploadUnknown => ("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry"),
    DigestInvalid => ("DIGEST_INVALID", 400, "provided digest did not match uploaded content"),
    ManifestBlobUnknown => ("MANIFEST_BLOB_UNKNOWN", 400, "manifest references a manifest or blob unknown to registry"),
    ManifestInvalid => ("MANIFEST_INVALID", 400, "manifest invalid"),
    ManifestUnknown => ("MANIFEST_UNKNOWN", 404, "manifest unknown to registry"),
    NameInvalid => ("NAME_INVALID", 400, "invalid repository name"),
    NameUnknown => ("NAME_UNKNOWN", 404, "repository name not known to registry"),
    SizeInvalid => ("SIZE_INVALID", 400, "provided length did not match content length"),
    TagInvalid => ("TAG_INVALID", 400, "manifest tag did not match URI"),
    Unauthorized => ("UNAUTHORIZED", 401, "authentication required"),
    Denied => ("DENIED", 403, "requested access to the resource is denied"),
    Unsupported => ("UNSUPPORTED", 405, "the operation is unsupported"),
    TooManyRequests => ("TOOMANYREQUESTS", 429, "too many requests"),
    RangeInvalid => ("RANGE_INVALID", 416, "invalid content range"),
    PaginationNumberInvalid => ("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested"),
    Unavailable => ("UNAVAILABLE", 503, "service unavailable"),
    Unknown => ("UNKNOWN", 500, "unknown error"),
}

/// One error as sent to a client, plus any headers the protocol requires with it
/// (`Content-Range` on a 416, `WWW-Authenticate` on a 401, `Range` on an upload 416).
#[derive(Clone)]
pub struct OciError {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<serde_json::Value>,
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, String)>,
}

impl OciError {
    pub fn new(code: ErrorCode) -> Self {
        OciError {
            code,
            message: code.message().to_string(),
            detail: None,
            status: code.status(),
            headers: Vec::new(),
        }
    }

    /// The same code with a more specific message.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        OciError {
            message: message.into(),
            ..OciError::new(code)
        }
    }

    /// An internal failure. The cause must already have been logged by the caller.
    pub fn internal() -> Self {
        OciError::new(ErrorCode::Unknown)
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The JSON body, as every OCI error is written.
    pub fn body(&self) -> String {
        #[derive(Serialize)]
        struct Item<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            detail: Option<&'a serde_json::Value>,
        }
        #[derive(Serialize)]
        struct Envelope<'a> {
            errors: [Item<'a>; 1],
        }
        let env = Envelope {
            errors: [Item {
                code: self.code.wire(),
                message: &self.message,
                detail: self.detail.as_ref(),
            }],
        };
        serde_json::to_string(&env).unwrap_or_else(|_| String::from(r#"{"errors":[]}"#))
    }
}

impl fmt::Debug for OciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code.wire(),
            self.message
        )
    }
}

impl fmt::Display for OciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.wire(), self.message)
    }
}

impl ResponseError for OciError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((CONTENT_TYPE, "application/json"));
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                res.append_header((name.clone(), v));
            }
        }
        res.body(self.body())
    }
}

impl From<ErrorCode> for OciError {
    fn from(code: ErrorCode) -> Self {
        OciError::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape() {
        let e = OciError::with_message(ErrorCode::BlobUnknown, "nope")
            .detail(serde_json::json!({"digest": "sha256:x"}));
        assert_eq!(
            e.body(),
            r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"nope","detail":{"digest":"sha256:x"}}]}"#
        );
        assert_eq!(e.status_code(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn every_code_is_upper_snake_case_with_a_status() {
        for code in ErrorCode::ALL {
            assert!(code
                .wire()
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_'));
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }
}
