//! Which rule of a release's rollout keeps a register out, for the register's page: the
//! refusal of `rules::decide` itself (the request path's own decision, asked with what the
//! admissions memory holds now, so the page cannot tell another story than the device is
//! told; asking admits nobody), with the figures the rule compared, the stuck share behind
//! a halt, and where the stages stand when the register waits for a wider one.

use std::net::IpAddr;

use serde::Serialize;

use crate::groups::Group;
use crate::model::version::Version;
use crate::rollout::admissions::Standing;
use crate::rollout::rules::{decide, per_mille_text, Admission, Refusal, Rollout};
use crate::rollout::status::{stage_status, StageState};
use crate::words::dashboard::{duration_text, Text};

/// What keeps a register from a release under rollout (the page's `kept_by`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptBy {
    /// The rule, with its figures (`code` and the rule's fields).
    #[serde(flatten)]
    pub rule: Rule,
    /// The share admitted now: the current stage's with stages.
    pub percent: u8,
    /// With stages: where they stand.
    pub stage: Option<StageFacts>,
}

/// The rule that refused, in `decide`'s order. Codes are part of the page's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Rule {
    /// `paused: true` in its `meta.yaml`.
    Paused,
    /// Halted by its stuck registers (`since`: Unix seconds); an edit of `rollout:` resumes.
    Halted {
        since: u64,
        stuck: u64,
        finished: u64,
        stuck_percent: String,
        halt_when_stuck_percent: Option<String>,
    },
    /// The local time (`local_time`, HH:MM) is outside `window`: the time of the register's
    /// group's `time_zone` (both named) when it has one, else the server's.
    OutsideWindow {
        window: String,
        local_time: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        time_zone: Option<&'static str>,
    },
    /// Its bucket (0 to 99) is not below the share admitted now (`percent` beside it).
    NotInPercent { bucket: u8 },
    /// The hourly cap (the current stage's) is used up.
    HourlyCapReached {
        max_new_per_hour: u32,
        admitted_last_hour: u32,
    },
    /// Nothing keeps it now: it is admitted at its next update check.
    AdmittedAtNextCheck,
}

/// Where a rollout's stages stand, as far as the register's wait depends on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageFacts {
    /// The current stage, from 1, of `of`.
    pub number: u8,
    pub of: u8,
    /// As in `/status` (`soaking`, `waiting`, `advancing`, `last`, `halted`, `paused`).
    pub state: StageState,
    pub soak_left_s: u64,
    /// The next stage's share (none at the last stage).
    pub next_percent: Option<u8>,
    /// While waiting: what the stage lacks, as `/status` says it.
    pub waiting_for: Option<String>,
    /// The same in Russian (not in the JSON).
    #[serde(skip)]
    pub waiting_for_ru: Option<String>,
}

/// `kept_by_in` for a register of no group.
pub fn kept_by(
    rollout: &Rollout,
    address: IpAddr,
    line: &str,
    version: Version,
    standing: &Standing,
    now: u64,
) -> KeptBy {
    kept_by_in(rollout, address, None, line, version, standing, now)
}

/// Why `rollout` (of release `version` of `line`) does not admit `address`, of the
/// admission group `group` (by networks), standing as `standing` says at `now` (Unix
/// seconds, its minute already in the group's time zone): `decide`'s answer in the moment
/// the request path would take now.
pub fn kept_by_in(
    rollout: &Rollout,
    address: IpAddr,
    group: Option<&Group>,
    line: &str,
    version: Version,
    standing: &Standing,
    now: u64,
) -> KeptBy {
    let moment = standing.moment;
    let (percent, _) = rollout.limits_at(moment.stage);
    let group_name = group.map(|g| g.name.as_str());
    let rule = match decide(rollout, address, group_name, line, version, moment) {
        Admission::Pilot | Admission::Admitted => Rule::AdmittedAtNextCheck,
        Admission::Refused(Refusal::Paused) => Rule::Paused,
        Admission::Refused(Refusal::Halted) => {
            // Read with the moment that says halted, so it is there.
            let (since, stuck, finished) = standing
                .halt
                .as_ref()
                .map_or((0, 0, 0), |h| (h.since, h.stuck, h.finished));
            let stuck_per_mille = (stuck.min(finished) * 1000)
                .checked_div(finished)
                .unwrap_or(0);
            Rule::Halted {
                since,
                stuck,
                finished,
                stuck_percent: per_mille_text(u32::try_from(stuck_per_mille).unwrap_or(1000)),
                halt_when_stuck_percent: rollout.halt_when_stuck_per_mille.map(per_mille_text),
            }
        }
        Admission::Refused(Refusal::OutsideWindow {
            window,
            local_minute,
        }) => Rule::OutsideWindow {
            window: window.to_string(),
            local_time: format!("{:02}:{:02}", local_minute / 60, local_minute % 60),
            group: group.map(|g| g.name.clone()),
            time_zone: group.and_then(Group::time_zone_name),
        },
        Admission::Refused(Refusal::NotInPercent { bucket, .. }) => Rule::NotInPercent { bucket },
        Admission::Refused(Refusal::HourlyCapReached {
            cap,
            admitted_last_hour,
        }) => Rule::HourlyCapReached {
            max_new_per_hour: cap,
            admitted_last_hour,
        },
    };
    let stage = (!rollout.stages.is_empty()).then(|| {
        let status = stage_status(rollout, standing.stage, standing.halt.is_some(), now);
        StageFacts {
            number: status.number,
            of: status.of,
            state: status.state,
            soak_left_s: status.soak_left_s,
            next_percent: rollout
                .stages
                .get(usize::from(status.number))
                .map(|s| s.percent),
            waiting_for: status.waiting_for,
            waiting_for_ru: status.waiting_for_ru,
        }
    });
    KeptBy {
        rule,
        percent,
        stage,
    }
}

impl KeptBy {
    /// The rule's short code, as in the JSON.
    pub fn code(&self) -> &'static str {
        match self.rule {
            Rule::Paused => "paused",
            Rule::Halted { .. } => "halted",
            Rule::OutsideWindow { .. } => "outside_window",
            Rule::NotInPercent { .. } => "not_in_percent",
            Rule::HourlyCapReached { .. } => "hourly_cap_reached",
            Rule::AdmittedAtNextCheck => "admitted_at_next_check",
        }
    }

    /// The rule and its figures in plain words, in the language of `t`.
    pub fn words(&self, t: &Text) -> String {
        let w = t.pages;
        let stage = |template: &str, facts: &StageFacts| stage_words(template, facts, t);
        match &self.rule {
            Rule::Paused => w.why_paused.to_string(),
            Rule::Halted {
                stuck,
                finished,
                stuck_percent,
                halt_when_stuck_percent,
                ..
            } => w
                .kept_halted
                .replace("{stuck}", &stuck.to_string())
                .replace("{finished}", &finished.to_string())
                .replace("{share}", stuck_percent)
                .replace(
                    "{threshold}",
                    halt_when_stuck_percent.as_deref().unwrap_or("0%"),
                ),
            Rule::OutsideWindow {
                window,
                local_time,
                group,
                time_zone,
            } => window_words(t, window, local_time, group.as_deref().zip(*time_zone)),
            Rule::HourlyCapReached {
                max_new_per_hour,
                admitted_last_hour,
            } => {
                let template = match &self.stage {
                    Some(facts) => stage(w.kept_hourly_cap_stage, facts),
                    None => w.kept_hourly_cap.to_string(),
                };
                template
                    .replace("{cap}", &max_new_per_hour.to_string())
                    .replace("{admitted}", &admitted_last_hour.to_string())
            }
            Rule::AdmittedAtNextCheck => w.kept_admitted_at_next_check.to_string(),
            Rule::NotInPercent { bucket } => self.bucket_words(t, *bucket),
        }
    }
}

impl KeptBy {
    /// The share rule in words: the bucket against the share, and with stages, where they
    /// stand.
    fn bucket_words(&self, t: &Text, bucket: u8) -> String {
        let w = t.pages;
        let stage = |template: &str, facts: &StageFacts| stage_words(template, facts, t);
        let Some(facts) = &self.stage else {
            return w
                .kept_bucket
                .replace("{bucket}", &bucket.to_string())
                .replace("{percent}", &self.percent.to_string());
        };
        let mut words = stage(w.kept_bucket_stage, facts)
            .replace("{bucket}", &bucket.to_string())
            .replace("{percent}", &self.percent.to_string());
        let waiting = if t.lang == "ru" {
            &facts.waiting_for_ru
        } else {
            &facts.waiting_for
        };
        let then = match facts.state {
            StageState::Soaking => stage(w.kept_stage_soaking, facts),
            StageState::Waiting => stage(w.kept_stage_waiting, facts)
                .replace("{figures}", waiting.as_deref().unwrap_or_default()),
            StageState::Advancing => stage(w.kept_stage_advancing, facts),
            StageState::Last => stage(w.kept_stage_last, facts),
            // Refused for the share, so neither paused nor halted (decided first).
            StageState::Halted | StageState::Paused => String::new(),
        };
        if !then.is_empty() {
            words.push(' ');
            words.push_str(&then);
        }
        words
    }
}

/// A stage sentence with its figures filled in.
fn stage_words(template: &str, facts: &StageFacts, t: &Text) -> String {
    template
        .replace("{stage}", &facts.number.to_string())
        .replace("{stages}", &facts.of.to_string())
        .replace("{next}", &(u32::from(facts.number) + 1).to_string())
        .replace(
            "{next_percent}",
            &facts.next_percent.unwrap_or(100).to_string(),
        )
        .replace("{left}", &duration_text(facts.soak_left_s, t))
}

/// The window rule in words, in the language of `t`: in the server's local time, or, for a
/// register of a group with a time zone (`group_zone`: its name and zone), "New registers
/// of the group "East" are admitted only within the window 22:00-06:00 (Asia/Vladivostok
/// time), and it is 12:05 there now."
fn window_words(t: &Text, window: &str, time: &str, group_zone: Option<(&str, &str)>) -> String {
    let Some((group, zone)) = group_zone else {
        return t
            .pages
            .kept_outside_window
            .replace("{window}", window)
            .replace("{time}", time);
    };
    let lang = if t.lang == "ru" {
        crate::model::lang::Lang::Ru
    } else {
        crate::model::lang::Lang::En
    };
    crate::model::lang::fill(
        crate::words::Words::of(lang).groups.kept_outside_window,
        &[
            ("group", &crate::groups::refusal::quoted(group)),
            ("window", &window),
            ("zone", &zone),
            ("time", &time),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollout::admissions::{Halt, StageNow};
    use crate::rollout::rules::{bucket, Moment, RawRollout};
    use crate::rollout::stages::{Figures, StageRecord};
    use crate::words::en::DASHBOARD as EN;
    use crate::words::ru::DASHBOARD as RU;

    fn rollout(yaml: &str) -> Rollout {
        let raw: RawRollout = serde_yaml::from_str(yaml).unwrap();
        Rollout::from_raw(raw).unwrap()
    }

    fn v() -> Version {
        Version::from_yyyymmdd(20250301).unwrap()
    }

    const NOW: u64 = 1_000_000;

    /// Noon, nobody admitted this hour, not halted, stage `stage` started at `started`.
    fn standing(stage: u8, started: u64, figures: Option<Figures>) -> Standing {
        Standing {
            moment: Moment {
                local_minute: 12 * 60,
                admitted_last_hour: 0,
                halted: false,
                stage,
            },
            halt: None,
            stage: (stage > 0).then_some(StageNow {
                record: StageRecord {
                    stage,
                    started_at: started,
                    ..Default::default()
                },
                figures,
            }),
        }
    }

    /// An address whose bucket for 20250301 of the default line is in `range`.
    fn address_in(range: std::ops::Range<u8>) -> IpAddr {
        (0..10_000u32)
            .map(|i| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i)))
            .find(|a| range.contains(&bucket(*a, "", v())))
            .unwrap()
    }

    fn said_in_both(kept: &KeptBy) -> (String, String) {
        let (en, ru) = (kept.words(&EN), kept.words(&RU));
        for words in [&en, &ru] {
            assert!(!words.is_empty() && !words.contains('{'), "{words}");
        }
        (en, ru)
    }

    const STAGES: &str =
        "stages:\n  - {percent: 10, soak: 1h, min_updated: 5, success_percent: 90}\n  \
                          - {percent: 50, soak: 1h}\n  - {percent: 100}\n";

    #[test]
    fn a_bucket_above_the_current_stages_share_is_named_with_the_stage_and_the_next() {
        let r = rollout(STAGES);
        let address = address_in(10..50);
        let b = bucket(address, "", v());
        let soaking = kept_by(&r, address, "", v(), &standing(1, NOW - 600, None), NOW);
        assert_eq!(soaking.rule, Rule::NotInPercent { bucket: b });
        assert_eq!((soaking.code(), soaking.percent), ("not_in_percent", 10));
        let facts = soaking.stage.clone().unwrap();
        assert_eq!(
            (facts.number, facts.of, facts.state, facts.soak_left_s),
            (1, 3, StageState::Soaking, 3000)
        );
        assert_eq!(facts.next_percent, Some(50));
        let (en, ru) = said_in_both(&soaking);
        assert!(
            en.contains(&format!(
                "is {b}, and stage 1 of 3 admits buckets below 10."
            )) && en.contains("Stage 1 soaks 50 min more before stage 2 (buckets below 50)"),
            "{en}"
        );
        assert!(
            ru.contains(&format!("— {b}, а этап 1 из 3 допускает номера ниже 10.")),
            "{ru}"
        );
        // Soaked without the confirmations: waiting, with what it lacks.
        let figures = Figures {
            downloaded: 10,
            confirmed: 3,
        };
        let waiting = kept_by(&r, address, "", v(), &standing(1, 0, Some(figures)), NOW);
        assert_eq!(waiting.stage.as_ref().unwrap().state, StageState::Waiting);
        let (en, ru) = said_in_both(&waiting);
        assert!(
            en.contains("waits for confirmations before stage 2 (buckets below 50) starts: 3 of 10 downloads confirmed (30%, needs 90%), 3 updated (needs 5)."),
            "{en}"
        );
        assert!(ru.contains("подтвердили 3 из 10 скачавших"), "{ru}");
        // Stage 2 takes its bucket in: nothing keeps it but its next check.
        let second = kept_by(&r, address, "", v(), &standing(2, NOW, None), NOW);
        assert_eq!(
            (second.rule.clone(), second.percent),
            (Rule::AdmittedAtNextCheck, 50)
        );
        said_in_both(&second);
        // Before the watch's first round (no stage yet) the first stage's share holds.
        let unset = kept_by(&r, address, "", v(), &standing(0, 0, None), NOW);
        assert_eq!((unset.code(), unset.percent), ("not_in_percent", 10));
        // Without stages: the share, no stage words.
        let plain = kept_by(
            &rollout("percent: 0"),
            address,
            "",
            v(),
            &standing(0, 0, None),
            NOW,
        );
        assert_eq!(
            (plain.code(), plain.percent, &plain.stage),
            ("not_in_percent", 0, &None)
        );
        let (en, _) = said_in_both(&plain);
        assert!(
            en.ends_with("and the rollout admits buckets below 0."),
            "{en}"
        );
        // As JSON: the code and the figures side by side.
        let json = serde_json::to_value(&soaking).unwrap();
        assert_eq!(json["code"], "not_in_percent");
        assert_eq!(json["bucket"], u64::from(b));
        assert_eq!(json["percent"], 10);
        assert_eq!(json["stage"]["number"], 1);
        assert_eq!(json["stage"]["state"], "soaking");
        assert_eq!(json["stage"]["next_percent"], 50);
    }

    #[test]
    fn each_other_rule_is_named_with_its_figures_in_decides_order() {
        let address = address_in(0..100);
        // Outside the window: the window and the local time compared.
        let night = rollout("window: \"22:00-06:00\"");
        let mut at_noon = standing(0, 0, None);
        at_noon.moment.local_minute = 12 * 60 + 5;
        let kept = kept_by(&night, address, "", v(), &at_noon, NOW);
        assert_eq!(
            kept.rule,
            Rule::OutsideWindow {
                window: "22:00-06:00".into(),
                local_time: "12:05".into(),
                group: None,
                time_zone: None,
            }
        );
        let (en, ru) = said_in_both(&kept);
        assert!(
            en.contains("window 22:00-06:00") && en.contains("12:05"),
            "{en}"
        );
        assert!(
            ru.contains("окне 22:00-06:00") && ru.contains("12:05"),
            "{ru}"
        );
        // A register of a group with a time zone: the window in its zone, both named.
        let groups = crate::groups::groups_yaml::parse(
            "- name: Восток\n  networks: [0.0.0.0/0]\n  time_zone: Asia/Vladivostok\n",
        )
        .unwrap();
        let east = groups.get("Восток");
        let kept = kept_by_in(&night, address, east, "", v(), &at_noon, NOW);
        let (en, ru) = said_in_both(&kept);
        assert_eq!(
            en,
            "New registers of the group \"Восток\" are admitted only within the window \
             22:00-06:00 (Asia/Vladivostok time), and it is 12:05 there now."
        );
        assert!(ru.contains("(время Asia/Vladivostok)"), "{ru}");
        let json = serde_json::to_value(&kept).unwrap();
        assert_eq!(json["time_zone"], "Asia/Vladivostok");
        assert_eq!(json["group"], "Восток");
        // The hourly cap: the current stage's, grown by rate_growth, against the count.
        let capped = rollout(
            "stages: [{percent: 100, soak: 1h}, {percent: 100}]\nmax_new_per_hour: 1\nrate_growth: 3",
        );
        let mut full = standing(2, NOW, None);
        full.moment.admitted_last_hour = 3;
        let kept = kept_by(&capped, address, "", v(), &full, NOW);
        assert_eq!(
            kept.rule,
            Rule::HourlyCapReached {
                max_new_per_hour: 3,
                admitted_last_hour: 3
            }
        );
        let (en, _) = said_in_both(&kept);
        assert!(
            en.contains("3 admitted in the last hour, at most 3 per hour at stage 2 of 2"),
            "{en}"
        );
        let plain = rollout("max_new_per_hour: 1");
        let mut one = standing(0, 0, None);
        one.moment.admitted_last_hour = 1;
        let kept = kept_by(&plain, address, "", v(), &one, NOW);
        assert_eq!(kept.code(), "hourly_cap_reached");
        let (en, ru) = said_in_both(&kept);
        assert!(
            en.contains("1 admitted in the last hour, at most 1 per hour."),
            "{en}"
        );
        assert!(ru.contains("допущено 1, можно не больше 1 в час"), "{ru}");
        // Halted (before the window: decide's order): the stuck share and how to resume.
        let halting = rollout("window: \"22:00-06:00\"\nhalt_when_stuck_percent: 5");
        let mut halted = at_noon.clone();
        halted.moment.halted = true;
        halted.halt = Some(Halt {
            since: 900,
            stuck: 3,
            finished: 20,
            reason: crate::model::said::Said::pair(String::new(), String::new()),
        });
        let kept = kept_by(&halting, address, "", v(), &halted, NOW);
        assert_eq!(
            kept.rule,
            Rule::Halted {
                since: 900,
                stuck: 3,
                finished: 20,
                stuck_percent: "15%".into(),
                halt_when_stuck_percent: Some("5%".into()),
            }
        );
        let (en, ru) = said_in_both(&kept);
        assert!(
            en.contains("3 of the 20 registers that downloaded it are stuck (15%, above 5%)")
                && en.contains("An edit of rollout: in its meta.yaml resumes it."),
            "{en}"
        );
        assert!(
            ru.contains("застряли 3 из 20") && ru.contains("возобновит"),
            "{ru}"
        );
        // Paused comes first of all.
        let paused = rollout("paused: true\nwindow: \"22:00-06:00\"");
        let kept = kept_by(&paused, address, "", v(), &halted, NOW);
        assert_eq!((kept.code(), kept.rule.clone()), ("paused", Rule::Paused));
        assert_eq!(kept.words(&EN), EN.pages.why_paused);
        assert_eq!(
            serde_json::to_value(&kept).unwrap(),
            serde_json::json!({"code": "paused", "percent": 100, "stage": null})
        );
    }
}
