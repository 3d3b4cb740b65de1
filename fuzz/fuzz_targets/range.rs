//! `Range` on blob and v1 layer downloads (`registry::routes::parse_range`) and
//! `Content-Range` on chunked uploads (`registry::routes::parse_content_range`).
//!
//! Input: the blob's size in decimal, a newline, the header value. Every value is also
//! tried against the edge sizes 0, 1 and `u64::MAX`.
#![no_main]

use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use libfuzzer_sys::fuzz_target;
use pier_registry::error::Error;
use pier_registry::routes::{parse_content_range, parse_range};
use pier_shared::ErrorCode;

fn check_range(header: &str, size: u64) {
    match parse_range(header, size) {
        Ok(Some((start, end))) => {
            assert!(start <= end && end < size, "{header:?} of {size}: {start}-{end}");
            // The handler's `end - start + 1` and `Content-Range: bytes start-end/size`.
            assert!(end - start < size);
        }
        Ok(None) => {}
        Err(Error::Oci(e)) => {
            assert_eq!(e.code, ErrorCode::RangeInvalid);
            assert_eq!(e.status, StatusCode::RANGE_NOT_SATISFIABLE);
        }
        Err(_) => panic!("{header:?}: not a 416"),
    }
}

fuzz_target!(|data: &[u8]| {
    let (size, header) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (
            std::str::from_utf8(&data[..i]).ok().and_then(|s| s.parse::<u64>().ok()),
            &data[i + 1..],
        ),
        None => (None, data),
    };
    let Ok(value) = HeaderValue::from_bytes(header) else {
        return;
    };
    // As the handlers read `Range`: a value that is not visible ASCII is ignored.
    if let Ok(text) = value.to_str() {
        for s in size.into_iter().chain([0, 1, u64::MAX]) {
            check_range(text, s);
        }
    }
    match parse_content_range(&value) {
        Ok(r) => {
            let again = HeaderValue::from_str(&format!("{}-{}", r.start, r.end)).expect("ascii");
            assert_eq!(parse_content_range(&again).ok(), Some(r));
        }
        Err(Error::Oci(e)) => {
            assert_eq!(e.code, ErrorCode::RangeInvalid);
            assert_eq!(e.status, StatusCode::RANGE_NOT_SATISFIABLE);
        }
        Err(_) => panic!("Content-Range: not a 416"),
    }
});
