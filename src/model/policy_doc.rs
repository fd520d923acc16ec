//! IAM policy documents as written: the JSON of a role's trust policy,
//! parsed into statements, principals, actions and conditions without
//! judging any of it.
//!
//! AWS hands the same document out in three spellings: an object (bare
//! documents, Panther resources), a JSON string, and a URL-encoded JSON
//! string (`get-account-authorization-details`, `get-role`, CloudTrail's
//! `responseElements`). [`parse_policy_text`] accepts all three. IAM's own
//! leniencies are kept: `Statement` may be one object or a list, `Action`,
//! principals and condition values may be a string or a list, condition
//! values may be numbers or booleans. What IAM itself would refuse (no
//! `Effect`, a condition that is not a map of maps) is an error with a
//! reason, never a guess.

use serde_json::{Map, Value};

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// The `Principal` (or `NotPrincipal`) element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"*"`: everyone.
    Any,
    /// `{"Federated": [...], "AWS": [...], "Service": [...]}`, in order.
    Map(Vec<(String, Vec<String>)>),
}

impl Principals {
    /// The values of one principal type (`Federated`, `AWS`...), matched
    /// case-insensitively on the type as IAM does.
    pub fn of_type(&self, kind: &str) -> Vec<&str> {
        match self {
            Principals::Any => Vec::new(),
            Principals::Map(m) => m
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(kind))
                .flat_map(|(_, v)| v.iter().map(String::as_str))
                .collect(),
        }
    }

    /// Every principal of any type is admitted: `"*"` or `{"AWS": "*"}`.
    pub fn is_everyone(&self) -> bool {
        match self {
            Principals::Any => true,
            Principals::Map(m) => m
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("AWS") && v.iter().any(|p| p == "*")),
        }
    }
}

/// A set qualifier on a condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// `ForAnyValue:`: at least one context value matches; false when the
    /// key is missing.
    ForAnyValue,
    /// `ForAllValues:`: every context value matches; true when the key is
    /// missing (the trap the `trust-forallvalues-single-claim` rule names).
    ForAllValues,
}

/// The operator family, without qualifier or `IfExists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseOp {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    /// ARN operators compare like `StringLike`/`StringNotLike` here.
    ArnLike,
    ArnNotLike,
    Bool,
    Null,
    /// Numeric, date, IP, binary operators: kept, evaluated as unknown.
    Other(String),
}

impl BaseOp {
    /// Whether the operator asks that the value *not* match.
    pub fn negated(&self) -> bool {
        matches!(
            self,
            BaseOp::StringNotEquals
                | BaseOp::StringNotEqualsIgnoreCase
                | BaseOp::StringNotLike
                | BaseOp::ArnNotLike
        )
    }

    /// Whether `*` and `?` are wildcards in the values.
    pub fn wildcards(&self) -> bool {
        matches!(
            self,
            BaseOp::StringLike | BaseOp::StringNotLike | BaseOp::ArnLike | BaseOp::ArnNotLike
        )
    }

    /// Whether the operator compares strings (the ones trust rules judge).
    pub fn is_string(&self) -> bool {
        !matches!(self, BaseOp::Bool | BaseOp::Null | BaseOp::Other(_))
    }
}

/// A condition operator as written, decomposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// As written (`ForAnyValue:StringLikeIfExists`).
    pub raw: String,
    pub qualifier: Option<Qualifier>,
    pub base: BaseOp,
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name. Operator names are case-sensitive in IAM;
    /// an unknown one is kept as [`BaseOp::Other`] rather than refused, so
    /// that a document using a numeric or date operator is still read.
    pub fn parse(raw: &str) -> Operator {
        let (qualifier, rest) = if let Some(r) = raw.strip_prefix("ForAnyValue:") {
            (Some(Qualifier::ForAnyValue), r)
        } else if let Some(r) = raw.strip_prefix("ForAllValues:") {
            (Some(Qualifier::ForAllValues), r)
        } else {
            (None, raw)
        };
        let (name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(n) if n != "Null" => (n, true),
            _ => (rest, false),
        };
        let base = match name {
            "StringEquals" => BaseOp::StringEquals,
            "StringNotEquals" => BaseOp::StringNotEquals,
            "StringEqualsIgnoreCase" => BaseOp::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => BaseOp::StringNotEqualsIgnoreCase,
            "StringLike" => BaseOp::StringLike,
            "StringNotLike" => BaseOp::StringNotLike,
            "ArnEquals" | "ArnLike" => BaseOp::ArnLike,
            "ArnNotEquals" | "ArnNotLike" => BaseOp::ArnNotLike,
            "Bool" => BaseOp::Bool,
            "Null" => BaseOp::Null,
            other => BaseOp::Other(other.to_string()),
        };
        Operator {
            raw: raw.to_string(),
            qualifier,
            base,
            if_exists,
        }
    }
}

/// One `operator → key → values` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written; compare with [`Condition::key_is`] (IAM keys are
    /// case-insensitive).
    pub key: String,
    /// Several values are ORed (NORed for negated operators).
    pub values: Vec<String>,
}

impl Condition {
    pub fn key_is(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }

    /// `PREFIX:CLAIM` split at the last `:` (prefixes such as
    /// `oidc.circleci.com/org/ID` contain no `:`, claim names never do).
    pub fn split_key(&self) -> Option<(&str, &str)> {
        self.key.rsplit_once(':')
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Position in the document, 0-based.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principals>,
    pub not_principal: Option<Principals>,
    pub action: Option<Vec<String>>,
    pub not_action: Option<Vec<String>>,
    pub conditions: Vec<Condition>,
    /// The statement as written, for suggestions that keep it.
    pub raw: Value,
}

impl Statement {
    /// `statement 0 (Sid GitHubDeploy)`, for reasons and messages.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) if !s.is_empty() => format!("statement {} (Sid {s})", self.index),
            _ => format!("statement {}", self.index),
        }
    }

    /// The `Federated` principals it names.
    pub fn federated(&self) -> Vec<&str> {
        self.principal
            .as_ref()
            .map(|p| p.of_type("Federated"))
            .unwrap_or_default()
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub version: Option<String>,
    pub statements: Vec<Statement>,
    /// The document as written (decoded), for output and diffs.
    pub raw: Value,
}

impl PolicyDocument {
    /// Policy variables (`${...}`) are only substituted in version
    /// 2012-10-17; in older documents they are literal text.
    pub fn variables_enabled(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }

    /// The document with object keys sorted, pretty-printed: the form diffs
    /// and equality use, so that key order never counts as a change.
    pub fn canonical(&self) -> String {
        serde_json::to_string_pretty(&sorted(&self.raw)).unwrap_or_default()
    }
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Decodes `%XX` escapes strictly: a `%` not followed by two hex digits, or
/// bytes that are not UTF-8 once decoded, are errors naming the offset.
/// `+` stays `+` (IAM encodes spaces as `%20`, and `+` is legal in JSON).
pub fn url_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
            match (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => {
                    let bad: String = s[i..].chars().take(3).collect();
                    return Err(format!(
                        "bad URL-encoding at offset {i}: `{bad}` is not %XX"
                    ));
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|e| format!("bad URL-encoding: the decoded bytes are not UTF-8 ({e})"))
}

/// Parses a document given as text: plain JSON or URL-encoded JSON.
pub fn parse_policy_text(text: &str) -> Result<PolicyDocument, String> {
    let t = text.trim();
    let decoded;
    let json = if t.starts_with('{') {
        t
    } else if t.starts_with('%') {
        decoded = url_decode(t)?;
        decoded.as_str()
    } else {
        let preview: String = t.chars().take(20).collect();
        return Err(format!(
            "the policy document is neither JSON nor URL-encoded JSON (starts with `{preview}`)"
        ));
    };
    let value: Value = serde_json::from_str(json)
        .map_err(|e| format!("the policy document is not valid JSON: {e}"))?;
    parse_policy_value(&value)
}

/// Parses a document given as a JSON value: an object, or a string holding
/// one (plain or URL-encoded).
pub fn parse_policy_value(value: &Value) -> Result<PolicyDocument, String> {
    let obj = match value {
        Value::String(s) => return parse_policy_text(s),
        Value::Object(o) => o,
        other => {
            return Err(format!(
                "the policy document is {}, not an object",
                json_kind(other)
            ))
        }
    };
    let version = match get_ci(obj, "Version") {
        None => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(other) => return Err(format!("`Version` is {}, not a string", json_kind(other))),
    };
    let statements = match get_ci(obj, "Statement") {
        None => return Err("the policy document has no `Statement`".into()),
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(v @ Value::Object(_)) => vec![v],
        Some(other) => {
            return Err(format!(
                "`Statement` is {}, not a list or object",
                json_kind(other)
            ))
        }
    };
    let statements = statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| parse_statement(i, s).map_err(|e| format!("Statement[{i}]: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PolicyDocument {
        version,
        statements,
        raw: value.clone(),
    })
}

/// What a JSON value is, for an error (`a string`, `a list`...).
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Policy element names are case-sensitive in IAM's grammar, but the
/// documents AWS returns and tools write always use the documented case; a
/// case-insensitive lookup only helps lowercased exports (Athena, Lake).
fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A string or a list of strings (numbers and booleans as their text).
fn strings(v: &Value, what: &str) -> Result<Vec<String>, String> {
    let one = |v: &Value| -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(format!("{what} holds {}, not a string", json_kind(other))),
        }
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

fn parse_principals(v: &Value, what: &str) -> Result<Principals, String> {
    match v {
        Value::String(s) if s == "*" => Ok(Principals::Any),
        Value::Object(m) => {
            let mut out = Vec::new();
            for (k, v) in m {
                out.push((k.clone(), strings(v, &format!("{what}.{k}"))?));
            }
            Ok(Principals::Map(out))
        }
        Value::String(s) => Err(format!(
            "`{what}` is the string `{s}`; only \"*\" may be written bare"
        )),
        other => Err(format!("`{what}` is {}, not an object", json_kind(other))),
    }
}

fn parse_statement(index: usize, v: &Value) -> Result<Statement, String> {
    let Value::Object(obj) = v else {
        return Err(format!("is {}, not an object", json_kind(v)));
    };
    let effect = match get_ci(obj, "Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(Value::String(e)) => return Err(format!("`Effect` is `{e}`, not Allow or Deny")),
        Some(other) => return Err(format!("`Effect` is {}, not a string", json_kind(other))),
        None => return Err("has no `Effect`".into()),
    };
    let sid = match get_ci(obj, "Sid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let principal = get_ci(obj, "Principal")
        .map(|p| parse_principals(p, "Principal"))
        .transpose()?;
    let not_principal = get_ci(obj, "NotPrincipal")
        .map(|p| parse_principals(p, "NotPrincipal"))
        .transpose()?;
    let action = get_ci(obj, "Action")
        .map(|a| strings(a, "Action"))
        .transpose()?;
    let not_action = get_ci(obj, "NotAction")
        .map(|a| strings(a, "NotAction"))
        .transpose()?;
    let mut conditions = Vec::new();
    match get_ci(obj, "Condition") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ops)) => {
            for (op, keys) in ops {
                let Value::Object(keys) = keys else {
                    return Err(format!(
                        "`Condition.{op}` is {}, not a map of keys",
                        json_kind(keys)
                    ));
                };
                let operator = Operator::parse(op);
                for (key, values) in keys {
                    conditions.push(Condition {
                        operator: operator.clone(),
                        key: key.clone(),
                        values: strings(values, &format!("Condition.{op}.{key}"))?,
                    });
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "`Condition` is {}, not an object",
                json_kind(other)
            ))
        }
    }
    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        not_principal,
        action,
        not_action,
        conditions,
        raw: v.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"GitHub","Effect":"Allow",
        "Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},
        "Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],
        "Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
                     "StringLike":{"token.actions.githubusercontent.com:sub":["repo:acme/web:ref:refs/heads/main","repo:acme/web:environment:prod"]}}}]}"#;

    #[test]
    fn plain_and_url_encoded_documents_parse_alike() {
        let plain = parse_policy_text(GITHUB).unwrap();
        let encoded: String = GITHUB
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let decoded = parse_policy_text(&encoded).unwrap();
        assert_eq!(plain.statements, decoded.statements);
        let s = &plain.statements[0];
        assert_eq!(s.label(), "statement 0 (Sid GitHub)");
        assert_eq!(s.federated().len(), 1);
        assert_eq!(s.conditions.len(), 2);
        assert_eq!(s.conditions[1].values.len(), 2);
        assert!(plain.variables_enabled());
    }

    #[test]
    fn operators_decompose() {
        let op = Operator::parse("ForAllValues:StringLikeIfExists");
        assert_eq!(op.qualifier, Some(Qualifier::ForAllValues));
        assert_eq!(op.base, BaseOp::StringLike);
        assert!(op.if_exists);
        assert_eq!(Operator::parse("Null").base, BaseOp::Null);
        assert!(Operator::parse("StringNotEquals").base.negated());
        assert_eq!(
            Operator::parse("NumericLessThan").base,
            BaseOp::Other("NumericLessThan".into())
        );
    }

    #[test]
    fn single_statement_object_and_string_values() {
        let d = parse_policy_text(
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}}"#,
        )
        .unwrap();
        assert_eq!(d.statements[0].principal, Some(Principals::Any));
        assert_eq!(d.statements[0].conditions[0].values, vec!["false"]);
        assert!(!d.variables_enabled());
    }

    #[test]
    fn bad_documents_say_why() {
        for (text, want) in [
            ("%7B%22Statement%ZZ", "bad URL-encoding at offset"),
            ("%FF%FE", "not UTF-8"),
            ("{\"Statement\":[", "not valid JSON"),
            ("{\"Version\":\"2012-10-17\"}", "no `Statement`"),
            (
                r#"{"Statement":[{"Principal":"*"}]}"#,
                "Statement[0]: has no `Effect`",
            ),
            (r#"{"Statement":[{"Effect":"Maybe"}]}"#, "not Allow or Deny"),
            (
                r#"{"Statement":[{"Effect":"Allow","Condition":{"StringEquals":"x"}}]}"#,
                "not a map of keys",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"arn:aws:iam::1:root"}]}"#,
                "only \"*\"",
            ),
            ("hello", "neither JSON nor URL-encoded"),
        ] {
            let e = parse_policy_text(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn canonical_form_ignores_key_order() {
        let a = parse_policy_text(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}"#,
        )
        .unwrap();
        let b = parse_policy_text(
            r#"{"Statement":[{"Action":"*","Effect":"Allow"}],"Version":"2012-10-17"}"#,
        )
        .unwrap();
        assert_eq!(a.canonical(), b.canonical());
    }
}
