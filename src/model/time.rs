//! Time values: microseconds since the Unix epoch, UTC.
//!
//! CloudTrail writes `eventTime` as `2025-04-16T02:46:56Z`; exports and other
//! tools add fractions, offsets or a space instead of the `T`; STS writes
//! credential expirations as `Apr 16, 2025, 3:46:56 AM`. The fast path parses
//! the canonical form by hand (it runs once per record); everything else goes
//! through chrono. Years before 1970 and up to 9999 are valid.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

pub const MICROS_PER_SEC: i64 = 1_000_000;

fn two(b: &[u8], i: usize) -> Option<u32> {
    let (h, l) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
    (h < 10 && l < 10).then_some(h as u32 * 10 + l as u32)
}

/// Days from 1970-01-01 to the given proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff...]Z`, the shape of nearly every record.
fn parse_canonical(s: &str) -> Option<Micros> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' && b[10] != b' ' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = two(b, 0)? as i64 * 100 + two(b, 2)? as i64;
    let (month, day) = (two(b, 5)?, two(b, 8)?);
    let (hour, min, sec) = (two(b, 11)?, two(b, 14)?, two(b, 17)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut frac_micros = 0i64;
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let mut scale = 100_000i64;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            frac_micros += (b[i] - b'0') as i64 * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i + 1 != b.len() || b[i] != b'Z' {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour as i64 * 3600 + min as i64 * 60 + sec as i64;
    Some(secs * MICROS_PER_SEC + frac_micros)
}

/// Parses an event timestamp. Accepts RFC 3339 (any offset), the canonical
/// CloudTrail form, and `YYYY-MM-DD HH:MM:SS[.f]` (taken as UTC), as Lake and
/// Athena exports write it.
pub fn parse_timestamp(s: &str) -> Option<Micros> {
    let s = s.trim();
    if let Some(t) = parse_canonical(s) {
        return Some(t);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc).timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f UTC",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&dt).timestamp_micros());
        }
    }
    None
}

/// Parses an STS credential expiration: `Apr 16, 2025, 3:46:56 AM`,
/// `Sep 15, 2021 4:00:36 AM`, or any form [`parse_timestamp`] accepts.
pub fn parse_expiration(s: &str) -> Option<Micros> {
    if let Some(t) = parse_timestamp(s) {
        return Some(t);
    }
    // The two formats, read once: parse_from_str reads its format string
    // again on every call, and every exchange carries an expiration.
    static FORMATS: std::sync::LazyLock<[Vec<chrono::format::Item<'static>>; 2]> =
        std::sync::LazyLock::new(|| {
            ["%b %d, %Y, %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p"]
                .map(|f| chrono::format::StrftimeItems::new(f).collect())
        });
    let s = s.trim();
    FORMATS.iter().find_map(|items| {
        let mut parsed = chrono::format::Parsed::new();
        chrono::format::parse(&mut parsed, s, items.iter()).ok()?;
        let dt: NaiveDateTime = parsed.to_naive_datetime_with_offset(0).ok()?;
        Some(Utc.from_utc_datetime(&dt).timestamp_micros())
    })
}

/// Seconds since the epoch (JWT `iat`/`exp`) to micros, refusing values that
/// would overflow.
pub fn from_epoch_seconds(secs: f64) -> Option<Micros> {
    if !secs.is_finite() {
        return None;
    }
    let micros = secs * MICROS_PER_SEC as f64;
    if micros.abs() > 8.0e18 {
        return None;
    }
    Some(micros.round() as i64)
}

/// RFC 3339 in UTC with a `Z`, to the second unless the value has a fraction.
pub fn format_time(t: Micros) -> String {
    match DateTime::<Utc>::from_timestamp_micros(t) {
        Some(dt) if t % MICROS_PER_SEC == 0 => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => format!("@{t}us"),
    }
}

/// A calendar date at midnight UTC, for `--since 2025-04-01`.
/// Serializes a time as RFC 3339 (for serde `serialize_with`).
/// Reads a time written by [`ser_micros`].
pub fn de_micros<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Micros, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    parse_timestamp(&text).ok_or_else(|| serde::de::Error::custom(format!("not a time: {text:?}")))
}

/// Reads an optional time written by [`ser_opt_micros`].
pub fn de_opt_micros<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Micros>, D::Error> {
    match <Option<String> as serde::Deserialize>::deserialize(d)? {
        None => Ok(None),
        Some(text) => parse_timestamp(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a time: {text:?}"))),
    }
}

pub fn ser_micros<S: serde::Serializer>(t: &Micros, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

/// Serializes an optional time as RFC 3339 or null.
pub fn ser_opt_micros<S: serde::Serializer>(t: &Option<Micros>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time(*t)),
        None => s.serialize_none(),
    }
}

pub fn parse_date(s: &str) -> Option<Micros> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(
        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?)
            .timestamp_micros(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_matches_chrono_across_eras() {
        for s in [
            "2025-04-16T02:46:56Z",
            "1969-12-31T23:59:59Z",
            "1900-03-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-29T12:00:00.250Z",
            "2000-01-01T00:00:00.000001Z",
        ] {
            let expected = DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros();
            assert_eq!(parse_canonical(s), Some(expected), "{s}");
        }
    }

    #[test]
    fn rejects_impossible_dates() {
        assert_eq!(parse_timestamp("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_timestamp("2023-13-01T00:00:00Z"), None);
        assert_eq!(parse_timestamp("2023-01-01T24:00:00Z"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp(""), None);
    }

    #[test]
    fn accepts_offsets_and_export_forms() {
        let z = parse_timestamp("2025-04-16T02:46:56Z").unwrap();
        assert_eq!(parse_timestamp("2025-04-16T04:46:56+02:00"), Some(z));
        assert_eq!(parse_timestamp("2025-04-16 02:46:56"), Some(z));
        assert_eq!(parse_timestamp("2025-04-16 02:46:56.000"), Some(z));
    }

    #[test]
    fn sts_expiration_forms() {
        let a = parse_expiration("Apr 16, 2025, 3:46:56 AM").unwrap();
        assert_eq!(format_time(a), "2025-04-16T03:46:56Z");
        let b = parse_expiration("Sep 15, 2021 4:00:36 AM").unwrap();
        assert_eq!(format_time(b), "2021-09-15T04:00:36Z");
        let c = parse_expiration("Nov 30, 2024, 8:43:17 PM").unwrap();
        assert_eq!(format_time(c), "2024-11-30T20:43:17Z");
        assert_eq!(parse_expiration("2025-04-16T03:46:56Z"), Some(a));
    }

    #[test]
    fn epoch_seconds_bounds() {
        assert_eq!(from_epoch_seconds(1.5), Some(1_500_000));
        assert_eq!(from_epoch_seconds(f64::NAN), None);
        assert_eq!(from_epoch_seconds(1e300), None);
    }
}
