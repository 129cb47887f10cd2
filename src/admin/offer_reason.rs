//! Why a register is, or is not, offered an update, in plain words for its page on the
//! dashboard: a pure function of the loaded releases (the snapshot), the build date the
//! inventory last heard from the device, and whether it was admitted to each release under
//! rollout. It asks the same `firmware_offer::offer` the device's own request asks, so the
//! page cannot disagree with what the device is told; it admits nobody. Where a rollout
//! keeps the device from a newer release, `kept_by` (`admission_reason`) says which rule.

use serde::Serialize;

use crate::admin::admission_reason::KeptBy;
use crate::catalog::device_line::DeviceLine;
use crate::catalog::firmware_offer::{offer, FirmwareOffer};
use crate::catalog::releases::Release;
use crate::catalog::snapshot::{LineView, Snapshot};
use crate::model::version::Version;
use crate::rollout::rules::Rollout;
use crate::words::dashboard::Text;

/// The reason, with what the words need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Why {
    /// The device never sent a build date (it asked only for licenses).
    NoBuildDate,
    /// Its build date belongs to no line, and unknown builds are not served.
    UnknownBuild { build: u32 },
    /// Its build date is in several lines' `builds`: no update until that is fixed.
    AmbiguousLine { build: u32 },
    /// Its line has no published release.
    NoRelease { line: String, build: u32 },
    /// It already runs the newest release it may have.
    UpToDate {
        line: String,
        build: u32,
        current: u32,
    },
    /// It is offered `version`; `critical` when its build is below the line's critical
    /// version (`critical_version`); `held_back`: a newer release under rollout it is not
    /// admitted to, and `kept_by` the rule that keeps it.
    Offered {
        line: String,
        build: u32,
        version: u32,
        critical: bool,
        critical_version: Option<u32>,
        held_back: Option<u32>,
        kept_by: Option<KeptBy>,
    },
    /// Its build is below `floor`, a floor of its line's upgrade path, and the line has a
    /// newer release (`newest`): it is offered at most the floor. `offered` is what it is
    /// offered (the floor, or below it while the floor's rollout has not admitted it; its
    /// own build when nothing; then `kept_by` is the rule of the floor's rollout that
    /// keeps it).
    BelowFloor {
        line: String,
        build: u32,
        floor: u32,
        newest: u32,
        offered: u32,
        critical: bool,
        critical_version: Option<u32>,
        kept_by: Option<KeptBy>,
    },
    /// A newer release exists, but its rollout has not admitted this device (yet):
    /// `percent` is the share admitted now (the current stage's), `kept_by` the rule.
    NotAdmitted {
        line: String,
        build: u32,
        version: u32,
        percent: u8,
        paused: bool,
        below_critical: bool,
        kept_by: KeptBy,
    },
}

/// Why the device of `build` (as the inventory last heard it) is or is not offered an
/// update; `admitted(line, release)` says whether it was admitted to a release under rollout,
/// and `kept(line, release, rollout)` which rule keeps it from one it is not admitted to.
pub fn why(
    snapshot: &Snapshot,
    build: Option<u32>,
    admitted: &dyn Fn(&str, &Release) -> bool,
    kept: &dyn Fn(&str, &Release, &Rollout) -> KeptBy,
) -> Why {
    let (line, build) = match line_of(snapshot, build) {
        Ok(found) => found,
        Err(why) => return *why,
    };
    let build_number = build.as_u32();
    let line_name = line.name.to_string();
    // The page admits nobody: either way of asking is the memory's answer.
    let answer = offer(&line, build, "", &mut |release, _| {
        admitted(line.name, release)
    });
    // The newest release newer than the answer that its rollout keeps from this device.
    let held = line
        .releases
        .published()
        .rev()
        .take_while(|r| r.version.as_u32() > answer.version.max(build_number))
        .find(|r| r.rollout.is_some() && !admitted(line.name, r));
    let critical = line.critical().map(Version::as_u32);
    let kept_from = |release: &Release| {
        release
            .rollout
            .as_ref()
            .map(|rollout| kept(line.name, release, rollout))
    };
    if let Some(why) = below_floor(&line, build, &answer, &kept_from) {
        return why;
    }
    if answer.update_available {
        return Why::Offered {
            line: line_name,
            build: build_number,
            version: answer.version,
            critical: answer.critical,
            critical_version: critical,
            held_back: held.map(|r| r.version.as_u32()),
            kept_by: held.and_then(|r| kept_from(r)),
        };
    }
    match held.and_then(|r| r.rollout.as_ref().map(|rollout| (r, rollout))) {
        Some((release, rollout)) => {
            let kept_by = kept(line.name, release, rollout);
            Why::NotAdmitted {
                line: line_name,
                build: build_number,
                version: release.version.as_u32(),
                percent: kept_by.percent,
                paused: rollout.paused,
                below_critical: critical.is_some_and(|c| build_number < c),
                kept_by,
            }
        }
        None => Why::UpToDate {
            line: line_name,
            build: build_number,
            current: answer.version,
        },
    }
}

/// Held at a floor: the floor is the most the device may be offered, and something is
/// newer; `kept_from(floor)` says what keeps it from the floor when it is offered less.
fn below_floor(
    line: &LineView<'_>,
    build: Version,
    answer: &FirmwareOffer,
    kept_from: &dyn Fn(&Release) -> Option<KeptBy>,
) -> Option<Why> {
    let floor = line.releases.floor_above(build)?;
    let newest = line.releases.current()?.version;
    if newest <= floor || answer.version > floor.as_u32() {
        return None;
    }
    Some(Why::BelowFloor {
        line: line.name.to_string(),
        build: build.as_u32(),
        floor: floor.as_u32(),
        newest: newest.as_u32(),
        offered: if answer.update_available {
            answer.version
        } else {
            build.as_u32()
        },
        critical: answer.critical,
        critical_version: line.critical().map(Version::as_u32),
        kept_by: line
            .releases
            .published()
            .find(|r| r.version == floor && r.version.as_u32() > answer.version)
            .and_then(|r| kept_from(r)),
    })
}

/// The line that serves a device of `build` and the build as a version, or the reason it
/// is offered nothing before any release is looked at (boxed: the reason is large).
fn line_of(snapshot: &Snapshot, build: Option<u32>) -> Result<(LineView<'_>, Version), Box<Why>> {
    let Some(build_number) = build else {
        return Err(Box::new(Why::NoBuildDate));
    };
    let unknown = || {
        Box::new(Why::UnknownBuild {
            build: build_number,
        })
    };
    let build = Version::from_yyyymmdd(build_number).ok_or_else(unknown)?;
    let name = match snapshot.line_index.line_of(build) {
        DeviceLine::Ambiguous(_) => {
            return Err(Box::new(Why::AmbiguousLine {
                build: build_number,
            }))
        }
        found => found.serving_line(),
    };
    let line = name
        .and_then(|name| snapshot.line(name))
        .ok_or_else(unknown)?;
    if line.releases.current().is_none() {
        return Err(Box::new(Why::NoRelease {
            line: line.name.to_string(),
            build: build_number,
        }));
    }
    Ok((line, build))
}

/// A yyyymmdd number as the dashboard writes dates: DD.MM.YYYY.
pub fn date(yyyymmdd: u32) -> String {
    crate::model::version::day_month_year(yyyymmdd)
}

impl Why {
    /// The short code (`up_to_date`, `offered`, …), as in the JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Why::NoBuildDate => "no_build_date",
            Why::UnknownBuild { .. } => "unknown_build",
            Why::AmbiguousLine { .. } => "ambiguous_line",
            Why::NoRelease { .. } => "no_release",
            Why::UpToDate { .. } => "up_to_date",
            Why::Offered { .. } => "offered",
            Why::BelowFloor { .. } => "below_floor",
            Why::NotAdmitted { .. } => "not_admitted",
        }
    }

    /// The rule of a rollout that keeps the device from a newer release, when one does.
    pub fn kept_by(&self) -> Option<&KeptBy> {
        match self {
            Why::Offered { kept_by, .. } | Why::BelowFloor { kept_by, .. } => kept_by.as_ref(),
            Why::NotAdmitted { kept_by, .. } => Some(kept_by),
            _ => None,
        }
    }

    /// The reason in plain words, in the language of `t`.
    pub fn words(&self, t: &Text) -> String {
        match self {
            Why::NoBuildDate => t.pages.why_no_build_date.to_string(),
            Why::UnknownBuild { build } => fill(t, t.pages.why_unknown_build, "", *build, 0),
            Why::AmbiguousLine { build } => fill(t, t.pages.why_ambiguous_line, "", *build, 0),
            Why::NoRelease { line, build } => fill(t, t.pages.why_no_release, line, *build, 0),
            Why::UpToDate {
                line,
                build,
                current,
            } => fill(t, t.pages.why_up_to_date, line, *build, *current),
            Why::Offered {
                line,
                build,
                version,
                critical,
                critical_version,
                held_back,
                kept_by,
            } => {
                let critical = critical_version.filter(|_| *critical);
                sentences([
                    Some(fill(t, t.pages.why_offered, line, *build, *version)),
                    critical.map(|c| fill(t, t.pages.why_below_critical, line, *build, c)),
                    held_back.map(|held| fill(t, t.pages.why_held_back, line, *build, held)),
                    kept_by.as_ref().map(|kept_by| kept_by.words(t)),
                ])
            }
            Why::BelowFloor { .. } => self.below_floor_words(t),
            Why::NotAdmitted {
                line,
                build,
                version,
                percent,
                below_critical,
                kept_by,
                ..
            } => sentences([
                Some(
                    fill(t, t.pages.why_not_admitted, line, *build, *version)
                        .replace("{percent}", &percent.to_string()),
                ),
                // Paused or not, the rule says it (`why_paused` when paused).
                Some(kept_by.words(t)),
                below_critical.then(|| t.pages.why_not_admitted_critical.to_string()),
            ]),
        }
    }
    /// `BelowFloor` in words (`words` calls it for that reason only).
    fn below_floor_words(&self, t: &Text) -> String {
        let Why::BelowFloor {
            line,
            build,
            floor,
            newest,
            offered,
            critical,
            critical_version,
            kept_by,
        } = self
        else {
            return String::new();
        };
        let floors = |template: &str, version: u32| {
            fill(t, template, line, *build, version)
                .replace("{floor}", &date(*floor))
                .replace("{newest}", &date(*newest))
        };
        let critical = critical_version.filter(|_| *critical);
        let critical = critical.map(|c| fill(t, t.pages.why_below_critical, line, *build, c));
        if offered == floor {
            return sentences([Some(floors(t.pages.why_below_floor, *offered)), critical]);
        }
        let meanwhile = if offered > build {
            t.pages.why_below_floor_meanwhile
        } else {
            t.pages.why_below_floor_nothing
        };
        sentences([
            Some(floors(t.pages.why_below_floor_not_admitted, *offered)),
            kept_by.as_ref().map(|kept_by| kept_by.words(t)),
            Some(floors(meanwhile, *offered)),
            critical,
        ])
    }
}

/// A template with the line, the build and the version filled in.
fn fill(t: &Text, template: &str, line: &str, build: u32, version: u32) -> String {
    template
        .replace("{line}", t.line_name(line))
        .replace("{build}", &date(build))
        .replace("{version}", &date(version))
}

/// The sentences that are there, one space apart.
fn sentences<const N: usize>(parts: [Option<String>; N]) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::config::{parse_file, Config};
    use crate::words::en::DASHBOARD as EN;
    use crate::words::ru::DASHBOARD as RU;

    /// The page's own rule: `decide` at noon, stage 1, nobody admitted this hour.
    fn kept(line: &str, release: &Release, rollout: &Rollout) -> KeptBy {
        kept_at(line, release, rollout, 1)
    }

    fn kept_at(line: &str, release: &Release, rollout: &Rollout, stage: u8) -> KeptBy {
        let standing = crate::rollout::admissions::Standing {
            moment: crate::rollout::rules::Moment {
                local_minute: 12 * 60,
                admitted_last_hour: 0,
                halted: false,
                stage,
            },
            halt: None,
            stage: Some(crate::rollout::admissions::StageNow {
                record: crate::rollout::stages::StageRecord {
                    stage,
                    ..Default::default()
                },
                figures: None,
            }),
        };
        let address = "192.0.2.1".parse().unwrap();
        crate::admin::admission_reason::kept_by(
            rollout,
            address,
            line,
            release.version,
            &standing,
            0,
        )
    }

    fn snapshot(dir: &std::path::Path, yaml: &str) -> Snapshot {
        let config =
            Config::resolve(&Default::default(), parse_file(yaml).unwrap(), dir, None).unwrap();
        Snapshot::scan(
            &config.scan_settings(),
            SystemTime::now() + Duration::from_secs(10),
            None,
            &Default::default(),
        )
    }

    /// Release folders under `dir/firmware`, each `(version, meta.yaml)`, whose two files
    /// hold the version's digits.
    fn release_folders(dir: &std::path::Path, releases: &[(&str, &str)]) {
        for (version, meta) in releases {
            let folder = dir.join("firmware").join(version);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("upd_app.bin"), version).unwrap();
            std::fs::write(folder.join("upd_app_for_old_frs.bin"), version).unwrap();
            std::fs::write(folder.join("meta.yaml"), meta).unwrap();
        }
    }

    #[test]
    fn each_reason_is_said_in_both_languages_with_every_placeholder_filled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("firmware")).unwrap();
        let none = snapshot(dir.path(), "critical_version: 20180120\n");
        let nobody = |_: &str, _: &Release| false;
        assert_eq!(
            why(&none, Some(20180101), &nobody, &kept),
            Why::NoRelease {
                line: String::new(),
                build: 20180101
            }
        );
        let folder = dir.path().join("firmware/20180125");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("upd_app.bin"), "a").unwrap();
        std::fs::write(folder.join("upd_app_for_old_frs.bin"), "b").unwrap();
        let one = snapshot(dir.path(), "critical_version: 20180120\n");
        let reasons = [
            why(&one, None, &nobody, &kept),
            why(&one, Some(20181340), &nobody, &kept),
            why(&one, Some(20180101), &nobody, &kept),
            why(&one, Some(20180122), &nobody, &kept),
            why(&one, Some(20180125), &nobody, &kept),
            why(&none, Some(20180101), &nobody, &kept),
        ];
        let codes: Vec<&str> = reasons.iter().map(Why::code).collect();
        assert_eq!(
            codes,
            [
                "no_build_date",
                "unknown_build",
                "offered",
                "offered",
                "up_to_date",
                "no_release"
            ]
        );
        assert!(matches!(reasons[2], Why::Offered { critical: true, .. }));
        assert!(matches!(
            reasons[3],
            Why::Offered {
                critical: false,
                ..
            }
        ));
        for reason in &reasons {
            for t in [&RU, &EN] {
                let words = reason.words(t);
                assert!(!words.contains('{') && !words.is_empty(), "{words}");
            }
        }
        assert!(
            reasons[2].words(&RU).contains("20.01.2018"),
            "{}",
            reasons[2].words(&RU)
        );
    }

    #[test]
    fn below_a_floor_the_reason_names_the_floor_and_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        release_folders(
            dir.path(),
            &[
                ("20230101", "floor: true\n"),
                ("20240101", "floor: true\nrollout:\n  percent: 0\n"),
                ("20250101", ""),
            ],
        );
        let snapshot = snapshot(dir.path(), "");
        let nobody = |_: &str, _: &Release| false;
        let reason = why(&snapshot, Some(20220101), &nobody, &kept);
        assert_eq!(
            reason,
            Why::BelowFloor {
                line: String::new(),
                build: 20220101,
                floor: 20230101,
                newest: 20250101,
                offered: 20230101,
                critical: false,
                critical_version: None,
                kept_by: None,
            }
        );
        assert_eq!(reason.code(), "below_floor");
        assert!(
            reason
                .words(&EN)
                .starts_with("Below a floor: offered floor 01.01.2023 before 01.01.2025"),
            "{}",
            reason.words(&EN)
        );
        // The next floor's rollout has not admitted it: nothing newer meanwhile.
        let held = why(&snapshot, Some(20230101), &nobody, &kept);
        assert!(matches!(
            held,
            Why::BelowFloor {
                floor: 20240101,
                offered: 20230101,
                ..
            }
        ));
        assert!(
            held.words(&EN).contains("has not admitted") && held.words(&EN).contains("no update"),
            "{}",
            held.words(&EN)
        );
        // The floor's rollout (percent: 0) keeps it, by its bucket.
        assert_eq!(held.kept_by().map(KeptBy::code), Some("not_in_percent"));
        assert!(
            held.words(&EN)
                .contains("and the rollout admits buckets below 0."),
            "{}",
            held.words(&EN)
        );
        // Once the second floor admits it, it is offered that floor.
        let admitted = |_: &str, r: &Release| r.version.as_u32() == 20240101;
        assert!(matches!(
            why(&snapshot, Some(20230101), &admitted, &kept),
            Why::BelowFloor {
                floor: 20240101,
                offered: 20240101,
                ..
            }
        ));
        assert_eq!(
            why(&snapshot, Some(20240101), &nobody, &kept).code(),
            "offered"
        );
        for reason in [reason, held] {
            for t in [&RU, &EN] {
                let words = reason.words(t);
                assert!(!words.contains('{') && !words.is_empty(), "{words}");
            }
        }
    }

    /// With stages, the share named is the current stage's, not the first's (which
    /// `Rollout.percent` holds), and the rule that keeps the register is said.
    #[test]
    fn not_admitted_names_the_current_stages_share_and_the_rule() {
        let dir = tempfile::tempdir().unwrap();
        release_folders(
            dir.path(),
            &[
                ("20240101", ""),
                (
                    "20250101",
                    "rollout:\n  stages: [{percent: 0, soak: 1h}, {percent: 25, soak: 1h}, {percent: 100}]\n",
                ),
            ],
        );
        let snapshot = snapshot(dir.path(), "");
        let nobody = |_: &str, _: &Release| false;
        let second =
            |line: &str, release: &Release, rollout: &Rollout| kept_at(line, release, rollout, 2);
        let reason = why(&snapshot, Some(20240101), &nobody, &second);
        let Why::NotAdmitted {
            percent, kept_by, ..
        } = &reason
        else {
            panic!("{reason:?}");
        };
        assert_eq!((*percent, kept_by.percent), (25, 25));
        let words = reason.words(&EN);
        assert!(words.contains("(25% of registers)"), "{words}");
        let json = serde_json::to_value(&reason).unwrap();
        assert_eq!(json["code"], "not_admitted");
        assert_eq!(json["percent"], 25);
        assert_eq!(json["kept_by"]["percent"], 25);
        assert_eq!(json["kept_by"]["stage"]["number"], 2);
        // A register offered the older release: the held-back one's rule is said too.
        let offered = why(&snapshot, Some(20230101), &nobody, &kept);
        assert_eq!(offered.code(), "offered");
        assert_eq!(offered.kept_by().map(KeptBy::code), Some("not_in_percent"));
        for t in [&RU, &EN] {
            for reason in [&reason, &offered] {
                let words = reason.words(t);
                assert!(!words.contains('{'), "{words}");
            }
        }
    }
}
