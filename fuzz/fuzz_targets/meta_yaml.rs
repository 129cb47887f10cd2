//! `meta.yaml` of a release folder: never a panic, whatever the operator wrote.
#![no_main]

use kkt_update_server::catalog::release_meta::ReleaseMeta;
use kkt_update_server::model::version::Version;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(version) = Version::from_yyyymmdd(20250301) {
        let _ = ReleaseMeta::parse(version, text);
    }
});
