//! `publish`'s zip reader, the bytes of an archive someone mailed: never a panic, never
//! more memory than its bounds, and whatever it accepts keeps them: two non-empty firmware
//! files of at most `FILE_MAX` bytes each, a `meta.yaml` of at most `META_MAX`. Seed it
//! with a few real zips in `corpus/zip_source/` (see README, "Fuzzing").
#![no_main]

use kkt_update_server::publishing::source::{zip_contents, FILE_MAX, META_MAX};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(contents) = zip_contents(std::io::Cursor::new(data), "fuzz.zip") else { return };
    for file in &contents.files {
        assert!(!file.is_empty() && file.len() as u64 <= FILE_MAX);
    }
    if let Some(meta) = &contents.meta {
        assert!(meta.len() as u64 <= META_MAX);
    }
});
