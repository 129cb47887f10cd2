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
    let data_end = chosen
        .iter()
        .filter_map(|(_, days)| days.keys().next_back().copied())
        .max()
        .unwrap_or(first_day)
        + 1;
    // Marks are drawn (and stretch the axis) only once there are two days of data: with one,
    // the page says so instead of a chart.
    let marks = if data_end - first_day >= 2 {
        reachable_marks(marks, &chosen, first_day, data_end)
    } else {
        Vec::new()
    };
    let axes = Axes {
        first_day,
        span: (axis_end(&marks, data_end) - first_day).max(1),
        max: top(&chosen, &marks),
        baseline: HEIGHT - BOTTOM,
    };
    let (deadlines, projections) = mark_lines(&marks, &chosen, &axes, data_end);
    AdoptionChart {
        width: WIDTH,
        height: HEIGHT,
        baseline: axes.baseline,
        left: LEFT,
        curves: curves(&chosen, &axes),
        max: axes.max,
        days: axes.span,
        deadlines,
        projections,
    }
}

/// Where the chart's days and counts go.
struct Axes {
    first_day: u64,
    /// Days on the time axis.
    span: u64,
    /// The count at the top.
    max: u64,
    baseline: f64,
}

impl Axes {
    /// The x of the start of `day` (days since the Unix epoch).
    fn x(&self, day: u64) -> f64 {
        self.x_at(day.saturating_mul(86_400))
    }

    /// The x of a moment (Unix seconds).
    fn x_at(&self, unix: u64) -> f64 {
        let days = unix as f64 / 86_400.0 - self.first_day as f64;
        LEFT + days / self.span as f64 * (WIDTH - LEFT - 10.0)
    }

    fn y(&self, n: u64) -> f64 {
        self.baseline - n as f64 / self.max as f64 * (self.baseline - 10.0)
    }
}

/// The cumulative curves of each release chosen.
fn curves(chosen: &[(u32, Days)], axes: &Axes) -> Vec<Curve> {
    let point = |day: u64, n: u64| format!("{:.1},{:.1}", axes.x(day), axes.y(n));
    chosen
        .iter()
        .enumerate()
        .map(|(i, (version, days))| {
            let (mut down, mut up) = (0, 0);
            // Each curve starts at zero on its first day, so one day of data is a line.
            let start = days.keys().next().copied().unwrap_or(axes.first_day);
            let origin = point(start, 0);
            let (mut down_points, mut up_points) = (vec![origin.clone()], vec![origin]);
            for (day, (d, u)) in days {
                down += d;
                up += u;
                down_points.push(point(day + 1, down));
                up_points.push(point(day + 1, up));
            }
            Curve {
                version: *version,
                downloaded: down_points.join(" "),
                updated: up_points.join(" "),
                total_downloaded: down,
                total_updated: up,
                colour: colour(i),
            }
        })
        .collect()
}

/// The colour of the `i`th release drawn.
fn colour(i: usize) -> &'static str {
    COLOURS[i.min(COLOURS.len() - 1)]
}

/// The day after the last thing drawn: the data's end, a deadline's end, a finish.
fn axis_end(marks: &[Mark], data_end: u64) -> u64 {
    marks
        .iter()
        .flat_map(|m| {
            m.deadline_day
                .map(|d| d + 1)
                .into_iter()
                .chain(m.finish.map(|f| f.0.div_ceil(86_400)))
        })
        .fold(data_end, u64::max)
}

/// The largest count drawn: a curve's total, or a projection's end (every device).
fn top(chosen: &[(u32, Days)], marks: &[Mark]) -> u64 {
    let curves = chosen.iter().map(|(_, days)| {
        let d: u64 = days.values().map(|v| v.0).sum();
        let u: u64 = days.values().map(|v| v.1).sum();
        d.max(u)
    });
    let projections = marks.iter().filter_map(|m| {
        let (_, below) = m.finish?;
        Some(total_updated(chosen, m.version).saturating_add(below))
    });
    curves.chain(projections).max().unwrap_or(0).max(1)
}

/// The deadlines' vertical lines, and the projections from the end of the data (each
/// release's updated count) to every device at the projected finish.
fn mark_lines(
    marks: &[Mark],
    chosen: &[(u32, Days)],
    axes: &Axes,
    data_end: u64,
) -> (Vec<DeadlineLine>, Vec<ProjectionLine>) {
    let colour_of =
        |version: u32| colour(chosen.iter().position(|(v, _)| *v == version).unwrap_or(0));
    let deadlines = marks
        .iter()
        .filter_map(|m| {
            let day = m.deadline_day?;
            Some(DeadlineLine {
                version: m.version,
                x: axes.x(day + 1),
                label: day_label(day),
                colour: colour_of(m.version),
            })
        })
        .collect();
    let projections = marks
        .iter()
        .filter_map(|m| {
            let (finish, below) = m.finish?;
            let updated = total_updated(chosen, m.version);
            let from = format!("{:.1},{:.1}", axes.x(data_end), axes.y(updated));
            let to = format!(
                "{:.1},{:.1}",
                axes.x_at(finish).max(axes.x(data_end)),
                axes.y(updated.saturating_add(below))
            );
            Some(ProjectionLine {
                version: m.version,
                points: format!("{from} {to}"),
                colour: colour_of(m.version),
            })
        })
        .collect();
    (deadlines, projections)
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

    /// Extreme figures (a fleet of a trillion, a finish at the end of time, a deadline on
    /// day 0 or at 9999-12-31, a release drawn with no update at all) put only finite
    /// numbers inside the box into the SVG: no NaN, no inf.
    #[test]
    fn extreme_figures_draw_only_finite_numbers_in_the_box() {
        let huge = 1_000_000_000_000;
        let counts = [
            c(20250301, 20_000, huge, 0),
            c(20250301, 20_001, huge, huge),
            c(20250115, 20_000, 0, 0),
        ];
        let marks = [
            Mark {
                version: 20250301,
                deadline_day: Some(0),
                finish: Some((u64::MAX, u64::MAX)),
            },
            Mark {
                version: 20250115,
                deadline_day: Some(2_932_896),
                finish: Some((20_002 * 86_400, huge)),
            },
        ];
        let chart = layout(&counts, 3, &marks);
        let mut numbers: Vec<String> = Vec::new();
        for curve in &chart.curves {
            numbers.extend(curve.downloaded.split([' ', ',']).map(String::from));
            numbers.extend(curve.updated.split([' ', ',']).map(String::from));
        }
        for line in &chart.projections {
            numbers.extend(line.points.split([' ', ',']).map(String::from));
        }
        numbers.extend(chart.deadlines.iter().map(|d| d.x.to_string()));
        assert!(!numbers.is_empty());
        for n in &numbers {
            let value: f64 = n.parse().unwrap_or(f64::NAN);
            assert!(
                value.is_finite() && (0.0..=chart.width).contains(&value),
                "{n} in {numbers:?}"
            );
        }
    }
}
