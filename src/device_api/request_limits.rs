//! Limits on what a client may send in a request head, tighter than actix-web's own
//! (128 KiB, 96 headers): registers send short requests, so anything large is a mistake or
//! an attack and is refused early with a clear status.

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Next;
use actix_web::ResponseError;

use crate::device_api::api_error::ApiError;

/// Longest request target (path and query) accepted.
pub const MAX_URI: usize = 2048;
/// Most bytes of header names and values accepted in one request.
pub const MAX_HEADER_BYTES: usize = 8192;

/// Checks the request target and the headers.
pub fn check_head(uri_len: usize, headers: &HeaderMap) -> Result<(), ApiError> {
    if uri_len > MAX_URI {
        return Err(ApiError::UriTooLong { limit: MAX_URI });
    }
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge {
            limit: MAX_HEADER_BYTES,
        });
    }
    Ok(())
}

/// The middleware applying `check_head` to every device request.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if let Err(error) = check_head(uri_len, req.headers()) {
        let response = error.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    #[test]
    fn long_targets_and_large_heads_are_refused() {
        let mut headers = HeaderMap::new();
        assert!(check_head(MAX_URI, &headers).is_ok());
        assert_eq!(
            check_head(MAX_URI + 1, &headers),
            Err(ApiError::UriTooLong { limit: MAX_URI })
        );
        headers.insert(
            HeaderName::from_static("x-big"),
            HeaderValue::from_str(&"a".repeat(MAX_HEADER_BYTES)).unwrap(),
        );
        assert_eq!(
            check_head(10, &headers),
            Err(ApiError::HeadersTooLarge {
                limit: MAX_HEADER_BYTES
            })
        );
    }
}
