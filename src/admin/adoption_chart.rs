//! The dashboard's adoption curves: per release, how many devices had downloaded it and how
//! many had updated to it, day by day since it was first offered, as polylines for an
//! inline SVG (no scripts: the dashboard must work on an offline LAN). Pure, so the
//! geometry is tested without a browser.

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
}

/// Per day: (new whole downloads, new updates).
type Days = BTreeMap<u64, (u64, u64)>;

const COLOURS: [&str; 4] = ["#2a6", "#26a", "#a62", "#888"];

/// Lays out the cumulative counts of the `releases` newest releases in `counts`.
pub fn layout(counts: &[DayCount], releases: usize) -> AdoptionChart {
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
    AdoptionChart {
        width: WIDTH,
        height: HEIGHT,
        baseline,
        left: LEFT,
        curves,
        max,
        days: span,
    }
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
        assert!(layout(&[], 3).curves.is_empty());
    }
}
