//! The operator's dashboard at `GET /` on the admin listener: one server-rendered page from
//! the same report as `/status`, with the fleet chart as inline SVG. No scripts and no
//! external assets, so it works on an offline LAN; askama escapes every value. The forms
//! an operator may use (upload, pause/resume, withdraw, logout) and the notice of the last
//! one's outcome come worked out in `dashboard_forms::Forms`.

use askama::Template;

use crate::admin::adoption_chart::{self, AdoptionChart};
use crate::admin::dashboard_forms::Forms;
use crate::admin::fleet_chart::{self, FleetChart};
use crate::admin::status_report::{StaleFile, Status};
use crate::app_state::ReloadRecord;
use crate::observe::fleet::Device;
use crate::rollout::status::RolloutView;
use crate::store::release_reads::{DayCount, ReleaseRow};
use crate::words::dashboard::{duration_text, Text};

/// How many releases the adoption chart draws (the newest).
const ADOPTION_RELEASES: usize = 3;

/// Seconds between the page's own refreshes.
const REFRESH_S: u32 = 10;

/// One row of the recent devices table, formatted.
pub struct DeviceRow {
    pub address: String,
    pub build_date: String,
    pub offered: String,
    pub serial: String,
    pub user_agent: String,
    pub seen: String,
}

/// A file that does not load, for the red banner at the top.
pub struct StaleRow<'a> {
    pub stale: &'a StaleFile,
    /// How long, in words.
    pub stale_for: String,
}

/// A reload, formatted.
pub struct ReloadRow {
    pub at: String,
    pub trigger: &'static str,
    pub outcome: String,
    pub ok: bool,
    pub duration_ms: u64,
}

/// One release under rollout, with its outcomes from the inventory.
pub struct RolloutRow<'a> {
    pub view: &'a RolloutView,
    pub offered: u64,
    pub downloaded: u64,
    pub updated: u64,
    pub stuck: u64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    status: &'a Status,
    stale: Vec<StaleRow<'a>>,
    chart: FleetChart,
    reloads: Vec<ReloadRow>,
    devices: Vec<DeviceRow>,
    refresh_s: u32,
    uptime: String,
    /// Per release offered as an update: what became of the offers (inventory on).
    outcomes: &'a [ReleaseRow],
    adoption: AdoptionChart,
    rollouts: Vec<RolloutRow<'a>>,
    inventory_on: bool,
    /// What needs the operator now, shown first (`attention`).
    attention: Vec<crate::admin::attention::Attention>,
    /// The words, in the language the request asked for.
    t: &'static Text,
    /// The forms the operator may use, and the notice.
    forms: &'a Forms,
    /// The group selector, and what a limited viewer is told of its scope.
    groups: &'a GroupSelector,
}

/// The dashboard's group selector (`?group=`), and what a viewer limited to groups is
/// told: which groups it sees, and that the fleet's figures are not shown to it.
pub struct GroupSelector {
    /// The groups offered (a limited viewer's own; else every group); none: no selector.
    pub choices: Vec<String>,
    /// The group picked ("": all the reader may see).
    pub picked: String,
    /// For a limited viewer: "You see only the registers of the groups: …".
    pub limited_to: Option<String>,
    /// For a limited viewer: the fleet's figures are left out.
    pub fleet_hidden: Option<&'static str>,
}

impl GroupSelector {
    pub fn new(
        choices: Vec<String>,
        scope: &crate::admin::view_scope::ViewScope,
        operator: &crate::admin::operator::Operator,
        t: &Text,
    ) -> GroupSelector {
        let limited_to = operator.groups.as_ref().map(|own| {
            let names: Vec<String> = own.iter().map(|g| format!("«{g}»")).collect();
            crate::model::lang::fill(t.pages.limited_to, &[("groups", &names.join(", "))])
        });
        GroupSelector {
            choices,
            picked: scope.picked().unwrap_or_default().to_string(),
            limited_to,
            fleet_hidden: scope.is_limited().then_some(t.pages.fleet_figures_hidden),
        }
    }
}

impl DashboardPage<'_> {
    /// `text` as one part of a URL (a line's name in `?line=`).
    fn url_part(&self, text: &str) -> String {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    /// A rollout's stage line, its start written as the pages write moments.
    fn stage_line(&self, stage: &crate::rollout::status::StageStatus) -> String {
        let since = stage.since.map(time_text).unwrap_or_default();
        stage.words(self.t, &since)
    }

    /// A Unix moment (the certificate's end) as the pages write it, DD.MM.YYYY HH:MM.
    fn when(&self, unix: &i64) -> String {
        u64::try_from(*unix).map_or_else(|_| unix.to_string(), time_text)
    }

    /// A rollout's deadline and projected finish in one line, dates as DD.MM.YYYY: "Срок
    /// 31.12.2026: успеваем · окончание ≈ 15.12.2026 03:00 · ниже релиза ещё 120 ККТ".
    /// Empty for a rollout with neither a deadline nor a projected finish to show.
    fn projection(&self, view: &RolloutView) -> String {
        let t = self.t;
        let mut parts = Vec::new();
        if let Some(deadline) = &view.deadline {
            let verdict = if view.late {
                t.deadline_late
            } else {
                t.deadline_on_time
            };
            parts.push(format!(
                "{} {}: {verdict}",
                t.deadline,
                day_month_year_of(deadline)
            ));
        }
        match view.projected_finish {
            Some(at) => parts.push(format!("{} {}", t.projected_finish, time_text(at))),
            None if view.deadline.is_some() || view.projection == "finished" => {
                let reason = t
                    .projection_reasons
                    .iter()
                    .find(|(word, _)| *word == view.projection)
                    .map_or(view.projection, |(_, words)| words);
                parts.push(reason.to_string());
            }
            None => {}
        }
        if let Some(below) = view.below.filter(|n| *n > 0 && !parts.is_empty()) {
            parts.push(crate::model::lang::fill(t.devices_below, &[("n", &below)]));
        }
        parts.join(" · ")
    }
}

/// `2026-12-31` (a deadline as written) as the pages write days, `31.12.2026`.
fn day_month_year_of(yyyy_mm_dd: &str) -> String {
    let mut parts = yyyy_mm_dd.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => format!("{d}.{m}.{y}"),
        _ => yyyy_mm_dd.to_string(),
    }
}

/// What each release under rollout adds to the adoption chart: its deadline's day and its
/// projected finish.
fn chart_marks(status: &Status) -> Vec<adoption_chart::Mark> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1);
    status
        .rollouts
        .iter()
        .map(|r| adoption_chart::Mark {
            version: r.version,
            deadline_day: r
                .deadline
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .zip(epoch)
                .and_then(|(d, epoch)| u64::try_from((d - epoch).num_days()).ok()),
            finish: r.projected_finish.zip(r.below),
        })
        .collect()
}

/// What the page says to the one reading it: in their language, the forms their role may
/// use, and the groups they may pick among.
pub struct Reader<'a> {
    pub t: &'static Text,
    pub forms: &'a Forms,
    pub groups: &'a GroupSelector,
}

/// Renders the page.
pub fn render(
    status: &Status,
    now: u64,
    outcomes: &[ReleaseRow],
    adoption: &[DayCount],
    inventory_on: bool,
    reader: Reader<'_>,
) -> Result<String, askama::Error> {
    let Reader { t, forms, groups } = reader;
    let critical = status.critical_version.as_ref().map(|c| c.version);
    let page = DashboardPage {
        stale: status
            .config_stale
            .iter()
            .map(|stale| StaleRow {
                stale,
                stale_for: duration_text(stale.stale_for_s, t),
            })
            .collect(),
        chart: fleet_chart::layout(&status.fleet.by_build_date, critical, t.critical_word),
        reloads: status.reloads.iter().map(reload_row).collect(),
        devices: status
            .devices
            .iter()
            .map(|d| device_row(d, now, t))
            .collect(),
        refresh_s: REFRESH_S,
        uptime: duration_text(status.server.uptime_s, t),
        outcomes,
        adoption: adoption_chart::layout(adoption, ADOPTION_RELEASES, &chart_marks(status)),
        rollouts: status
            .rollouts
            .iter()
            .map(|view| {
                let row = outcomes
                    .iter()
                    .find(|r| r.line == view.line && r.version == view.version);
                RolloutRow {
                    view,
                    offered: row.map_or(0, |r| r.offered),
                    downloaded: row.map_or(0, |r| r.downloaded),
                    updated: row.map_or(0, |r| r.updated),
                    stuck: row.map_or(0, |r| r.stuck),
                }
            })
            .collect(),
        inventory_on,
        attention: crate::admin::attention::items(status, outcomes, inventory_on, t),
        t,
        status,
        forms,
        groups,
    };
    page.render()
}

fn reload_row(reload: &ReloadRecord) -> ReloadRow {
    ReloadRow {
        at: time_text(reload.at),
        trigger: reload.trigger,
        outcome: reload.outcome.clone(),
        ok: reload.ok,
        duration_ms: reload.duration_ms,
    }
}

fn device_row(device: &Device, now: u64, t: &Text) -> DeviceRow {
    let date = |d: u32| format!("{:02}.{:02}.{}", d % 100, d / 100 % 100, d / 10_000);
    DeviceRow {
        address: device.address.to_string(),
        build_date: device.build_date.map(date).unwrap_or_default(),
        offered: match device.offered {
            Some(0) => "—".into(),
            Some(v) if device.critical => format!("{} {}", date(v), t.critical_mark),
            Some(v) if device.update_available => date(v),
            Some(_) => t.is_current.into(),
            None => String::new(),
        },
        serial: device.serial.map(|s| s.to_string()).unwrap_or_default(),
        user_agent: device.user_agent.to_string(),
        seen: format!(
            "{} {}",
            duration_text(now.saturating_sub(device.last_seen), t),
            t.ago
        ),
    }
}

/// A moment as the pages write it: DD.MM.YYYY HH:MM, local time.
fn time_text(unix: u64) -> String {
    crate::admin::inventory_pages::page_time(unix)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::admin::status_report::{status, OperatorState};
    use crate::catalog::snapshot::Snapshot;
    use crate::config::{parse_file, Config};

    #[test]
    fn operator_text_is_escaped_and_the_page_names_the_rejection() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("firmware/20250301");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("upd_app.bin"), "a").unwrap();
        std::fs::write(folder.join("upd_app_for_old_frs.bin"), "b").unwrap();
        std::fs::write(
            folder.join("meta.yaml"),
            "description: \"<script>alert(1)</script> & «ok»\"\n",
        )
        .unwrap();
        let broken = dir.path().join("firmware/20250401");
        std::fs::create_dir_all(&broken).unwrap();
        std::fs::write(broken.join("meta.yaml"), "critcal: true\n").unwrap();
        let config = Config::resolve(
            &Default::default(),
            parse_file("").unwrap(),
            dir.path(),
            None,
        )
        .unwrap();
        let later = SystemTime::now() + Duration::from_secs(10);
        let snapshot = Snapshot::scan(&config.scan_settings(), later, None, &Default::default());
        let operator = OperatorState {
            started: SystemTime::now(),
            config_stale: None,
            reloads: Vec::new(),
            requests: Vec::new(),
            fleet: Default::default(),
            devices: Vec::new(),
            inventory: crate::store::Inventory::off().status(),
            rollouts: Vec::new(),
            tls: None,
        };
        let page = render(
            &status(&snapshot, operator, SystemTime::now()),
            0,
            &[],
            &[],
            false,
            Reader {
                t: &crate::words::ru::DASHBOARD,
                forms: &Forms::default(),
                groups: &GroupSelector {
                    choices: vec!["<b>=cmd\"'".to_string()],
                    picked: String::new(),
                    limited_to: Some("<i>limited</i>".to_string()),
                    fleet_hidden: None,
                },
            },
        )
        .unwrap();
        assert!(
            page.contains(">&#60;b&#62;=cmd&#34;&#39;</option>"),
            "{page}"
        );
        assert!(!page.contains("<i>limited</i>"));
        assert!(
            !page.contains("<script>alert"),
            "operator text must be escaped"
        );
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; «ok»"),
            "{page}"
        );
        assert!(page.contains("data-version=\"20250401\" data-state=\"rejected\""));
        // The Russian page gives the scan's reason in Russian.
        assert!(page.contains("нет файла upd_app.bin"), "{page}");
        assert!(!page.contains("upd_app.bin is missing"));
        assert!(page.contains("id=\"fleet-chart-empty\""));
    }
}
