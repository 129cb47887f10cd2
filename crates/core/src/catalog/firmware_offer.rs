//! The answer to `check_firmware`: what a device with a given build date is offered from its
//! line. A pure function of the line, the build date, the URL base, and whether the device
//! is admitted to a release under rollout (asked only for releases newer than its build).

use serde::Serialize;

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::catalog::releases::Release;
use crate::catalog::snapshot::LineView;
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

impl FirmwareOffer {
    /// "No update", well formed: a non-200 would stop the JavaPOS driver's update thread.
    pub fn nothing() -> FirmwareOffer {
        FirmwareOffer {
            update_available: false,
            critical: false,
            version: 0,
            description: String::new(),
            url: String::new(),
            url_old_frs: String::new(),
        }
    }
}

/// The URL path of a release's file: `/firmware/[<line>/]<yyyymmdd>/<name>`.
pub fn file_path(line: &str, version: Version, name: &str) -> String {
    if line == DEFAULT_LINE {
        format!("/firmware/{version}/{name}")
    } else {
        format!("/firmware/{line}/{version}/{name}")
    }
}

/// What a device of `line` built on `build` is offered: the newest release that admits it
/// (`admit` decides for releases under rollout; a release at or below `build` needs no
/// admission, as it offers no update). `critical` counts the critical releases up to the one
/// offered, so a critical release still in pilot makes only its pilots critical.
pub fn offer(
    line: &LineView,
    build: Version,
    base: &str,
    admit: &mut dyn FnMut(&Release) -> bool,
) -> FirmwareOffer {
    let chosen =
        line.releases.published().rev().find(|release| {
            release.version <= build || release.rollout.is_none() || admit(release)
        });
    let Some(chosen) = chosen else {
        return FirmwareOffer::nothing();
    };
    let newest_critical = line
        .releases
        .published()
        .rev()
        .filter(|r| r.version <= chosen.version)
        .find(|r| r.critical)
        .map(|r| r.version);
    let critical = line.critical_floor.max(newest_critical);
    let [new_frs, old_frs] = FIRMWARE_FILES;
    FirmwareOffer {
        update_available: build < chosen.version,
        critical: critical.is_some_and(|c| build < c),
        version: chosen.version.as_u32(),
        description: chosen.description.clone(),
        url: format!("{base}{}", file_path(line.name, chosen.version, new_frs)),
        url_old_frs: format!("{base}{}", file_path(line.name, chosen.version, old_frs)),
    }
}
