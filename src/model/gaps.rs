//! A silent stretch in a trail's delivery, as the summary reports it
//! (found from file names by `ingest::gaps`).

use serde::Serialize;

use super::time::{format_time, Micros};

/// An hour, in microseconds.
pub const HOUR: Micros = 3_600_000_000;

/// Hours with no delivered file between busy hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TrailGap {
    pub account: String,
    pub region: String,
    #[serde(
        serialize_with = "crate::model::time::ser_micros",
        deserialize_with = "crate::model::time::de_micros"
    )]
    pub from: Micros,
    #[serde(
        serialize_with = "crate::model::time::ser_micros",
        deserialize_with = "crate::model::time::de_micros"
    )]
    pub to: Micros,
    pub files_before: usize,
    pub files_after: usize,
}

impl TrailGap {
    pub fn describe(&self) -> String {
        let hours = (self.to - self.from) / HOUR;
        format!(
            "no CloudTrail file for {} in {} from {} to {} ({} hour{}) while the hour before had {} files and the hour after {}: was the trail stopped?",
            self.account,
            self.region,
            format_time(self.from),
            format_time(self.to),
            hours,
            if hours == 1 { "" } else { "s" },
            self.files_before,
            self.files_after
        )
    }
}
