//! Table cells as values: a polars cell as JSON (what findings' evidence,
//! the JSON outputs and the dashboard carry), and a value as the text a
//! message or table shows.

use polars::prelude::{AnyValue, TimeUnit};
use serde_json::Value;

/// A cell as JSON: lists become arrays, times RFC 3339 strings.
pub fn cell_value(v: &AnyValue<'_>) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int8(n) => Value::from(*n),
        AnyValue::Int16(n) => Value::from(*n),
        AnyValue::Int32(n) => Value::from(*n),
        AnyValue::Int64(n) => Value::from(*n),
        AnyValue::UInt8(n) => Value::from(*n),
        AnyValue::UInt16(n) => Value::from(*n),
        AnyValue::UInt32(n) => Value::from(*n),
        AnyValue::UInt64(n) => Value::from(*n),
        AnyValue::Float32(f) => Value::from(*f as f64),
        AnyValue::Float64(f) => Value::from(*f),
        AnyValue::Datetime(t, unit, _) | AnyValue::DatetimeOwned(t, unit, _) => {
            Value::String(super::time::format_time(to_micros(*t, *unit)))
        }
        AnyValue::Duration(d, unit) => Value::from(to_micros(*d, *unit) / 1_000_000),
        AnyValue::List(series) => Value::Array(
            (0..series.len())
                .map(|i| series.get(i).map(|x| cell_value(&x)).unwrap_or(Value::Null))
                .collect(),
        ),
        other => Value::String(other.to_string()),
    }
}

fn to_micros(v: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => v / 1000,
        TimeUnit::Microseconds => v,
        TimeUnit::Milliseconds => v.saturating_mul(1000),
    }
}

/// Text for a message template.
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}
