//! The model as polars tables, built from typed rows with an explicit
//! schema (never inferred: inference silently drops keys first seen after
//! the rows it sampled). Column names are lower-case snake case and stable:
//! they are what `rolecall query`, user detections and the Parquet export
//! see. Times are `Datetime(µs)` in UTC.
//!
//! This module builds the tables that need no policy: `events`,
//! `assumptions`, `claims`, `jobs` and `runs`. `sessions` and `activity`
//! carry policy-derived columns and are built by `detect`.

// Unsafe code here: string columns are built as Arrow views without a second validation pass. Each block says why it is sound.
#![allow(unsafe_code)]

use polars::prelude::*;

use super::events::EventStore;
use super::interner::Interner;
use super::records::{Assumption, ClaimsMatch, JobRecord, RunWindow, Session, TokenClaims};
use super::Sym;

/// Builds a frame column by column.
pub struct FrameBuilder {
    height: usize,
    columns: Vec<Column>,
}

impl FrameBuilder {
    pub fn new(height: usize) -> Self {
        FrameBuilder {
            height,
            columns: Vec::new(),
        }
    }

    pub fn str<'a>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = Option<&'a str>>,
    ) -> &mut Self {
        let v: Vec<Option<&str>> = values.into_iter().collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }

    /// A string column of values that repeat (a user agent, an action, a
    /// session's key over its calls): each distinct value is stored once
    /// and rows are polars' 16-byte views into it. On the 10M-record
    /// benchmark this halves the `activity` table.
    pub fn repeated_str<'a>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = Option<&'a str>>,
    ) -> &mut Self {
        self.columns.push(repeated_str_column(name, values));
        self
    }

    /// [`repeated_str`](Self::repeated_str) for values given as runs of
    /// rows (a session's key over its calls): each run is looked up once.
    pub fn repeated_str_runs<'a>(
        &mut self,
        name: &str,
        runs: impl Iterator<Item = (Option<&'a str>, usize)>,
    ) -> &mut Self {
        self.columns.push(repeated_str_runs_column(name, runs));
        self
    }

    /// [`repeated_str`](Self::repeated_str) for a column of the event
    /// store: each distinct value is found by its symbol, an index, where
    /// hashing its text per row was most of building the `activity` table.
    pub fn interned(
        &mut self,
        name: &str,
        strings: &Interner,
        syms: impl ExactSizeIterator<Item = Sym>,
    ) -> &mut Self {
        self.columns.push(interned_column(name, strings, syms));
        self
    }

    pub fn string(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = Option<String>>,
    ) -> &mut Self {
        let v: Vec<Option<String>> = values.into_iter().collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }

    pub fn i64(&mut self, name: &str, values: impl IntoIterator<Item = Option<i64>>) -> &mut Self {
        let v: Vec<Option<i64>> = values.into_iter().collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }

    pub fn bool(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = Option<bool>>,
    ) -> &mut Self {
        let v: Vec<Option<bool>> = values.into_iter().collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }

    /// Microseconds since the epoch as a UTC datetime column.
    pub fn time(&mut self, name: &str, values: impl IntoIterator<Item = Option<i64>>) -> &mut Self {
        let v: Vec<Option<i64>> = values.into_iter().collect();
        let c = Column::new(name.into(), v)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .expect("i64 casts to datetime");
        self.columns.push(c);
        self
    }

    pub fn finish(self) -> DataFrame {
        DataFrame::new(self.height, self.columns)
            .expect("columns have the frame's height and unique names")
    }
}

/// A string column of views (see [`FrameBuilder::repeated_str`]), each
/// distinct value copied into the column's buffers once.
struct ViewColumn {
    buffers: Vec<polars_buffer::Buffer<u8>>,
    current: Vec<u8>,
    views: Vec<polars_arrow::array::View>,
    validity: polars_arrow::bitmap::MutableBitmap,
}

impl ViewColumn {
    fn with_capacity(rows: usize) -> Self {
        ViewColumn {
            buffers: Vec::new(),
            current: Vec::new(),
            views: Vec::with_capacity(rows),
            validity: polars_arrow::bitmap::MutableBitmap::with_capacity(rows),
        }
    }

    /// Stores a value (inline when short) and returns its view, for the
    /// caller to push once per row that holds it.
    fn store(&mut self, text: &str) -> polars_arrow::array::View {
        use polars_arrow::array::View;
        let bytes = text.as_bytes();
        if bytes.len() <= View::MAX_INLINE_SIZE as usize {
            return View::new_from_bytes(bytes, 0, 0);
        }
        // Views address a buffer with 32-bit offsets.
        if self.current.len() + bytes.len() > u32::MAX as usize {
            self.buffers.push(std::mem::take(&mut self.current).into());
        }
        let view =
            View::new_from_bytes(bytes, self.buffers.len() as u32, self.current.len() as u32);
        self.current.extend_from_slice(bytes);
        view
    }

    fn push(&mut self, view: Option<polars_arrow::array::View>) {
        self.views.push(view.unwrap_or_default());
        self.validity.push(view.is_some());
    }

    fn finish(mut self, name: &str) -> Column {
        use polars_arrow::array::Utf8ViewArray;
        use polars_arrow::datatypes::ArrowDataType;
        self.buffers.push(self.current.into());
        let validity = (self.validity.unset_bits() > 0).then(|| self.validity.into());
        // SAFETY: every view was made by `store` from a `&str` (valid UTF-8)
        // over the bytes it copied, or is inline; the buffer index and
        // offset it names are where `store` put them; validity has one bit
        // per view. (Debug builds check the offsets in `new_unchecked`.)
        let array = unsafe {
            Utf8ViewArray::new_unchecked_unknown_md(
                ArrowDataType::Utf8View,
                self.views.into(),
                self.buffers.into(),
                validity,
                None,
            )
        };
        StringChunked::with_chunk(name.into(), array)
            .into_series()
            .into_column()
    }
}

/// See [`FrameBuilder::repeated_str`].
fn repeated_str_column<'a>(
    name: &str,
    values: impl IntoIterator<Item = Option<&'a str>>,
) -> Column {
    repeated_str_runs_column(name, values.into_iter().map(|v| (v, 1)))
}

/// See [`FrameBuilder::repeated_str_runs`].
fn repeated_str_runs_column<'a>(
    name: &str,
    runs: impl Iterator<Item = (Option<&'a str>, usize)>,
) -> Column {
    let mut seen: hashbrown::HashMap<&str, polars_arrow::array::View, foldhash::fast::FixedState> =
        Default::default();
    let mut column = ViewColumn::with_capacity(runs.size_hint().0);
    for (value, count) in runs {
        // A session without calls has no rows: its key is not stored.
        if count == 0 {
            continue;
        }
        let view = value.map(|text| *seen.entry(text).or_insert_with(|| column.store(text)));
        for _ in 0..count {
            column.push(view);
        }
    }
    column.finish(name)
}

/// See [`FrameBuilder::interned`].
fn interned_column(
    name: &str,
    strings: &Interner,
    syms: impl ExactSizeIterator<Item = Sym>,
) -> Column {
    use polars_arrow::array::View;
    // A value's view by its symbol; the all-zero view stands for "not yet
    // stored" (an empty string's view is also all zero, and is rebuilt
    // each time it comes, for nothing).
    let mut stored = vec![View::default(); strings.len() + 1];
    let mut column = ViewColumn::with_capacity(syms.len());
    for sym in syms {
        let view = strings.opt(sym).map(|text| {
            let slot = &mut stored[sym.0 as usize];
            if *slot == View::default() {
                *slot = column.store(text);
            }
            *slot
        });
        column.push(view);
    }
    column.finish(name)
}

/// Every event, one row each.
pub fn events_frame(ev: &EventStore, files: &[String]) -> DataFrame {
    let n = ev.len();
    let s = |col: &Vec<super::Sym>| col.iter().map(|&x| ev.str(x)).collect::<Vec<_>>();
    let mut b = FrameBuilder::new(n);
    b.time("time", (0..n).map(|i| ev.time_of(i)))
        .interned("cloud", &ev.strings, ev.cloud.iter().copied())
        .interned("account", &ev.strings, ev.account.iter().copied())
        .interned("region", &ev.strings, ev.region.iter().copied())
        .interned("service", &ev.strings, ev.service.iter().copied())
        .interned("action", &ev.strings, ev.action.iter().copied())
        .interned(
            "principal_type",
            &ev.strings,
            ev.principal_type.iter().copied(),
        )
        .interned(
            "principal_arn",
            &ev.strings,
            ev.principal_arn.iter().copied(),
        )
        .interned("role_arn", &ev.strings, ev.role_arn.iter().copied())
        .interned("access_key_id", &ev.strings, ev.access_key.iter().copied())
        .interned("source_ip", &ev.strings, ev.source_ip.iter().copied())
        .interned("user_agent", &ev.strings, ev.user_agent.iter().copied())
        .interned("error_code", &ev.strings, ev.error_code.iter().copied())
        .str("event_id", (0..n).map(|i| ev.event_id_of(i)))
        .bool("read_only", (0..n).map(|i| ev.read_only_of(i)))
        .bool("via_service", (0..n).map(|i| Some(ev.via_service(i))))
        .interned(
            "federated_provider",
            &ev.strings,
            ev.federated_provider.iter().copied(),
        )
        .str("issued_access_key_id", s(&ev.issued_key))
        .interned("resource", &ev.strings, ev.resource.iter().copied())
        .repeated_str(
            "file",
            ev.file
                .iter()
                .map(|&f| files.get(f as usize).map(String::as_str)),
        )
        .i64("record", ev.record.iter().map(|&r| Some(r as i64)))
        .i64("line", ev.line.iter().map(|&l| (l > 0).then_some(l as i64)));
    b.finish()
}

/// Every role exchange, success or failure, with its claims join.
pub fn assumptions_frame(
    assumptions: &[Assumption],
    matches: &[ClaimsMatch],
    claims: &[TokenClaims],
    sessions: &[Session],
    files: &[String],
) -> DataFrame {
    let n = assumptions.len();
    let mut session_of = vec![None; n];
    for s in sessions {
        session_of[s.assumption] = Some(s.key.as_str());
    }
    let a = assumptions;
    let token_key: Vec<Option<&str>> = matches
        .iter()
        .map(|m| m.claims.map(|c| claims[c].token_key()))
        .collect();
    let matched = |m: &ClaimsMatch| m.claims.map(|c| &claims[c]);
    let mut b = FrameBuilder::new(n);
    b.time("time", a.iter().map(|x| x.time))
        .str("cloud", a.iter().map(|x| Some(x.cloud.as_str())))
        .str("account", a.iter().map(|x| x.account.as_deref()))
        .str("region", a.iter().map(|x| x.region.as_deref()))
        .str("issuer", a.iter().map(|x| x.issuer.as_deref()))
        .str("provider_arn", a.iter().map(|x| x.provider_arn.as_deref()))
        .str("subject", a.iter().map(|x| x.subject.as_deref()))
        .str("audience", a.iter().map(|x| x.audience.as_deref()))
        .str("role_arn", a.iter().map(|x| x.role_arn.as_deref()))
        .str("role_id", a.iter().map(|x| x.role_id.as_deref()))
        .str(
            "role_session_name",
            a.iter().map(|x| x.role_session_name.as_deref()),
        )
        .i64("duration_seconds", a.iter().map(|x| x.duration_seconds))
        .str(
            "access_key_id",
            a.iter().map(|x| x.access_key_id.as_deref()),
        )
        .time("expiration", a.iter().map(|x| x.expiration))
        .str(
            "assumed_role_arn",
            a.iter().map(|x| x.assumed_role_arn.as_deref()),
        )
        .str(
            "source_identity",
            a.iter().map(|x| x.source_identity.as_deref()),
        )
        .str("source_ip", a.iter().map(|x| x.source_ip.as_deref()))
        .str("user_agent", a.iter().map(|x| x.user_agent.as_deref()))
        .str("error_code", a.iter().map(|x| x.error_code.as_deref()))
        .str(
            "error_message",
            a.iter().map(|x| x.error_message.as_deref()),
        )
        .str("event_id", a.iter().map(|x| x.event_id.as_deref()))
        .bool("succeeded", a.iter().map(|x| Some(x.succeeded())))
        .str("session_key", session_of)
        .str("match", matches.iter().map(|m| Some(m.kind.as_str())))
        .i64(
            "claims_candidates",
            matches.iter().map(|m| Some(m.candidates as i64)),
        )
        .str("token_key", token_key)
        .str(
            "jti",
            matches
                .iter()
                .map(|m| matched(m).and_then(|c| c.jti.as_deref())),
        )
        .time(
            "token_iat",
            matches.iter().map(|m| matched(m).and_then(|c| c.iat)),
        )
        .str(
            "request_parameters",
            a.iter().map(|x| x.request_parameters.as_deref()),
        )
        .str(
            "file",
            a.iter()
                .map(|x| files.get(x.file as usize).map(String::as_str)),
        )
        .i64("record", a.iter().map(|x| Some(x.record as i64)))
        .i64(
            "line",
            a.iter().map(|x| (x.line > 0).then_some(x.line as i64)),
        );
    b.finish()
}

/// Every token's claims.
pub fn claims_frame(claims: &[TokenClaims], files: &[String]) -> DataFrame {
    let c = claims;
    let mut b = FrameBuilder::new(c.len());
    b.str("issuer", c.iter().map(|x| Some(x.issuer.as_str())))
        .str("subject", c.iter().map(|x| Some(x.subject.as_str())))
        .string("audience", c.iter().map(|x| Some(x.audiences.join(","))))
        .str("jti", c.iter().map(|x| x.jti.as_deref()))
        .time("iat", c.iter().map(|x| x.iat))
        .time("exp", c.iter().map(|x| x.exp))
        .time("nbf", c.iter().map(|x| x.nbf))
        .str("provider", c.iter().map(|x| x.provider.map(|p| p.as_str())))
        .str("repository", c.iter().map(|x| x.repository.as_deref()))
        .str("ref", c.iter().map(|x| x.git_ref.as_deref()))
        .str("ref_type", c.iter().map(|x| x.ref_type.as_deref()))
        .str("environment", c.iter().map(|x| x.environment.as_deref()))
        .str(
            "deployment_tier",
            c.iter().map(|x| x.deployment_tier.as_deref()),
        )
        .str("workflow_ref", c.iter().map(|x| x.workflow_ref.as_deref()))
        .str("trigger", c.iter().map(|x| x.trigger.as_deref()))
        .str("run_id", c.iter().map(|x| x.run_id.as_deref()))
        .str("run_attempt", c.iter().map(|x| x.run_attempt.as_deref()))
        .str("actor", c.iter().map(|x| x.actor.as_deref()))
        .str(
            "runner_environment",
            c.iter().map(|x| x.runner_environment.as_deref()),
        )
        .bool("ref_protected", c.iter().map(|x| x.ref_protected))
        .bool("verified", c.iter().map(|x| x.verified))
        .bool("from_jwt", c.iter().map(|x| Some(x.from_jwt)))
        .str("token_key", c.iter().map(|x| Some(x.token_key())))
        .str(
            "file",
            c.iter()
                .map(|x| files.get(x.file as usize).map(String::as_str)),
        )
        .i64("record", c.iter().map(|x| Some(x.record as i64)))
        .i64(
            "line",
            c.iter().map(|x| (x.line > 0).then_some(x.line as i64)),
        );
    b.finish()
}

/// Every `workflow_job` delivery.
pub fn jobs_frame(jobs: &[JobRecord], files: &[String]) -> DataFrame {
    let j = jobs;
    let mut b = FrameBuilder::new(j.len());
    b.str("repository", j.iter().map(|x| Some(x.repository.as_str())))
        .str("run_id", j.iter().map(|x| Some(x.run_id.as_str())))
        .str("run_attempt", j.iter().map(|x| x.run_attempt.as_deref()))
        .str("job_id", j.iter().map(|x| x.job_id.as_deref()))
        .str("job_name", j.iter().map(|x| x.job_name.as_deref()))
        .str(
            "workflow_name",
            j.iter().map(|x| x.workflow_name.as_deref()),
        )
        .str("action", j.iter().map(|x| x.action.as_deref()))
        .str("status", j.iter().map(|x| x.status.as_deref()))
        .str("conclusion", j.iter().map(|x| x.conclusion.as_deref()))
        .time("started_at", j.iter().map(|x| x.started_at))
        .time("completed_at", j.iter().map(|x| x.completed_at))
        .str("runner_name", j.iter().map(|x| x.runner_name.as_deref()))
        .string("labels", j.iter().map(|x| Some(x.labels.join(","))))
        .str(
            "file",
            j.iter()
                .map(|x| files.get(x.file as usize).map(String::as_str)),
        );
    b.finish()
}

/// Every CI run window.
pub fn runs_frame(runs: &[RunWindow]) -> DataFrame {
    let r = runs;
    let mut b = FrameBuilder::new(r.len());
    b.str("repository", r.iter().map(|x| Some(x.repository.as_str())))
        .str("run_id", r.iter().map(|x| Some(x.run_id.as_str())))
        .str("run_attempt", r.iter().map(|x| x.run_attempt.as_deref()))
        .time("started_at", r.iter().map(|x| x.started_at))
        .time("ended_at", r.iter().map(|x| x.ended_at))
        .i64("jobs", r.iter().map(|x| Some(x.jobs as i64)))
        .string("runners", r.iter().map(|x| Some(x.runners.join(","))));
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::EventRow;

    #[test]
    fn events_frame_has_explicit_types_even_when_empty() {
        let df = events_frame(&EventStore::default(), &[]);
        assert_eq!(df.height(), 0);
        let schema = df.schema();
        assert_eq!(
            schema.get("time"),
            Some(&DataType::Datetime(TimeUnit::Microseconds, None))
        );
        assert_eq!(schema.get("source_ip"), Some(&DataType::String));
        assert_eq!(schema.get("read_only"), Some(&DataType::Boolean));
    }

    #[test]
    fn repeated_strings_are_stored_once_and_read_back_equal() {
        let long =
            "Mozilla/5.0 (X11; Linux x86_64) aws-cli/2.15.0 Python/3.11 exec-env/GitHubActions";
        let values = [
            Some(long),
            None,
            Some("s3"),
            Some(long),
            Some(""),
            Some("ünïcödé-and-longer-than-12"),
            Some(long),
        ];
        let ua = repeated_str_column("ua", values);
        let plain = Column::new("ua".into(), values.to_vec());
        assert!(ua
            .as_materialized_series()
            .equals_missing(plain.as_materialized_series()));
        assert_eq!(ua.null_count(), 1);
        let arr = ua.str().unwrap().downcast_iter().next().unwrap().clone();
        let stored: usize = arr.data_buffers().iter().map(|b| b.len()).sum();
        assert_eq!(stored, long.len() + "ünïcödé-and-longer-than-12".len());
        // Every string operation sees ordinary values.
        let df = DataFrame::new(values.len(), vec![ua]).unwrap();
        let out = df
            .lazy()
            .filter(col("ua").str().contains_literal(lit("aws-cli")))
            .collect()
            .unwrap();
        assert_eq!(out.height(), 3);
    }

    /// The bytes a view column keeps in its buffers.
    fn stored_bytes(c: &Column) -> usize {
        let arr = c.str().unwrap().downcast_iter().next().unwrap().clone();
        arr.data_buffers().iter().map(|b| b.len()).sum()
    }

    #[test]
    fn interned_and_run_columns_read_back_as_plain_columns() {
        let long = "arn:aws:iam::111111111111:role/deploy-production";
        let unicode = "ünïcödé-and-longer-than-12";
        let values = [
            Some(long),
            None,
            Some(""),
            Some("s3"),
            Some(long),
            Some(unicode),
            Some(""),
        ];
        let plain = Column::new("v".into(), values.to_vec());

        let mut strings = Interner::new();
        let syms: Vec<Sym> = values.iter().map(|v| strings.intern_opt(*v)).collect();
        let interned = interned_column("v", &strings, syms.into_iter());
        assert!(interned
            .as_materialized_series()
            .equals_missing(plain.as_materialized_series()));
        assert_eq!(interned.null_count(), 1);
        assert_eq!(stored_bytes(&interned), long.len() + unicode.len());

        // Runs: each value over several rows, a repeated one stored once,
        // one over no rows not at all.
        let runs = [
            (Some(long), 2),
            (None, 1),
            (Some("s3"), 0),
            (Some("a-session-key-without-calls"), 0),
            (Some(long), 3),
            (Some(unicode), 1),
        ];
        let expanded: Vec<Option<&str>> = runs
            .iter()
            .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
            .collect();
        let ran = repeated_str_runs_column("v", runs.into_iter());
        assert!(ran
            .as_materialized_series()
            .equals_missing(Column::new("v".into(), expanded).as_materialized_series()));
        assert_eq!(ran.len(), 7);
        assert_eq!(stored_bytes(&ran), long.len() + unicode.len());
    }

    #[test]
    fn events_frame_keeps_values() {
        let mut ev = EventStore::default();
        ev.push(&EventRow {
            time: Some(1_000_000),
            cloud: "aws",
            action: Some("GetObject"),
            file: 0,
            line: 3,
            ..Default::default()
        });
        let df = events_frame(&ev, &["a.json".into()]);
        assert_eq!(
            df.column("action").unwrap().str().unwrap().get(0),
            Some("GetObject")
        );
        assert_eq!(
            df.column("file").unwrap().str().unwrap().get(0),
            Some("a.json")
        );
        assert_eq!(df.column("line").unwrap().i64().unwrap().get(0), Some(3));
        assert_eq!(df.column("region").unwrap().str().unwrap().get(0), None);
    }
}
