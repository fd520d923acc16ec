//! Path access into `serde_json` values, for the sources whose records are
//! read as whole values (GCP, Entra, Vault): shallower and rarer than
//! CloudTrail, so clarity beats the borrowed fast path.

use serde_json::{Map, Value};

use super::json::FieldError;
use crate::model::time::{parse_timestamp, Micros};

/// The value at `path` below `v`, if every step is an object key.
pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur.as_object()?.get(*key)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// The value at `path` in a record map.
pub fn at_map<'a>(m: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    at(m.get(*first)?, rest)
}

/// The strings of an array value (other elements skipped); none when the
/// value is absent or not an array.
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// A string at `path`; a wrong type is an error naming the path.
pub fn str_at<'a>(m: &'a Map<String, Value>, path: &[&str]) -> Result<Option<&'a str>, FieldError> {
    match at_map(m, path) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(FieldError::new(
            path.join("."),
            format!("should be a string, found {}", kind(other)),
        )),
    }
}

/// A string or number at `path`, as text.
pub fn text_at(m: &Map<String, Value>, path: &[&str]) -> Result<Option<String>, FieldError> {
    match at_map(m, path) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(FieldError::new(
            path.join("."),
            format!("should be a string or a number, found {}", kind(other)),
        )),
    }
}

/// A timestamp at `path`; present but unreadable is an error.
pub fn time_at(m: &Map<String, Value>, path: &[&str]) -> Result<Option<Micros>, FieldError> {
    match str_at(m, path)? {
        None => Ok(None),
        Some(s) => parse_timestamp(s).map(Some).ok_or_else(|| {
            FieldError::new(
                path.join("."),
                format!("is not a timestamp: {:?}", super::json::clip(s, 40)),
            )
        }),
    }
}

/// An object at `path`; also accepted as a JSON string holding one (Log
/// Analytics writes nested objects that way).
pub fn object_at(
    m: &Map<String, Value>,
    path: &[&str],
) -> Result<Option<Map<String, Value>>, FieldError> {
    match at_map(m, path) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o.clone())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => Ok(Some(o)),
            _ => Err(FieldError::new(
                path.join("."),
                "should be an object, found a string",
            )),
        },
        Some(other) => Err(FieldError::new(
            path.join("."),
            format!("should be an object, found {}", kind(other)),
        )),
    }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// True for text that parses as an IPv4 or IPv6 address.
pub fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_types() {
        let v = json!({"a": {"b": "x", "n": 5, "o": "{\"k\":1}", "bad": [1]}});
        let m = v.as_object().unwrap();
        assert_eq!(str_at(m, &["a", "b"]).unwrap(), Some("x"));
        assert_eq!(str_at(m, &["a", "missing"]).unwrap(), None);
        assert!(str_at(m, &["a", "n"])
            .unwrap_err()
            .to_string()
            .contains("`a.n` should be a string"));
        assert_eq!(text_at(m, &["a", "n"]).unwrap().as_deref(), Some("5"));
        assert_eq!(object_at(m, &["a", "o"]).unwrap().unwrap()["k"], 1);
        assert!(object_at(m, &["a", "bad"]).is_err());
        assert!(is_ip("2001:db8::1") && !is_ip("private"));
    }
}
