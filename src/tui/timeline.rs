//! Exchanges per time bucket, grouped by tier or by role, with failures
//! counted apart; the bucket width zooms from a minute to a day.

use std::collections::BTreeMap;

use super::data::ExchangePoint;
use crate::model::time::Micros;

/// Bucket widths, in seconds, and their labels.
pub const ZOOMS: &[(i64, &str)] = &[
    (60, "1 minute"),
    (300, "5 minutes"),
    (900, "15 minutes"),
    (3600, "1 hour"),
    (21_600, "6 hours"),
    (86_400, "1 day"),
];

/// Buckets past this are merged by zooming out.
const MAX_BUCKETS: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Tier,
    Role,
}

/// One bucket: exchanges per series, and failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub start: Micros,
    pub end: Micros,
    pub counts: Vec<u64>,
    pub failures: u64,
}

impl Bucket {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The series names and the buckets from the first exchange to the last.
pub fn buckets(points: &[ExchangePoint], zoom: usize, by: GroupBy) -> (Vec<String>, Vec<Bucket>) {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (Vec::new(), Vec::new());
    };
    let mut zoom = zoom.min(ZOOMS.len() - 1);
    let span = last.time - first.time;
    while zoom + 1 < ZOOMS.len() && span / (ZOOMS[zoom].0 * 1_000_000) > MAX_BUCKETS as i64 {
        zoom += 1;
    }
    let width = ZOOMS[zoom].0 * 1_000_000;
    let series: Vec<String> = match by {
        GroupBy::Tier => {
            let mut s: Vec<String> = ["production", "staging", "development", "unknown"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            s.retain(|name| points.iter().any(|p| &p.tier == name));
            s
        }
        GroupBy::Role => {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for p in points {
                *counts.entry(p.role.as_str()).or_default() += 1;
            }
            let mut top: Vec<(&str, usize)> = counts.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let mut names: Vec<String> = top.iter().take(4).map(|(r, _)| r.to_string()).collect();
            if top.len() > 4 {
                names.push("other roles".into());
            }
            names
        }
    };
    let start = first.time.div_euclid(width) * width;
    let n = ((last.time - start) / width + 1) as usize;
    let mut out: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            start: start + i as i64 * width,
            end: start + (i as i64 + 1) * width,
            counts: vec![0; series.len()],
            failures: 0,
        })
        .collect();
    for p in points {
        let i = ((p.time - start) / width) as usize;
        let b = &mut out[i];
        if p.failed {
            b.failures += 1;
            continue;
        }
        let name = match by {
            GroupBy::Tier => p.tier.as_str(),
            GroupBy::Role => p.role.as_str(),
        };
        let s = series
            .iter()
            .position(|x| x == name)
            .or_else(|| series.iter().position(|x| x == "other roles"));
        if let Some(s) = s {
            b.counts[s] += 1;
        }
    }
    (series, out)
}

/// Columns left of the chart for the series labels.
pub const LABEL_WIDTH: u16 = 16;

/// Columns per bucket on a `width`-column screen: buckets widen to fill
/// the chart when there are few of them.
pub fn bar_width(width: u16, buckets: usize) -> usize {
    let chart = width.saturating_sub(LABEL_WIDTH).max(1) as usize;
    (chart / buckets.max(1)).clamp(1, 6)
}

/// How many buckets fit on a `width`-column screen.
pub fn visible_buckets(width: u16, buckets: usize) -> usize {
    let chart = width.saturating_sub(LABEL_WIDTH).max(1) as usize;
    (chart / bar_width(width, buckets)).max(1)
}

/// The zoom level actually used for `points` (zoomed out past
/// [`MAX_BUCKETS`]).
pub fn effective_zoom(points: &[ExchangePoint], zoom: usize) -> usize {
    let mut zoom = zoom.min(ZOOMS.len() - 1);
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let span = last.time - first.time;
        while zoom + 1 < ZOOMS.len() && span / (ZOOMS[zoom].0 * 1_000_000) > MAX_BUCKETS as i64 {
            zoom += 1;
        }
    }
    zoom
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(secs: i64, tier: &str, role: &str, failed: bool) -> ExchangePoint {
        ExchangePoint {
            time: secs * 1_000_000,
            tier: tier.into(),
            role: role.into(),
            failed,
        }
    }

    #[test]
    fn buckets_count_by_tier_and_keep_failures_apart() {
        let pts = vec![
            p(0, "production", "a", false),
            p(30, "staging", "b", false),
            p(61, "production", "a", true),
            p(200, "production", "a", false),
        ];
        let (series, b) = buckets(&pts, 0, GroupBy::Tier);
        assert_eq!(series, vec!["production", "staging"]);
        assert_eq!(b.len(), 4);
        assert_eq!(b[0].counts, vec![1, 1]);
        assert_eq!((b[1].total(), b[1].failures), (0, 1));
        assert_eq!(b[3].counts, vec![1, 0]);
        let (_, b) = buckets(&pts, 3, GroupBy::Tier);
        assert_eq!(b.len(), 1);
        let (series, _) = buckets(&pts, 0, GroupBy::Role);
        assert_eq!(series, vec!["a", "b"]);
    }

    #[test]
    fn long_spans_zoom_out_by_themselves() {
        // 400 days: 9,600 hours fit under MAX_BUCKETS, 576,000 minutes do not.
        let pts = vec![p(0, "x", "r", false), p(400 * 86_400, "x", "r", false)];
        assert_eq!(effective_zoom(&pts, 0), 3);
        assert_eq!(effective_zoom(&pts, 5), 5, "zooming out is always allowed");
        assert!(buckets(&pts, 0, GroupBy::Tier).1.len() <= MAX_BUCKETS + 1);
        assert_eq!(buckets(&[], 0, GroupBy::Tier).1.len(), 0);
    }
}
