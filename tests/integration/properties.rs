//! Property tests over every parser that sees outside input: request bodies, build dates,
//! `.slf` lines, `meta.yaml`, `Range` headers, firmware paths, and the JSON writer. None may
//! panic, and the answers keep their promises (a resolved path is always one of the two
//! firmware files of a dated folder; a range is always inside the file).

use actix_web::ResponseError;
use kkt_update_server::catalog::release_meta::ReleaseMeta;
use kkt_update_server::device_api::byte_range::{self, RangeAnswer};
use kkt_update_server::device_api::device_requests;
use kkt_update_server::device_api::firmware_download::parse_path;
use kkt_update_server::licenses::slf;
use kkt_update_server::model::py_json;
use kkt_update_server::model::version::Version;
use proptest::prelude::*;

fn json_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\{\"build_date\": \"[0-9.]{0,12}\"\\}",
        "\\{\"serial\": (\"[0-9 ]{0,20}\"|-?[0-9]{1,25}|[0-9]\\.[0-9]e[0-9]{1,3}|null|true|\\[\\])\\}",
        "[\\[\\{\"a-z0-9:,. ]{0,64}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn request_bodies_never_panic_and_errors_are_4xx(body in prop_oneof![json_like().prop_map(String::into_bytes), any::<Vec<u8>>()]) {
        for result in [device_requests::build_date(&body).map(|_| ()), device_requests::serial(&body).map(|_| ())] {
            if let Err(error) = result {
                let status = error.status_code().as_u16();
                prop_assert!((400..500).contains(&status), "{error}: {status}");
            }
        }
    }

    #[test]
    fn build_dates_are_real_dates_or_nothing(text in prop_oneof![any::<String>(), "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,5}"]) {
        if let Some(version) = Version::parse_build_date(&text) {
            let value = version.as_u32();
            let (day, month, year): (u32, u32, u32) = {
                let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or(u32::MAX));
                (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0))
            };
            prop_assert_eq!(value, year * 10_000 + month * 100 + day);
            prop_assert!(chrono::NaiveDate::from_ymd_opt(i32::try_from(year).unwrap_or(0), month, day).is_some());
        }
    }

    #[test]
    fn slf_lines_never_panic_and_good_ones_round_trip(
        line in prop_oneof![any::<String>(), "[0-9]{14,18}\t[0-9a-fA-F]{126,130}\t[0-9a-fA-F]{126,130}"]
    ) {
        if let Ok((serial, record)) = slf::parse_line(&line) {
            let fields: Vec<&str> = line.split('\t').map(|f| f.trim_matches(' ')).collect();
            prop_assert_eq!(serial.to_string(), fields[0]);
            prop_assert_eq!(record.licenses.to_hex(), fields[1]);
            prop_assert_eq!(record.signature.to_hex(), fields[2]);
        }
    }

    #[test]
    fn slf_files_never_panic(bytes in any::<Vec<u8>>()) {
        let parsed = slf::parse(std::path::Path::new("x.slf"), &bytes[..], bytes.len() as u64);
        prop_assert!(parsed.is_ok());
    }

    #[test]
    fn meta_yaml_never_panics(text in prop_oneof![
        any::<String>(),
        "(description|critical|sha256|critcal): [a-z0-9\\[\\]{}: \"]{0,30}\n(  upd_app.bin: [0-9a-f]{0,70}\n)?",
    ]) {
        let version = Version::from_yyyymmdd(20180125).expect("date");
        let _ = ReleaseMeta::parse(version, &text);
    }

    #[test]
    fn firmware_paths_resolve_only_to_the_two_files_of_a_dated_folder(
        path in prop_oneof![
            any::<String>(),
            "/firmware/[0-9./%2efc\\\\]{0,12}/(upd_app.bin|upd_app_for_old_frs.bin|\\.\\.|%2e%2e)",
            "/firmware/(\\.\\./|%2e%2e/|/)+(etc/passwd|upd_app.bin)",
            "/firmware/[A-Za-z0-9.%/_-]{0,8}/[0-9]{8}/(upd_app.bin|\\.\\.|line.yaml)",
        ]
    ) {
        if let Some((line, version, name)) = parse_path(&path) {
            let folder = if line.is_empty() { version.to_string() } else { format!("{line}/{version}") };
            prop_assert_eq!(path.as_str(), format!("/firmware/{folder}/{name}"));
            prop_assert!(name == "upd_app.bin" || name == "upd_app_for_old_frs.bin");
            prop_assert!(!line.starts_with('.') && !line.contains(['/', '%', '\\']));
        }
    }

    #[test]
    fn ranges_stay_inside_the_file(header in prop_oneof![any::<String>(), "bytes=[0-9]{0,21}-[0-9]{0,21}", "bytes=-[0-9]{0,21}"], size in 1u64..10_000_000) {
        if let RangeAnswer::Part(range) = byte_range::answer(&header, size) {
            prop_assert!(range.start < range.end && range.end <= size, "{header} {size} {range:?}");
        }
    }

    #[test]
    fn json_strings_are_ascii_and_read_back_the_same(text in any::<String>()) {
        let bytes = py_json::to_vec(&text).expect("serializes");
        prop_assert!(bytes.is_ascii());
        prop_assert!(!bytes.windows(2).any(|w| w == b"</"));
        let back: String = serde_json::from_slice(&bytes).expect("valid JSON");
        prop_assert_eq!(back, text);
    }
}
