//! The error answer both listeners send: `{"error": "…"}` with `Content-Type:
//! application/json`, written in the reference's JSON form, plus the one header some
//! statuses need (`Allow`, `Content-Range`, `WWW-Authenticate`).
//! It builds an actix `HttpResponse`, so it lives in the server's crate, beside the two
//! listeners that use it, not in the vocabulary (`model`) that knows no HTTP framework.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

use crate::model::py_json;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

/// Builds the response.
pub fn response(
    status: StatusCode,
    message: &str,
    extra: Option<(HeaderName, HeaderValue)>,
) -> HttpResponse {
    let body = py_json::to_vec(&ErrorBody { error: message })
        .unwrap_or_else(|_| br#"{"error": "internal error"}"#.to_vec());
    let mut response = HttpResponse::build(status);
    response.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    ));
    if let Some(header) = extra {
        response.insert_header(header);
    }
    response.body(body)
}
