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
    pub max_count: usize,
    /// y of the baseline.
    pub baseline: f64,
}

/// Lays out one bar per build date (yyyymmdd → devices).
pub fn layout(by_build_date: &BTreeMap<u32, usize>, critical: Option<u32>) -> FleetChart {
    let max_count = by_build_date.values().copied().max().unwrap_or(0);
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
        let below_critical = critical.is_some_and(|c| date < c);
        if critical_x.is_none() && critical.is_some_and(|c| date >= c) {
            critical_x = Some(x);
        }
        bars.push(Bar {
            x: x + slot * 0.1,
            y: baseline - height,
            width: slot * 0.8,
            height,
            label: format!(
                "{}-{:02}-{:02}",
                date / 10_000,
                date / 100 % 100,
                date % 100
            ),
            count,
            below_critical,
        });
    }
    // Every build is older than the critical version: the line is at the right edge.
    if critical_x.is_none() && critical.is_some() && !bars.is_empty() {
        critical_x = Some(LEFT + slot * bars.len() as f64);
    }
    let critical_label = critical.map_or_else(String::new, |c| {
        format!(
            "critical {}-{:02}-{:02}",
            c / 10_000,
            c / 100 % 100,
            c % 100
        )
    });
    FleetChart {
        width: WIDTH,
        height: HEIGHT,
        bars,
        critical_x,
        critical_label,
        max_count,
        baseline,
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
        let chart = layout(&counts, Some(20180116));
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
        assert_eq!(chart.critical_label, "critical 2018-01-16");
    }

    #[test]
    fn empty_and_all_old_fleets() {
        let chart = layout(&BTreeMap::new(), Some(20180116));
        assert!(chart.bars.is_empty() && chart.critical_x.is_none());
        let counts: BTreeMap<u32, usize> = [(20170101, 3)].into_iter().collect();
        let chart = layout(&counts, Some(20180116));
        assert!(chart.critical_x.unwrap() >= chart.bars[0].x + chart.bars[0].width);
    }
}
