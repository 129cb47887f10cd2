//! `GET`/`HEAD /firmware/[<line>/]<yyyymmdd>/<file>`: the bytes of a published release, from the
//! snapshot's memory, with the caching and range headers the reference sends.
//!
//! Only `<published version>/upd_app.bin` and `…/upd_app_for_old_frs.bin` come from here;
//! the raw request path is matched literally, so `..`, `%2e%2e`, `%2f`, backslashes,
//! absolute paths, dotfiles and files of unpublished folders are simply not found. Any
//! other path goes to `static_files` (files beside the firmware, from disk), which never
//! serves a firmware file name.

use std::time::SystemTime;

use actix_web::body::MessageBody;
use actix_web::http::header::{
    self, EntityTag, Header, HttpDate, IfModifiedSince, IfNoneMatch, IfRange,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::app_state::AppState;
use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::lines::valid_line_name;
use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::catalog::releases::FirmwareFile;
use crate::device_api::api_error::ApiError;
use crate::device_api::byte_range::{self, RangeAnswer};
use crate::device_api::client_address::{client_ip, unix_now};
use crate::device_api::static_files;
use crate::model::version::Version;
use crate::store::Event;

/// The handler.
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let path = req.uri().path();
    let not_found = || ApiError::NotFound(path.to_string());
    let snapshot = state.snapshot();
    let Some((line, version, name)) = parse_path(path) else {
        // Not a firmware file of a release: maybe another file beside the firmware.
        if !snapshot.static_files {
            return Err(not_found());
        }
        let Ok(root) = snapshot.static_root.clone() else {
            return Err(not_found());
        };
        let private = snapshot.private_files.clone();
        drop(snapshot);
        return static_files::serve(&req, &root, private).await;
    };
    let file = snapshot
        .line(line)
        .and_then(|l| l.releases.get(version))
        .and_then(|r| r.file(name))
        .cloned()
        .ok_or_else(not_found)?;
    // Who downloaded what is the inventory's; without one, nothing to work out.
    let client = if state.inventory.is_on() {
        client_ip(&req, &snapshot)
    } else {
        None
    };
    drop(snapshot);
    let response = respond(&req, &file)?;
    if let Some(address) = client {
        let whole = response.status() == StatusCode::OK;
        let part = response.status() == StatusCode::PARTIAL_CONTENT;
        if (whole || part) && req.method() == actix_web::http::Method::GET {
            let bytes = match response.body().size() {
                actix_web::body::BodySize::Sized(n) => n,
                _ => 0,
            };
            state.inventory.record(Event::Download {
                at: unix_now(),
                address,
                version: version.as_u32(),
                file: name,
                bytes,
                complete: whole,
            });
        }
    }
    Ok(response)
}

/// `[<line>/]<yyyymmdd>/<firmware file>` below `/firmware/`, nothing else; the line is
/// `DEFAULT_LINE` when the path names none.
pub fn parse_path(path: &str) -> Option<(&str, Version, &'static str)> {
    let rest = path.strip_prefix("/firmware/")?;
    let (line, rest) = match rest.split_once('/') {
        Some((first, rest)) if valid_line_name(first) => (first, rest),
        _ => (DEFAULT_LINE, rest),
    };
    let (folder, name) = rest.split_once('/')?;
    let version = Version::parse_folder_name(folder)?;
    let name = FIRMWARE_FILES.into_iter().find(|f| *f == name)?;
    Some((line, version, name))
}

/// Answers with `file`, honouring If-None-Match, If-Modified-Since, Range and If-Range.
fn respond(req: &HttpRequest, file: &FirmwareFile) -> Result<HttpResponse, ApiError> {
    let etag = &EntityTag::new_strong(file.etag.clone());
    let modified = file.modified;
    let mut response = HttpResponse::build(StatusCode::OK);
    response
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header(header::ETag(etag.clone()))
        .insert_header(header::LastModified(HttpDate::from(modified)));

    if not_modified(req, etag, modified) {
        return Ok(response.status(StatusCode::NOT_MODIFIED).finish());
    }
    let size = file.bytes.len() as u64;
    let range = req
        .headers()
        .get(header::RANGE)
        .filter(|_| if_range_holds(req, etag, modified))
        .and_then(|value| value.to_str().ok());
    match range.map_or(RangeAnswer::Whole, |value| byte_range::answer(value, size)) {
        RangeAnswer::Whole => Ok(response.body(file.bytes.clone())),
        RangeAnswer::Part(part) => {
            let content_range = format!("bytes {}-{}/{size}", part.start, part.end - 1);
            let (start, end) = (usize::try_from(part.start), usize::try_from(part.end));
            let (Ok(start), Ok(end)) = (start, end) else {
                return Err(ApiError::RangeNotSatisfiable { size });
            };
            Ok(response
                .status(StatusCode::PARTIAL_CONTENT)
                .insert_header((header::CONTENT_RANGE, content_range))
                .body(file.bytes.slice(start..end)))
        }
        RangeAnswer::Unsatisfiable => Err(ApiError::RangeNotSatisfiable { size }),
    }
}

/// If-None-Match (weak comparison) decides when present; else If-Modified-Since.
fn not_modified(req: &HttpRequest, etag: &EntityTag, modified: SystemTime) -> bool {
    if req.headers().contains_key(header::IF_NONE_MATCH) {
        return match IfNoneMatch::parse(req) {
            Ok(IfNoneMatch::Any) => true,
            Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(etag)),
            Err(_) => false,
        };
    }
    match IfModifiedSince::parse(req) {
        Ok(IfModifiedSince(since)) => modified <= SystemTime::from(since),
        Err(_) => false,
    }
}

/// A Range is honoured unless If-Range names another version (strong comparison).
fn if_range_holds(req: &HttpRequest, etag: &EntityTag, modified: SystemTime) -> bool {
    if !req.headers().contains_key(header::IF_RANGE) {
        return true;
    }
    match IfRange::parse(req) {
        Ok(IfRange::EntityTag(tag)) => tag.strong_eq(etag),
        Ok(IfRange::Date(date)) => SystemTime::from(date) == modified,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_literal_published_file_paths_parse() {
        assert_eq!(
            parse_path("/firmware/20180125/upd_app.bin").map(|(l, v, n)| (l, v.as_u32(), n)),
            Some(("", 20180125, "upd_app.bin"))
        );
        assert_eq!(
            parse_path("/firmware/C.3/20221228/upd_app.bin").map(|(l, v, n)| (l, v.as_u32(), n)),
            Some(("C.3", 20221228, "upd_app.bin"))
        );
        assert!(parse_path("/firmware/20180125/upd_app_for_old_frs.bin").is_some());
        for bad in [
            "/firmware/",
            "/firmware/20180125",
            "/firmware/20180125/",
            "/firmware/20180125/meta.yaml",
            "/firmware/../server.yaml",
            "/firmware/20180125/../../etc/passwd",
            "/firmware/%2e%2e/etc/passwd",
            "/firmware/20180125%2fupd_app.bin",
            "/firmware/20180125/upd_app.bin/",
            "/firmware/20180125//upd_app.bin",
            "/firmware/20180125\\upd_app.bin",
            "/firmware/.20180125/upd_app.bin",
            "/firmware//etc/passwd",
            "/firmware/20180125/.upd_app.bin",
            "//firmware/20180125/upd_app.bin",
            "/firmware/../20180125/upd_app.bin",
            "/firmware/.C.3/20180125/upd_app.bin",
            "/firmware/C.3/../20180125/upd_app.bin",
            "/firmware/C.3/20180125/line.yaml",
            "/firmware/C.3/C.3/20180125/upd_app.bin",
        ] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
    }
}
