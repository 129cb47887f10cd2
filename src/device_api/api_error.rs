//! Every error a device or script can get, as JSON `{"error": "…"}` with the right status.
//! The reference answers these with HTML pages (and a 500 for a missing key); a script that
//! pipes the answer into `jq` gets a message it can show instead.

use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::json_error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The request had no body; the endpoint needs a JSON object.
    EmptyBody { example: &'static str },
    /// The body is not JSON (or not UTF-8).
    InvalidJson(String),
    /// The body is JSON, but not an object.
    NotAnObject { found: &'static str },
    /// A required field is absent.
    MissingField {
        field: &'static str,
        example: &'static str,
    },
    /// A field has the wrong JSON type or an unusable value.
    InvalidField {
        field: &'static str,
        message: String,
    },
    /// No license file has this serial.
    UnknownSerial(String),
    /// The body is over the limit.
    BodyTooLarge { limit: usize },
    /// The body could not be read from the connection.
    BodyUnreadable(String),
    /// The method is not one this path answers; `allow` lists those it does.
    MethodNotAllowed { allow: &'static str },
    /// Nothing is served at this path.
    NotFound(String),
    /// The Host header cannot be used to build download URLs.
    InvalidHost(String),
    /// The request target is longer than the limit.
    UriTooLong { limit: usize },
    /// The request's headers are larger than the limit.
    HeadersTooLarge { limit: usize },
    /// The client took too long to send its request body.
    RequestTimeout,
    /// A byte range that starts past the end of the file.
    RangeNotSatisfiable { size: u64 },
    /// A bug of ours; the message says what failed.
    Internal(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::EmptyBody { example } => {
                write!(f, "the request body is empty; send JSON like {example}")
            }
            ApiError::InvalidJson(e) => write!(f, "the request body is not valid JSON: {e}"),
            ApiError::NotAnObject { found } => {
                write!(f, "the request body must be a JSON object, not {found}")
            }
            ApiError::MissingField { field, example } => {
                write!(f, "missing \"{field}\"; send JSON like {example}")
            }
            ApiError::InvalidField { field, message } => write!(f, "\"{field}\" {message}"),
            ApiError::UnknownSerial(serial) => write!(f, "no feature licenses for serial {serial}"),
            ApiError::BodyTooLarge { limit } => write!(f, "the request body is over {limit} bytes"),
            ApiError::BodyUnreadable(e) => write!(f, "the request body could not be read: {e}"),
            ApiError::MethodNotAllowed { allow } => {
                write!(f, "method not allowed here; use {allow}")
            }
            ApiError::NotFound(path) => write!(f, "not found: {path}"),
            ApiError::UriTooLong { limit } => write!(f, "the request target is over {limit} bytes"),
            ApiError::HeadersTooLarge { limit } => {
                write!(f, "the request headers are over {limit} bytes")
            }
            ApiError::RequestTimeout => write!(f, "the request body took too long to arrive"),
            ApiError::InvalidHost(host) => {
                write!(f, "the Host header {host:?} is not a host name or address; download URLs cannot be built")
            }
            ApiError::RangeNotSatisfiable { size } => {
                write!(f, "the requested range is outside the file ({size} bytes)")
            }
            ApiError::Internal(e) => write!(f, "internal error: {e}"),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::EmptyBody { .. }
            | ApiError::InvalidJson(_)
            | ApiError::NotAnObject { .. }
            | ApiError::MissingField { .. }
            | ApiError::InvalidField { .. }
            | ApiError::BodyUnreadable(_)
            | ApiError::InvalidHost(_) => StatusCode::BAD_REQUEST,
            ApiError::UnknownSerial(_) | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let extra = match self {
            ApiError::MethodNotAllowed { allow } => {
                Some((header::ALLOW, HeaderValue::from_static(allow)))
            }
            ApiError::RangeNotSatisfiable { size } => {
                HeaderValue::try_from(format!("bytes */{size}"))
                    .ok()
                    .map(|v| (header::CONTENT_RANGE, v))
            }
            _ => None,
        };
        json_error::response(self.status_code(), &self.to_string(), extra)
    }
}
