//! The dashboard's chart of the fleet by build date, as geometry for an inline SVG (no
//! scripts, no external assets: the dashboard must work on an offline LAN). Pure, so the
//! placement of bars and of the critical line is tested without a browser.

use std::collections::BTreeMap;

pub const WIDTH: f64 = 720.0;
pub const HEIGHT: f64 = 220.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 16.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// `2025-01-15`
    pub label: String,
    /// The label as the page shows it: DD.MM.YYYY, or MM.YYYY for a month.
    pub text: String,
    /// Whether the label is drawn (every n-th, so labels never overlap).
    pub show_label: bool,
    pub count: usize,
    pub below_critical: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FleetChart {
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
    /// x of the critical line: between the last build before it and the first on or after.
    pub critical_x: Option<f64>,
    pub critical_label: String,
    /// Where the critical label starts, and its `text-anchor`: it turns left near the right
    /// edge so that it is never cut off.
    pub critical_label_x: f64,
    pub critical_anchor: &'static str,
    pub max_count: usize,
    /// Bars are months, not days (too many build dates to draw one bar each).
    pub by_month: bool,
    /// y of the baseline.
    pub baseline: f64,
}

/// Past this many build dates, bars are months (and the critical month is split in two, so
/// the critical line stays exact).
pub const MONTHS_PAST: usize = 60;
/// At most this many bar labels are drawn.
const MAX_LABELS: usize = 12;
/// About how wide the critical label is, in SVG units (11 px text).
const CRITICAL_LABEL_WIDTH: f64 = 120.0;

/// Lays out one bar per build date (yyyymmdd → devices), or per month past `MONTHS_PAST`.
/// `critical_word` starts the critical line's label ("critical", "критическая").
pub fn layout(
    by_build_date: &BTreeMap<u32, usize>,
    critical: Option<u32>,
    critical_word: &str,
) -> FleetChart {
    let by_month = by_build_date.len() > MONTHS_PAST;
    let grouped: BTreeMap<u32, usize>;
    let by_build_date = if by_month {
        grouped = by_months(by_build_date, critical);
        &grouped
    } else {
        by_build_date
    };
    let max_count = by_build_date.values().copied().max().unwrap_or(0);
    let baseline = HEIGHT - BOTTOM;
    let (bars, critical_x) = place_bars(by_build_date, critical, by_month, max_count);
    let critical_label = critical.map_or_else(String::new, |c| {
        format!(
            "{critical_word} {:02}.{:02}.{}",
            c % 100,
            c / 100 % 100,
            c / 10_000
        )
    });
    let (critical_label_x, critical_anchor) = match critical_x {
        Some(x) if x + 3.0 + CRITICAL_LABEL_WIDTH > WIDTH => (x - 3.0, "end"),
        Some(x) => (x + 3.0, "start"),
        None => (0.0, "start"),
    };
    FleetChart {
        width: WIDTH,
        height: HEIGHT,
        bars,
        critical_x,
        critical_label,
        critical_label_x,
        critical_anchor,
        max_count,
        by_month,
        baseline,
    }
}

/// Devices by month: keyed by the first day of the month, or for the critical month's later
/// part by the critical date itself, so keys stay dates and stay on their side of the line.
fn by_months(by_build_date: &BTreeMap<u32, usize>, critical: Option<u32>) -> BTreeMap<u32, usize> {
    let mut months = BTreeMap::new();
    for (&date, &count) in by_build_date {
        let mut key = date / 100 * 100 + 1;
        if let Some(c) = critical {
            if date >= c && key < c {
                key = c;
            }
        }
        *months.entry(key).or_insert(0) += count;
    }
    months
}

/// One bar per key, scaled to `max_count`, and the x of the critical line: between the
/// last bar before it and the first on or after (the right edge when every bar is older).
fn place_bars(
    by_build_date: &BTreeMap<u32, usize>,
    critical: Option<u32>,
    by_month: bool,
    max_count: usize,
) -> (Vec<Bar>, Option<f64>) {
    let every = by_build_date.len().div_ceil(MAX_LABELS).max(1);
    let plot_width = WIDTH - LEFT - 10.0;
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = plot_width / by_build_date.len().max(1) as f64;
    let baseline = HEIGHT - BOTTOM;
    let mut critical_x = None;
    let mut bars = Vec::with_capacity(by_build_date.len());
    for (index, (&date, &count)) in by_build_date.iter().enumerate() {
        let x = LEFT + slot * index as f64;
        let height = if max_count == 0 {
            0.0
        } else {
            plot_height * count as f64 / max_count as f64
        };
        if critical_x.is_none() && critical.is_some_and(|c| date >= c) {
            critical_x = Some(x);
        }
        bars.push(Bar {
            x: x + slot * 0.1,
            y: baseline - height,
            width: slot * 0.8,
            height,
            label: bar_label(date, by_month),
            text: bar_text(date, by_month),
            show_label: index % every == 0,
            count,
            below_critical: critical.is_some_and(|c| date < c),
        });
    }
    // Every build is older than the critical version: the line is at the right edge.
    if critical_x.is_none() && critical.is_some() && !bars.is_empty() {
        critical_x = Some(LEFT + slot * bars.len() as f64);
    }
    (bars, critical_x)
}

/// `2025-01-15`, or `2025-01` for a month.
/// A bar's date as the page shows it, DD.MM.YYYY (MM.YYYY for a month).
fn bar_text(date: u32, by_month: bool) -> String {
    if by_month {
        format!("{:02}.{}", date / 100 % 100, date / 10_000)
    } else {
        format!(
            "{:02}.{:02}.{}",
            date % 100,
            date / 100 % 100,
            date / 10_000
        )
    }
}

fn bar_label(date: u32, by_month: bool) -> String {
    if by_month {
        format!("{}-{:02}", date / 10_000, date / 100 % 100)
    } else {
        format!(
            "{}-{:02}-{:02}",
            date / 10_000,
            date / 100 % 100,
            date % 100
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_the_critical_line_splits_them() {
        let counts: BTreeMap<u32, usize> = [(20180101, 2), (20180117, 4), (20180125, 1)]
            .into_iter()
            .collect();
        let chart = layout(&counts, Some(20180116), "critical");
        assert_eq!(chart.bars.len(), 3);
        assert_eq!(chart.max_count, 4);
        assert!((chart.bars[1].height - (HEIGHT - BOTTOM - TOP)).abs() < 1e-9);
        assert!((chart.bars[0].height * 2.0 - chart.bars[1].height).abs() < 1e-9);
        assert_eq!(
            chart
                .bars
                .iter()
                .map(|b| b.below_critical)
                .collect::<Vec<_>>(),
            [true, false, false]
        );
        let line = chart.critical_x.unwrap();
        assert!(chart.bars[0].x + chart.bars[0].width <= line && line <= chart.bars[1].x);
        assert_eq!(chart.bars[0].label, "2018-01-01");
        assert_eq!(chart.critical_label, "critical 16.01.2018");
    }

    #[test]
    fn eight_hundred_dates_become_months_with_few_labels_and_an_exact_critical_line() {
        let mut counts = BTreeMap::new();
        let mut date = chrono::NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
        for _ in 0..800 {
            let key: u32 = date.format("%Y%m%d").to_string().parse().unwrap();
            counts.insert(key, 1);
            date = date.succ_opt().unwrap();
        }
        let chart = layout(&counts, Some(20230115), "critical");
        assert!(chart.by_month);
        // 27 months, the critical month in two parts.
        assert_eq!(chart.bars.len(), 28);
        assert!(chart.bars.iter().filter(|b| b.show_label).count() <= MAX_LABELS);
        assert_eq!(chart.bars.iter().map(|b| b.count).sum::<usize>(), 800);
        let line = chart.critical_x.unwrap();
        for bar in &chart.bars {
            assert_eq!(
                bar.below_critical,
                bar.x + bar.width <= line,
                "{}",
                bar.label
            );
        }
        let thirty: BTreeMap<u32, usize> = counts.iter().take(30).map(|(k, v)| (*k, *v)).collect();
        let chart = layout(&thirty, None, "critical");
        assert!(!chart.by_month && chart.bars.len() == 30);
        assert!(chart.bars.iter().filter(|b| b.show_label).count() <= MAX_LABELS);
    }

    #[test]
    fn the_critical_label_turns_left_near_the_right_edge() {
        let counts: BTreeMap<u32, usize> = [(20170101, 3)].into_iter().collect();
        let chart = layout(&counts, Some(20180116), "critical");
        assert_eq!(chart.critical_anchor, "end");
        assert!(chart.critical_label_x <= WIDTH);
        let counts: BTreeMap<u32, usize> = [(20170101, 3), (20190101, 1)].into_iter().collect();
        let chart = layout(&counts, Some(20180116), "critical");
        assert_eq!(chart.critical_anchor, "start");
        assert!(chart.critical_label_x + CRITICAL_LABEL_WIDTH <= WIDTH);
    }

    #[test]
    fn empty_and_all_old_fleets() {
        let chart = layout(&BTreeMap::new(), Some(20180116), "critical");
        assert!(chart.bars.is_empty() && chart.critical_x.is_none());
        let counts: BTreeMap<u32, usize> = [(20170101, 3)].into_iter().collect();
        let chart = layout(&counts, Some(20180116), "critical");
        assert!(chart.critical_x.unwrap() >= chart.bars[0].x + chart.bars[0].width);
    }
}
