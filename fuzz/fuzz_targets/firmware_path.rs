//! Download paths: a resolved path is always `/firmware/<yyyymmdd>/<one of two files>`, so
//! nothing outside `firmware_dir` can ever be named.
#![no_main]

use kkt_update_server::device_api::firmware_download::parse_path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    if let Some((version, name)) = parse_path(path) {
        assert_eq!(path, format!("/firmware/{version}/{name}"));
        assert!(name == "upd_app.bin" || name == "upd_app_for_old_frs.bin");
    }
});
