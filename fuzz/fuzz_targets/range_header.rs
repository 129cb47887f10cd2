//! `Range` headers: never a panic, and a range is always inside the file.
#![no_main]

use kkt_update_server::device_api::byte_range::{answer, RangeAnswer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u32)| {
    let (header, size) = input;
    let size = u64::from(size.max(1));
    if let RangeAnswer::Part(range) = answer(header, size) {
        assert!(range.start < range.end && range.end <= size);
    }
});
