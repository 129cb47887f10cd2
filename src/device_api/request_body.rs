//! Reading a device's JSON request: whatever the Content-Type (the reference ignores it and
//! scripts send none or `application/x-www-form-urlencoded`), at most 16 KiB, an object.
//! Every way it can be wrong becomes an `ApiError` naming the field and the value.

use std::time::Duration;

use actix_web::web;
use serde_json::{Map, Value};

use crate::device_api::api_error::ApiError;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Reads the whole body, refusing more than `BODY_LIMIT` bytes or taking longer than
/// `timeout` (a client sending its body a byte a second holds a connection otherwise).
pub async fn read(payload: web::Payload, timeout: Duration) -> Result<web::Bytes, ApiError> {
    match tokio::time::timeout(timeout, payload.to_bytes_limited(BODY_LIMIT)).await {
        Ok(Ok(Ok(bytes))) => Ok(bytes),
        Ok(Ok(Err(e))) => Err(ApiError::BodyUnreadable(e.to_string())),
        Ok(Err(_)) => Err(ApiError::BodyTooLarge { limit: BODY_LIMIT }),
        Err(_) => Err(ApiError::RequestTimeout),
    }
}

/// Parses a body as a JSON object; `example` is shown when the body is empty.
pub fn json_object(body: &[u8], example: &'static str) -> Result<Map<String, Value>, ApiError> {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::EmptyBody { example });
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::NotAnObject {
            found: kind(&other),
        }),
        Err(e) => Err(ApiError::InvalidJson(e.to_string())),
    }
}

/// A short description of a JSON value for error messages: its type and, when short, the
/// value itself.
pub fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 40 {
        format!("{} {text}", kind(value))
    } else {
        kind(value).to_string()
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_parse_and_everything_else_is_named() {
        assert!(json_object(br#"{"a": 1}"#, "{}").is_ok());
        assert!(json_object(b"\xef\xbb\xbf{\"a\": 1}", "{}").is_ok());
        assert_eq!(
            json_object(b"  \n", "{}"),
            Err(ApiError::EmptyBody { example: "{}" })
        );
        assert_eq!(
            json_object(b"[1]", "{}"),
            Err(ApiError::NotAnObject { found: "an array" })
        );
        assert!(matches!(
            json_object(b"{\"a\":", "{}"),
            Err(ApiError::InvalidJson(_))
        ));
        assert!(matches!(
            json_object(b"{\"a\": \"\xff\"}", "{}"),
            Err(ApiError::InvalidJson(_))
        ));
        let deep = "[".repeat(10_000);
        assert!(matches!(
            json_object(deep.as_bytes(), "{}"),
            Err(ApiError::InvalidJson(_))
        ));
    }

    #[test]
    fn values_are_described_briefly() {
        assert_eq!(describe(&Value::from(20180125)), "a number 20180125");
        assert_eq!(describe(&Value::from("x".repeat(100))), "a string");
    }
}
