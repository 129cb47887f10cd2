//! Every other file below `firmware_dir`, served from disk as the reference's
//! `StaticFileHandler` serves its whole firmware folder: release notes, a driver installer,
//! a PDF for technicians. actix-files (`NamedFile`) gives `Content-Type` by extension,
//! `ETag`/`Last-Modified`/304, `Range` and HEAD.
//!
//! The two firmware file names are never served from disk, anywhere below `firmware_dir`:
//! they come only from published releases, from the bytes validated in memory
//! (`firmware_download`). Never served either: the server's own files (configuration,
//! licenses, TLS key and certificate, inventory, access log: `check` refuses a
//! `firmware_dir` holding them, and this is the second lock, which also knows a hard link
//! to one of them for the file it is), anything outside `firmware_dir` (`..`,
//! encoded separators, symbolic links pointing out), folders, names starting with `.` and
//! whatever is inside such folders (`.staging-…`), `meta.yaml` and `line.yaml`. Names are
//! compared without regard to ASCII case, and names Windows would quietly read as another
//! (`upd_app.bin.`, `upd_app.bin::$DATA`) are refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_files::NamedFile;
use actix_web::{web, HttpRequest, HttpResponse};
use percent_encoding::percent_decode_str;

use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::config::firmware_dir_guard::{self, PrivateFile};
use crate::device_api::api_error::ApiError;

/// Names that exist below `firmware_dir` but are the server's, not for download.
const PRIVATE_NAMES: [&str; 2] = ["meta.yaml", "line.yaml"];

/// Whether `name` is one of the two firmware file names (in any letter case).
pub fn is_firmware_name(name: &str) -> bool {
    FIRMWARE_FILES.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// The path segments below `/firmware/` of a raw request path, decoded, if every one of
/// them may be served; `None` for anything that must answer 404.
pub fn segments(raw_path: &str) -> Option<Vec<String>> {
    let tail = raw_path.strip_prefix("/firmware/")?;
    let mut out = Vec::new();
    for raw in tail.split('/') {
        let segment = percent_decode_str(raw).decode_utf8().ok()?;
        let refused = segment.is_empty()
            || segment.starts_with('.')
            || segment.ends_with(['.', ' '])
            || segment.contains(['/', '\\', ':', '\0']);
        if refused {
            return None;
        }
        out.push(segment.into_owned());
    }
    let last = out.last()?;
    if is_firmware_name(last) || PRIVATE_NAMES.iter().any(|p| p.eq_ignore_ascii_case(last)) {
        return None;
    }
    Some(out)
}

/// The file on disk for `segments`, if it is a regular file that really lies below `root`
/// (`firmware_dir` as the last scan resolved and checked it) once symbolic links are
/// resolved. `root` is not resolved again: if a folder on its way has become a link
/// since, the file resolves elsewhere and is refused.
fn locate(root: &Path, segments: &[String], private: &[PrivateFile]) -> Option<PathBuf> {
    let path = segments
        .iter()
        .fold(root.to_path_buf(), |path, segment| path.join(segment))
        .canonicalize()
        .ok()?;
    let inside = path.strip_prefix(root).ok()?;
    // A link inside may lead to a firmware file or a dot-folder under another name.
    let names_ok = inside.components().all(|c| {
        let name = c.as_os_str().to_string_lossy();
        !name.starts_with('.')
    });
    let last_ok = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| !is_firmware_name(&n) && !PRIVATE_NAMES.contains(&n.as_ref()));
    let meta = std::fs::metadata(&path)
        .ok()
        .filter(std::fs::Metadata::is_file)?;
    let own = firmware_dir_guard::is_private(&path, Some(&meta), private);
    (names_ok && last_ok && !own).then_some(path)
}

/// Serves the file named by the request path from below `root` (`Snapshot::static_root`),
/// or 404.
pub async fn serve(
    req: &HttpRequest,
    root: &Path,
    private: Arc<[PrivateFile]>,
) -> Result<HttpResponse, ApiError> {
    let raw_path = req.uri().path().to_string();
    let not_found = || ApiError::NotFound(raw_path.clone());
    let segments = segments(&raw_path).ok_or_else(not_found)?;
    let dir = root.to_path_buf();
    // Resolving links and opening touch the disk: off the worker (a share may be slow).
    let file =
        web::block(move || locate(&dir, &segments, &private).and_then(|p| NamedFile::open(p).ok()))
            .await
            .ok()
            .flatten()
            .ok_or_else(not_found)?;
    Ok(file
        .disable_content_disposition()
        .use_etag(true)
        .use_last_modified(true)
        .into_response(req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_below_firmware_pass() {
        assert_eq!(
            segments("/firmware/docs/notes.txt"),
            Some(vec!["docs".to_string(), "notes.txt".to_string()])
        );
        assert_eq!(
            segments("/firmware/20250301/%D0%B7%D0%B0%D0%BC%D0%B5%D1%82%D0%BA%D0%B8%20v2.pdf"),
            Some(vec!["20250301".to_string(), "заметки v2.pdf".to_string()])
        );
        for bad in [
            "/firmware/",
            "/firmware/docs/",
            "/firmware/docs//a.txt",
            "/firmware/../server.yaml",
            "/firmware/%2e%2e/server.yaml",
            "/firmware/docs%2f..%2f..%2fserver.yaml",
            "/firmware/docs%5c..%5cserver.yaml",
            "/firmware/.staging-20250301/notes.txt",
            "/firmware/docs/.hidden",
            "/firmware/20250301/upd_app.bin",
            "/firmware/docs/UPD_APP.BIN",
            "/firmware/docs/upd_app_for_old_frs.bin",
            "/firmware/20250301/meta.yaml",
            "/firmware/line-c3/line.yaml",
            "/firmware/docs/upd_app.bin.",
            "/firmware/docs/upd_app.bin%20",
            "/firmware/docs/upd_app.bin::$DATA",
            "/firmware/docs/a%00.txt",
            "/firmware/docs/%ff.txt",
        ] {
            assert_eq!(segments(bad), None, "{bad}");
        }
    }

    #[test]
    fn links_out_and_links_to_firmware_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let fw = dir.path().join("firmware");
        std::fs::create_dir_all(fw.join("docs")).unwrap();
        std::fs::create_dir_all(fw.join("20250301")).unwrap();
        std::fs::write(fw.join("docs/notes.txt"), "hello").unwrap();
        std::fs::write(fw.join("20250301/upd_app.bin"), "fw").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
        // As `Snapshot::static_root` gives it: resolved.
        let fw = fw.canonicalize().unwrap();
        let seg = |s: &str| segments(&format!("/firmware/{s}")).unwrap();
        assert!(locate(&fw, &seg("docs/notes.txt"), &[]).is_some());
        assert!(locate(&fw, &seg("docs"), &[]).is_none(), "no folders");
        let private = [PrivateFile {
            what: "the license file",
            path: fw.join("docs/notes.txt").canonicalize().unwrap(),
            with_siblings: false,
        }];
        assert!(
            locate(&fw, &seg("docs/notes.txt"), &private).is_none(),
            "the server's own file"
        );
        std::fs::create_dir_all(fw.join("docs/keys")).unwrap();
        std::fs::write(fw.join("docs/keys/a.slf"), "key").unwrap();
        let folder = [PrivateFile {
            what: "the license folder",
            path: fw.join("docs/keys").canonicalize().unwrap(),
            with_siblings: false,
        }];
        assert!(
            locate(&fw, &seg("docs/keys/a.slf"), &folder).is_none(),
            "a file in a private folder"
        );
        assert!(locate(&fw, &seg("docs/notes.txt"), &folder).is_some());
        #[cfg(unix)]
        {
            std::fs::hard_link(fw.join("docs/notes.txt"), fw.join("docs/copy.txt")).unwrap();
            assert!(
                locate(&fw, &seg("docs/copy.txt"), &private).is_none(),
                "a hard link to the server's own file"
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), fw.join("docs/out.txt"))
                .unwrap();
            std::os::unix::fs::symlink(fw.join("20250301/upd_app.bin"), fw.join("docs/fw.txt"))
                .unwrap();
            assert!(locate(&fw, &seg("docs/out.txt"), &[]).is_none(), "link out");
            assert!(
                locate(&fw, &seg("docs/fw.txt"), &[]).is_none(),
                "link to firmware"
            );
        }
    }
}
