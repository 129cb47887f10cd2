//! The answer to `check_firmware`: what a device with a given build date is offered from its
//! line. A pure function of the line, the build date, the URL base, and whether the device
//! is admitted to a release under rollout (asked only for releases newer than its build).
//!
//! Upgrade floors (`floor: true`): a device built before a floor of its line is offered at
//! most that floor (the lowest one above its build), by the usual rule below it: the
//! newest release at or below the floor that admits it. So when the floor's own rollout
//! has not admitted it yet, it is offered what is below the floor (or nothing), never
//! anything past the floor, and it is not newly admitted to any release past the floor.
//! One exception: "once admitted, always admitted". A release past the floor that had
//! admitted the device before (remembered, asked with `Ask::AdmittedBefore`) is still
//! offered; a release without a rollout admits nobody in particular, so the floor holds
//! back from it everyone below the floor.

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

/// What `offer` asks of a release under rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Is the device admitted? Admitting it now if the rollout allows.
    MayAdmit,
    /// Was the device admitted before? Nothing is admitted by asking (a release past the
    /// device's floor).
    AdmittedBefore,
}

/// What a device of `line` built on `build` is offered: the newest release that admits it
/// (`admit` decides for releases under rollout; a release at or below `build` needs no
/// admission, as it offers no update), never one past the lowest floor above `build`
/// unless it admitted the device before (see the module's note). `critical` counts the
/// critical releases up to the one offered, so a critical release still in pilot makes
/// only its pilots critical.
pub fn offer(
    line: &LineView,
    build: Version,
    base: &str,
    admit: &mut dyn FnMut(&Release, Ask) -> bool,
) -> FirmwareOffer {
    let floor = line.releases.floor_above(build);
    let chosen = line.releases.published().rev().find(|release| {
        if release.version <= build {
            return true;
        }
        if floor.is_some_and(|floor| release.version > floor) {
            return release.rollout.is_some() && admit(release, Ask::AdmittedBefore);
        }
        release.rollout.is_none() || admit(release, Ask::MayAdmit)
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

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::catalog::releases::{QuietRules, ReleaseSet};
    use crate::catalog::write_ledger::WriteLedger;

    fn v(yyyymmdd: u32) -> Version {
        Version::from_yyyymmdd(yyyymmdd).unwrap()
    }

    /// A line of releases `(version, meta.yaml)`, scanned as the server scans them.
    fn releases(dir: &Path, list: &[(u32, &str)]) -> ReleaseSet {
        for (version, meta) in list {
            let folder = dir.join(version.to_string());
            fs::create_dir_all(&folder).unwrap();
            fs::write(folder.join("upd_app.bin"), format!("new {version}")).unwrap();
            fs::write(
                folder.join("upd_app_for_old_frs.bin"),
                format!("old {version}"),
            )
            .unwrap();
            fs::write(folder.join("meta.yaml"), meta).unwrap();
        }
        ReleaseSet::scan(
            dir,
            QuietRules::plain(Duration::ZERO),
            SystemTime::now() + Duration::from_secs(10),
            None,
            &WriteLedger::default(),
        )
        .unwrap()
    }

    fn line(releases: &ReleaseSet) -> LineView<'_> {
        LineView {
            name: DEFAULT_LINE,
            releases,
            critical_floor: None,
        }
    }

    /// The version offered to `build`, with `admit` answering for releases under rollout.
    fn offered(set: &ReleaseSet, build: u32, admit: &mut dyn FnMut(&Release, Ask) -> bool) -> u32 {
        offer(&line(set), v(build), "", admit).version
    }

    #[test]
    fn floors_are_installed_in_order_before_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let set = releases(
            dir.path(),
            &[
                (20220601, ""),
                (20230101, "floor: true\n"),
                (20230601, "floor: false\n"),
                (20240101, "floor: true\n"),
                (20250101, ""),
            ],
        );
        assert_eq!(set.floors(), [v(20230101), v(20240101)]);
        let mut anyone = |_: &Release, _: Ask| true;
        let path: Vec<u32> = [
            20210101, 20220601, 20221231, 20230101, 20230601, 20231231, 20240101, 20250101,
        ]
        .into_iter()
        .map(|build| offered(&set, build, &mut anyone))
        .collect();
        assert_eq!(
            path,
            [20230101, 20230101, 20230101, 20240101, 20240101, 20240101, 20250101, 20250101]
        );
        let answer = offer(&line(&set), v(20250101), "", &mut anyone);
        assert!(!answer.update_available);
    }

    #[test]
    fn a_floor_that_has_not_admitted_the_device_holds_it_below_the_floor() {
        let dir = tempfile::tempdir().unwrap();
        let set = releases(
            dir.path(),
            &[
                (20220601, ""),
                (20230101, "floor: true\nrollout:\n  percent: 0\n"),
                (20250101, "rollout:\n  percent: 100\n"),
            ],
        );
        let mut asked = Vec::new();
        let mut refuse_the_floor = |release: &Release, ask: Ask| {
            asked.push((release.version.as_u32(), ask));
            // Its bucket would let it into the newest, had it not been below the floor.
            ask == Ask::MayAdmit && release.version != v(20230101)
        };
        assert_eq!(offered(&set, 20220101, &mut refuse_the_floor), 20220601);
        // Nobody below the floor is admitted to a release past it: it is only asked whether
        // it was admitted before.
        assert_eq!(
            asked,
            [(20250101, Ask::AdmittedBefore), (20230101, Ask::MayAdmit)]
        );
        let answer = offer(&line(&set), v(20220601), "", &mut |r: &Release, ask| {
            ask == Ask::MayAdmit && r.version != v(20230101)
        });
        assert_eq!((answer.version, answer.update_available), (20220601, false));
    }

    #[test]
    fn a_device_admitted_past_the_floor_before_it_was_marked_keeps_its_release() {
        let dir = tempfile::tempdir().unwrap();
        let set = releases(
            dir.path(),
            &[
                (20230101, "floor: true\n"),
                (20240101, "rollout:\n  percent: 10\n"),
                (20250101, ""),
            ],
        );
        let mut admitted_before = |release: &Release, ask: Ask| {
            release.version == v(20240101) && ask == Ask::AdmittedBefore
        };
        assert_eq!(offered(&set, 20220101, &mut admitted_before), 20240101);
        let mut never = |_: &Release, _: Ask| false;
        assert_eq!(offered(&set, 20220101, &mut never), 20230101);
        // A release without a rollout past the floor admitted nobody in particular.
        assert_eq!(offered(&set, 20230101, &mut never), 20250101);
    }

    #[test]
    fn without_floors_the_offer_is_the_newest_that_admits() {
        let dir = tempfile::tempdir().unwrap();
        let set = releases(
            dir.path(),
            &[(20230101, ""), (20250101, "rollout:\n  percent: 10\n")],
        );
        let mut asked = Vec::new();
        let mut refuse = |release: &Release, ask: Ask| {
            asked.push((release.version.as_u32(), ask));
            false
        };
        assert_eq!(offered(&set, 20220101, &mut refuse), 20230101);
        assert_eq!(asked, [(20250101, Ask::MayAdmit)]);
        assert_eq!(set.floor_above(v(20220101)), None);
    }
}
