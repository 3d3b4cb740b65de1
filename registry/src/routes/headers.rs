//! Response headers and bodies the registry API shares.

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use pier_shared::Digest;
use std::pin::Pin;
use std::task::{Context, Poll};

pub const API_VERSION_HEADER: (&str, &str) = ("Docker-Distribution-API-Version", "registry/2.0");
pub const CONTENT_DIGEST: &str = "Docker-Content-Digest";
pub const UPLOAD_UUID: &str = "Docker-Upload-UUID";

pub fn digest(d: &Digest) -> (&'static str, String) {
    (CONTENT_DIGEST, d.to_string())
}

/// The `Range` header of an upload holding `size` bytes (distribution writes `0-0` when
/// empty).
pub fn upload_range(size: u64) -> (&'static str, String) {
    ("Range", format!("0-{}", size.saturating_sub(1)))
}

/// The body of a HEAD response: announces `Content-Length` without sending bytes.
pub struct HeadBody(pub u64);

impl MessageBody for HeadBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.0)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}
