//! The answer to `check_firmware`: what a device with a given build date is offered. A pure
//! function of the snapshot, the build date and the URL base.

use serde::Serialize;

use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::catalog::snapshot::Snapshot;
use crate::model::version::Version;

/// The reference's response, fields in the reference's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirmwareOffer {
    pub update_available: bool,
    pub critical: bool,
    pub version: u32,
    pub description: String,
    pub url: String,
    pub url_old_frs: String,
}

/// What a device built on `build` is offered. With no release published the answer is
/// still a well-formed "no update" (a non-200 would stop the JavaPOS driver's update thread).
pub fn offer(snapshot: &Snapshot, build: Version, base: &str) -> FirmwareOffer {
    let Some(current) = snapshot.releases.current() else {
        return FirmwareOffer {
            update_available: false,
            critical: false,
            version: 0,
            description: String::new(),
            url: String::new(),
            url_old_frs: String::new(),
        };
    };
    let [new_frs, old_frs] = FIRMWARE_FILES;
    FirmwareOffer {
        update_available: build < current.version,
        critical: snapshot.critical.is_some_and(|c| build < c.version),
        version: current.version.as_u32(),
        description: current.description.clone(),
        url: format!("{base}/firmware/{}/{new_frs}", current.version),
        url_old_frs: format!("{base}/firmware/{}/{old_frs}", current.version),
    }
}
