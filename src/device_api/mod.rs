//! The device listener: the routes registers and scripts call, and everything on their
//! request path (request limits, body reading, the offer answer, firmware downloads with
//! ranges, the URL base, `ApiError`, `/version`). Wire compatibility lives here.
//! May use `app_state` and everything below it; nothing uses it but start-up.

pub mod api_error;
pub mod base_url;
pub mod byte_range;
pub mod client_address;
pub mod device_requests;
pub mod firmware_download;
pub mod request_body;
pub mod request_limits;
pub mod routes;
pub mod server_info;
pub mod static_files;
