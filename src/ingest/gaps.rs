//! Gaps in a trail's delivery: CloudTrail writes a file every few minutes
//! per account and region while there is activity, so an hour with no file
//! between busy hours is worth saying (a stopped trail is itself a signal).
//! Judged from the delivered file names
//! (`ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_ID.json.gz`), local or in S3.

use std::collections::BTreeMap;

pub use crate::model::gaps::TrailGap;
use crate::model::gaps::HOUR;
use crate::model::time::Micros;

/// Files an hour on each side of a silent stretch for it to count as a gap.
pub const BUSY_HOUR_FILES: usize = 3;

/// (account, region, hour start) of a delivered trail file's name.
pub fn delivery_hour(path: &str) -> Option<(String, String, Micros)> {
    let name = path.rsplit(['/', '\\']).next()?;
    let mut parts = name.split('_');
    let account = parts.next()?;
    if parts.next()? != "CloudTrail"
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let region = parts.next()?;
    let stamp = parts.next()?;
    let t = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ").ok()?;
    let micros = t.and_utc().timestamp_micros();
    Some((
        account.to_string(),
        region.to_string(),
        micros.div_euclid(HOUR) * HOUR,
    ))
}

/// The gaps in `paths` (every file read, by name).
pub fn find<'a>(paths: impl Iterator<Item = &'a str>) -> Vec<TrailGap> {
    let mut hours: BTreeMap<(String, String), BTreeMap<Micros, usize>> = BTreeMap::new();
    for p in paths {
        if let Some((account, region, hour)) = delivery_hour(p) {
            *hours
                .entry((account, region))
                .or_default()
                .entry(hour)
                .or_default() += 1;
        }
    }
    let mut gaps = Vec::new();
    for ((account, region), counts) in hours {
        let delivered: Vec<(Micros, usize)> = counts.into_iter().collect();
        for pair in delivered.windows(2) {
            let ((before, n_before), (after, n_after)) = (pair[0], pair[1]);
            if after - before > HOUR && n_before >= BUSY_HOUR_FILES && n_after >= BUSY_HOUR_FILES {
                gaps.push(TrailGap {
                    account: account.clone(),
                    region: region.clone(),
                    from: before + HOUR,
                    to: after,
                    files_before: n_before,
                    files_after: n_after,
                });
            }
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::format_time;

    fn name(hour: u32, minute: u32, n: usize) -> String {
        format!("AWSLogs/111111111111/CloudTrail/us-east-1/2025/05/14/111111111111_CloudTrail_us-east-1_20250514T{hour:02}{minute:02}Z_{n}.json.gz")
    }

    #[test]
    fn an_empty_hour_between_busy_hours_is_a_gap() {
        let mut files: Vec<String> = (0..4).map(|i| name(10, i * 5, i as usize)).collect();
        files.extend((0..5).map(|i| name(13, i * 5, 10 + i as usize)));
        let gaps = find(files.iter().map(String::as_str));
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].files_before, 4);
        assert_eq!(gaps[0].files_after, 5);
        assert_eq!(format_time(gaps[0].from), "2025-05-14T11:00:00Z");
        assert_eq!(format_time(gaps[0].to), "2025-05-14T13:00:00Z");
        assert!(
            gaps[0].describe().contains("(2 hours)"),
            "{}",
            gaps[0].describe()
        );
    }

    #[test]
    fn quiet_hours_and_other_files_are_not_gaps() {
        // A quiet trail delivers little: an empty hour between hours with
        // one file each is not a gap.
        let files = [name(10, 0, 1), name(12, 0, 2)];
        assert!(find(files.iter().map(String::as_str)).is_empty());
        assert_eq!(delivery_hour("claims/github-actions.ndjson"), None);
        assert_eq!(
            delivery_hour("x/123_CloudTrail_us-east-1_20250514T1000Z_a.json.gz"),
            None
        );
        let (account, region, _) = delivery_hour(&name(10, 0, 1)).unwrap();
        assert_eq!(
            (account.as_str(), region.as_str()),
            ("111111111111", "us-east-1")
        );
    }
}
