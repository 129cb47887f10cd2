//! The vendor's `.slf` license files: never a panic; every accepted line round-trips.
#![no_main]

use kkt_update_server::licenses::slf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = slf::parse(std::path::Path::new("fuzz.slf"), data, data.len() as u64) else { return };
    for entry in parsed.entries {
        assert_eq!(entry.serial.to_string().len(), 16);
        assert_eq!(entry.record.licenses.to_hex().len(), 128);
    }
});
