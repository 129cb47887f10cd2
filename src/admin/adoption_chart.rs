//! The dashboard's adoption curves: per release, how many devices had downloaded it and how
//! many had updated to it, day by day since it was first offered, as polylines for an
//! inline SVG (no scripts: the dashboard must work on an offline LAN). A release under
//! rollout with a `deadline` adds a vertical line at the end of that day, and one with a
//! projected finish a dotted line from its updated count today to every device of the line
//! at the projected finish; the time axis stretches to show them (up to a year past the
//! data). Pure, so the geometry is tested without a browser.

use std::collections::BTreeMap;

use crate::store::release_reads::DayCount;

/// Chart size in SVG units.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 20.0;

/// One release's curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub version: u32,
    /// `x,y x,y …` for the SVG `points` attribute.
    pub downloaded: String,
    pub updated: String,
    pub total_downloaded: u64,
    pub total_updated: u64,
    pub colour: &'static str,
}

/// The whole chart.
#[derive(Debug, Clone, PartialEq)]
pub struct AdoptionChart {
    pub width: f64,
    pub height: f64,
    pub baseline: f64,
    pub left: f64,
    pub curves: Vec<Curve>,
    /// The largest cumulative count drawn (the top of the y axis).
    pub max: u64,
    pub days: u64,
    /// Deadlines of the releases drawn, as vertical lines.
    pub deadlines: Vec<DeadlineLine>,
    /// Projected finishes of the releases drawn, as dotted lines.
    pub projections: Vec<ProjectionLine>,
}

/// What a release under rollout adds to the chart (`Mark`s come from `/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub version: u32,
    /// The deadline's day (days since the Unix epoch).
    pub deadline_day: Option<u64>,
    /// The projected finish (Unix seconds) and how many devices of the line are still
    /// below the release.
    pub finish: Option<(u64, u64)>,
}

/// A deadline: a vertical line at the end of its day.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadlineLine {
    pub version: u32,
    pub x: f64,
    /// The day, DD.MM.YYYY.
    pub label: String,
    /// The colour of its release's curves.
    pub colour: &'static str,
}

/// A projection: from the updated count now to all devices at the projected finish.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionLine {
    pub version: u32,
    /// `x,y x,y` for the SVG `points` attribute.
    pub points: String,
    pub colour: &'static str,
}

/// A mark further than this past the last day of data is not drawn (it would squash the
/// curves into a corner).
const MARK_REACH_DAYS: u64 = 366;

/// Per day: (new whole downloads, new updates).
type Days = BTreeMap<u64, (u64, u64)>;

const COLOURS: [&str; 4] = ["#2a6", "#26a", "#a62", "#888"];

/// Lays out the cumulative counts of the `releases` newest releases in `counts`, with the
/// deadlines and projections of `marks` (of those releases).
pub fn layout(counts: &[DayCount], releases: usize, marks: &[Mark]) -> AdoptionChart {
    let mut by_version: BTreeMap<u32, Days> = BTreeMap::new();
    for c in counts {
        let day = by_version
            .entry(c.version)
            .or_default()
            .entry(c.day)
            .or_default();
        day.0 += c.downloaded;
        day.1 += c.updated;
    }
    let chosen: Vec<(u32, Days)> = by_version.into_iter().rev().take(releases).collect();
    let first_day = chosen
        .iter()
        .filter_map(|(_, days)| days.keys().next().copied())
        .min()
        .unwrap_or(0);
    // Counts are as of the end of each day: the last point is the day after the last day.
    let last_day = chosen
        .iter()
        .filter_map(|(_, days)| days.keys().next_back().copied())
        .max()
        .unwrap_or(first_day)
        + 1;
    let data_last_day = last_day;
    let marks = reachable_marks(marks, &chosen, first_day, data_last_day);
    // Marks are drawn (and stretch the axis) only once there are two days of data: with one,
    // the page says so instead of a chart.
    let drawn = data_last_day - first_day >= 2;
    let last_day = if drawn {
        marks
            .iter()
            .flat_map(|m| {
                m.deadline_day
                    .map(|d| d + 1)
                    .into_iter()
                    .chain(m.finish.map(|f| f.0.div_ceil(86_400)))
            })
            .fold(data_last_day, u64::max)
    } else {
        data_last_day
    };
    let span = (last_day - first_day).max(1);
    let max = chosen
        .iter()
        .map(|(_, days)| {
            let d: u64 = days.values().map(|v| v.0).sum();
            let u: u64 = days.values().map(|v| v.1).sum();
            d.max(u)
        })
        .max()
        .unwrap_or(0)
        .max(
            marks
                .iter()
                .filter_map(|m| {
                    let updated = total_updated(&chosen, m.version);
                    m.finish.map(|(_, below)| updated.saturating_add(below))
                })
                .max()
                .unwrap_or(0),
        )
        .max(1);
    let baseline = HEIGHT - BOTTOM;
    let x = |day: u64| LEFT + (day - first_day) as f64 / span as f64 * (WIDTH - LEFT - 10.0);
    let y = |n: u64| baseline - n as f64 / max as f64 * (baseline - 10.0);
    let curves = chosen
        .iter()
        .enumerate()
        .map(|(i, (version, days))| {
            let (mut down, mut up) = (0, 0);
            // Each curve starts at zero on its first day, so one day of data is a line.
            let start = days.keys().next().copied().unwrap_or(first_day);
            let origin = format!("{:.1},{:.1}", x(start), y(0));
            let (mut down_points, mut up_points) = (vec![origin.clone()], vec![origin]);
            for (day, (d, u)) in days {
                down += d;
                up += u;
                down_points.push(format!("{:.1},{:.1}", x(day + 1), y(down)));
                up_points.push(format!("{:.1},{:.1}", x(day + 1), y(up)));
            }
            Curve {
                version: *version,
                downloaded: down_points.join(" "),
                updated: up_points.join(" "),
                total_downloaded: down,
                total_updated: up,
                colour: COLOURS[i.min(COLOURS.len() - 1)],
            }
        })
        .collect();
    let colour_of = |version: u32| {
        let i = chosen.iter().position(|(v, _)| *v == version).unwrap_or(0);
        COLOURS[i.min(COLOURS.len() - 1)]
    };
    let deadlines = marks
        .iter()
        .filter(|_| drawn)
        .filter_map(|m| {
            let day = m.deadline_day?;
            Some(DeadlineLine {
                version: m.version,
                x: x(day + 1),
                label: day_label(day),
                colour: colour_of(m.version),
            })
        })
        .collect();
    let x_at = |unix: u64| {
        LEFT + (unix as f64 / 86_400.0 - first_day as f64) / span as f64 * (WIDTH - LEFT - 10.0)
    };
    let projections = marks
        .iter()
        .filter(|_| drawn)
        .filter_map(|m| {
            let (finish, below) = m.finish?;
            let updated = total_updated(&chosen, m.version);
            let from = format!("{:.1},{:.1}", x(data_last_day), y(updated));
            let to = format!(
                "{:.1},{:.1}",
                x_at(finish).max(x(data_last_day)),
                y(updated.saturating_add(below))
            );
            Some(ProjectionLine {
                version: m.version,
                points: format!("{from} {to}"),
                colour: colour_of(m.version),
            })
        })
        .collect();
    AdoptionChart {
        width: WIDTH,
        height: HEIGHT,
        baseline,
        left: LEFT,
        curves,
        max,
        days: span,
        deadlines,
        projections,
    }
}

/// The marks of releases drawn, each part kept only when it falls between the first day of
/// data and `MARK_REACH_DAYS` past the last.
fn reachable_marks(
    marks: &[Mark],
    chosen: &[(u32, Days)],
    first_day: u64,
    last_day: u64,
) -> Vec<Mark> {
    let reach = |day: u64| day >= first_day && day <= last_day + MARK_REACH_DAYS;
    marks
        .iter()
        .filter(|m| chosen.iter().any(|(v, _)| *v == m.version))
        .map(|m| Mark {
            version: m.version,
            deadline_day: m.deadline_day.filter(|d| reach(*d)),
            finish: m.finish.filter(|(at, _)| reach(at / 86_400)),
        })
        .collect()
}

/// Devices updated to `version` in all, as drawn.
fn total_updated(chosen: &[(u32, Days)], version: u32) -> u64 {
    chosen
        .iter()
        .filter(|(v, _)| *v == version)
        .map(|(_, days)| days.values().map(|d| d.1).sum::<u64>())
        .sum()
}

/// Days since the Unix epoch as DD.MM.YYYY.
fn day_label(day: u64) -> String {
    i64::try_from(day)
        .ok()
        .and_then(|d| chrono::DateTime::from_timestamp(d.saturating_mul(86_400), 0))
        .map_or_else(|| day.to_string(), |t| t.format("%d.%m.%Y").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(version: u32, day: u64, downloaded: u64, updated: u64) -> DayCount {
        DayCount {
            version,
            day,
            downloaded,
            updated,
        }
    }

    #[test]
    fn curves_are_cumulative_and_fit_the_box() {
        let chart = layout(
            &[
                c(20250301, 100, 10, 0),
                c(20250301, 101, 5, 8),
                c(20250301, 103, 0, 6),
                c(20250115, 90, 4, 4),
                c(20240101, 10, 1, 1),
            ],
            2,
            &[],
        );
        assert_eq!(chart.curves.len(), 2, "the two newest releases");
        let newest = &chart.curves[0];
        assert_eq!(newest.version, 20250301);
        assert_eq!((newest.total_downloaded, newest.total_updated), (15, 14));
        assert_eq!(chart.max, 15);
        for curve in &chart.curves {
            for point in curve.downloaded.split(' ').chain(curve.updated.split(' ')) {
                let (x, y) = point.split_once(',').unwrap();
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                assert!((chart.left..=chart.width).contains(&x), "{x}");
                assert!((0.0..=chart.baseline).contains(&y), "{y}");
            }
        }
        // The last point of the newest download curve is at the top.
        assert!(
            newest.downloaded.ends_with(",10.0"),
            "{}",
            newest.downloaded
        );
    }

    #[test]
    fn no_data_draws_nothing() {
        assert!(layout(&[], 3, &[]).curves.is_empty());
    }

    /// Data over days 100-102 (updated: 30 in all); a deadline at the end of day 110 and
    /// 50 devices still below, projected to finish at noon of day 105. The axis runs to
    /// day 111 (the deadline's end), the top is 80 (all of them updated).
    #[test]
    fn a_deadline_and_a_projection_stretch_the_axis_and_are_drawn() {
        let counts = [c(20250301, 100, 20, 10), c(20250301, 102, 20, 20)];
        let mark = Mark {
            version: 20250301,
            deadline_day: Some(110),
            finish: Some((105 * 86_400 + 43_200, 50)),
        };
        let chart = layout(&counts, 2, &[mark]);
        assert_eq!((chart.days, chart.max), (11, 80));
        let right = WIDTH - 10.0;
        assert_eq!(chart.deadlines.len(), 1);
        assert_eq!(
            chart.deadlines[0].x, right,
            "the end of day 110 is the axis' end"
        );
        assert_eq!(chart.deadlines[0].label, "21.04.1970");
        let projection = &chart.projections[0].points;
        let (from, to) = projection.split_once(' ').unwrap();
        // From day 103 (the end of the data) at 30, to day 105.5 at 80 (the top: y 10).
        let x = |day: f64| LEFT + (day - 100.0) / 11.0 * (right - LEFT);
        let y30 = chart.baseline - 30.0 / 80.0 * (chart.baseline - 10.0);
        assert_eq!(from, format!("{:.1},{:.1}", x(103.0), y30));
        assert_eq!(to, format!("{:.1},{:.1}", x(105.5), 10.0));
        // A deadline more than a year past the data, or a release not drawn: nothing.
        let far = Mark {
            deadline_day: Some(103 + 400),
            finish: None,
            ..mark
        };
        let other = Mark {
            version: 20240101,
            ..mark
        };
        let chart = layout(&counts, 2, &[far, other]);
        assert!(chart.deadlines.is_empty() && chart.projections.is_empty());
        assert_eq!(chart.days, 3);
        // One day of data: no chart, so no marks.
        let chart = layout(&counts[..1], 2, &[mark]);
        assert_eq!(chart.days, 1);
        assert!(chart.deadlines.is_empty());
    }
}
