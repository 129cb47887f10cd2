//! Request bodies of `check_firmware` and `feature_licenses`: never a panic, errors are 4xx,
//! and an accepted build date is a real date.
#![no_main]

use actix_web::ResponseError;
use kkt_update_server::device_api::device_requests;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match device_requests::build_date(body) {
        Ok(version) => assert!(kkt_update_server::model::version::Version::from_yyyymmdd(version.as_u32()).is_some()),
        Err(error) => assert!(error.status_code().is_client_error()),
    }
    if let Err(error) = device_requests::serial(body) {
        assert!(error.status_code().is_client_error());
    }
});
