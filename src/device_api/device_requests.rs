//! The two requests devices send, parsed from raw body bytes: `{"build_date": "D.M.YYYY"}`
//! and `{"serial": "…"}`. Unknown keys are ignored, as the reference ignores them.

use serde_json::Value;

use crate::device_api::api_error::ApiError;
use crate::device_api::request_body::{describe, json_object};
use crate::licenses::serial::Serial;
use crate::model::version::Version;

const BUILD_DATE_EXAMPLE: &str = r#"{"build_date": "28.12.2017"}"#;
const SERIAL_EXAMPLE: &str = r#"{"serial": "0000000000012345"}"#;

/// The build date of a `check_firmware` request.
pub fn build_date(body: &[u8]) -> Result<Version, ApiError> {
    let object = json_object(body, BUILD_DATE_EXAMPLE)?;
    let field = "build_date";
    match object.get(field) {
        None => Err(ApiError::MissingField {
            field,
            example: BUILD_DATE_EXAMPLE,
        }),
        Some(Value::String(text)) => {
            Version::parse_build_date(text).ok_or_else(|| ApiError::InvalidField {
                field,
                message: format!(
                    "must be a real date written D.M.YYYY (like \"28.12.2017\"), got {text:?}"
                ),
            })
        }
        Some(other) => Err(ApiError::InvalidField {
            field,
            message: format!(
                "must be a string like \"28.12.2017\", got {}",
                describe(other)
            ),
        }),
    }
}

/// The serial of a `feature_licenses` request: 1 to 16 digits as a string (whitespace
/// trimmed) or a JSON integer.
pub fn serial(body: &[u8]) -> Result<Serial, ApiError> {
    let object = json_object(body, SERIAL_EXAMPLE)?;
    let field = "serial";
    let value = object.get(field).ok_or(ApiError::MissingField {
        field,
        example: SERIAL_EXAMPLE,
    })?;
    let serial = match value {
        Value::String(text) => Serial::parse_request_form(text),
        Value::Number(n) => n.as_u64().and_then(Serial::from_integer),
        _ => None,
    };
    serial.ok_or_else(|| ApiError::InvalidField {
        field,
        message: format!(
            "must be 1 to 16 digits, as a string or an integer, got {}",
            describe(value)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_dates() {
        assert_eq!(
            build_date(br#"{"build_date": "1.2.2018", "x": 1}"#)
                .unwrap()
                .as_u32(),
            20180201
        );
        let error = build_date(br#"{"build_date": "31.02.2017"}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#""build_date" must be a real date written D.M.YYYY (like "28.12.2017"), got "31.02.2017""#
        );
        let error = build_date(br#"{"build_date": 20171228}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#""build_date" must be a string like "28.12.2017", got a number 20171228"#
        );
        assert_eq!(
            build_date(b"{}").unwrap_err(),
            ApiError::MissingField {
                field: "build_date",
                example: BUILD_DATE_EXAMPLE
            }
        );
    }

    #[test]
    fn serials() {
        assert_eq!(
            serial(br#"{"serial": 12345}"#).unwrap().to_string(),
            "0000000000012345"
        );
        assert_eq!(
            serial(br#"{"serial": " 12345 "}"#).unwrap().to_string(),
            "0000000000012345"
        );
        for bad in [
            r#"{"serial": "12a"}"#,
            r#"{"serial": -1}"#,
            r#"{"serial": 1.5}"#,
            r#"{"serial": null}"#,
            r#"{"serial": 1e300}"#,
        ] {
            assert!(
                matches!(serial(bad.as_bytes()), Err(ApiError::InvalidField { .. })),
                "{bad}"
            );
        }
    }
}
