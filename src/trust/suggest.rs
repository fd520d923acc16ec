//! Tightened trust policies: what each role's policy would be if it
//! admitted exactly the subjects that used it.
//!
//! For every provider a role's web-identity statements trust and some
//! successful exchange used, one `Allow` statement with `StringEquals` on
//! the observed subjects and audiences: exact values are the narrowest
//! conditions that cover what was observed (a pattern would only be
//! narrower than a list if it matched fewer tokens, and it cannot match
//! fewer than the list it must cover). Statements that are not web-identity
//! `Allow`s (denies, service or account principals) are kept as written, so
//! the result can replace the policy with `aws iam update-assume-role-policy`.
//! Providers no exchange used are left out, and the notes say so. The
//! subjects and audiences are a cross product: a subject observed with one
//! audience is also admitted with another observed audience of the same
//! provider.

use serde_json::{json, Map, Value};

use super::analyze::web_statements;
use super::context::key_prefix;
use super::evaluate::action_matches;
use super::usage::RoleUsage;
use crate::model::policy_doc::PolicyDocument;

/// One subject that used a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Used {
    /// The `Federated` principal to write (a provider ARN).
    pub principal: String,
    pub issuer: String,
    pub subject: String,
    pub audience: Option<String>,
}

/// A tightened policy for one role.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub role: String,
    /// The policy document, ready for `update-assume-role-policy`.
    pub policy: Value,
    pub notes: Vec<String>,
}

/// The tightened document: `doc`'s other statements, and one exact
/// statement per provider in `used`.
pub fn tighten(doc: &PolicyDocument, used: &[Used]) -> (Value, Vec<String>) {
    let web = web_statements(doc);
    let mut notes = Vec::new();
    let mut statements: Vec<Value> = doc
        .statements
        .iter()
        .filter(|s| !web.iter().any(|w| std::ptr::eq(w.statement, *s)))
        .map(|s| s.raw.clone())
        .collect();
    let tag_session = web.iter().any(|w| {
        w.statement
            .action
            .as_ref()
            .is_some_and(|a| a.iter().any(|p| action_matches(p, "sts:TagSession")))
    });
    let mut principals: Vec<&str> = used.iter().map(|u| u.principal.as_str()).collect();
    principals.sort();
    principals.dedup();
    for (n, principal) in principals.iter().enumerate() {
        let mine: Vec<&Used> = used.iter().filter(|u| u.principal == *principal).collect();
        let prefix = key_prefix(&mine[0].issuer);
        let mut subjects: Vec<&str> = mine.iter().map(|u| u.subject.as_str()).collect();
        subjects.sort();
        subjects.dedup();
        let mut audiences: Vec<&str> = mine.iter().filter_map(|u| u.audience.as_deref()).collect();
        audiences.sort();
        audiences.dedup();
        let one_or_list = |v: &[&str]| if v.len() == 1 { json!(v[0]) } else { json!(v) };
        let mut equals = Map::new();
        if !audiences.is_empty() {
            equals.insert(format!("{prefix}:aud"), one_or_list(&audiences));
        }
        equals.insert(format!("{prefix}:sub"), one_or_list(&subjects));
        let action = if tag_session {
            json!(["sts:AssumeRoleWithWebIdentity", "sts:TagSession"])
        } else {
            json!("sts:AssumeRoleWithWebIdentity")
        };
        statements.push(json!({
            "Sid": format!("ObservedSubjects{}", n + 1),
            "Effect": "Allow",
            "Principal": {"Federated": principal},
            "Action": action,
            "Condition": {"StringEquals": equals},
        }));
    }
    for w in &web {
        for t in &w.trusted {
            if !used.iter().any(|u| u.issuer == t.issuer) {
                notes.push(format!(
                    "{} trusted {} ({}); no successful exchange used it, so the tightened policy leaves it out",
                    w.statement.label(),
                    t.principal,
                    t.issuer
                ));
            }
        }
    }
    (
        json!({"Version": "2012-10-17", "Statement": statements}),
        notes,
    )
}

/// The suggestion for a role, from its observed use; `None` when no
/// successful exchange used it (nothing to tighten to).
pub fn suggest(usage: &RoleUsage, doc: &PolicyDocument) -> Option<Suggestion> {
    let web = web_statements(doc);
    let mut used = Vec::new();
    for o in usage.observed.iter().filter(|o| o.succeeded > 0) {
        let Some(issuer) = &o.issuer else { continue };
        // The principal the policy names for this issuer; a wildcard
        // principal is replaced by the provider ARN the exchange used.
        let named = web
            .iter()
            .flat_map(|w| w.trusted.iter())
            .find(|t| &t.issuer == issuer && t.principal != "*")
            .map(|t| t.principal.clone());
        let Some(principal) = named.or_else(|| o.provider_arn.clone()) else {
            continue;
        };
        used.push(Used {
            principal,
            issuer: issuer.clone(),
            subject: o.subject.clone(),
            audience: o.audience.clone(),
        });
    }
    if used.is_empty() {
        return None;
    }
    let (policy, notes) = tighten(doc, &used);
    Some(Suggestion {
        role: usage.role.clone(),
        policy,
        notes,
    })
}

/// A file name for a role: `ACCOUNT-NAME`, or the name alone.
pub fn file_stem(role: &str, account: Option<&str>) -> String {
    let name = role.rsplit('/').next().unwrap_or(role);
    let stem = match account {
        Some(a) if !a.is_empty() => format!("{a}-{name}"),
        _ => name.to_string(),
    };
    crate::text::file_name::component(&stem)
}

/// A string as an HCL literal: quotes and backslashes escaped, and `${`
/// and `%{` doubled so Terraform keeps IAM policy variables literal.
fn hcl_string(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

fn hcl_key(k: &str) -> String {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_string()
    } else {
        hcl_string(k)
    }
}

/// A JSON value as an HCL expression (for `jsonencode`).
pub fn hcl(v: &Value, indent: usize) -> String {
    let pad = "  ".repeat(indent + 1);
    let end = "  ".repeat(indent);
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => hcl_string(s),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|i| format!("{pad}{},", hcl(i, indent + 1)))
                .collect();
            format!("[\n{}\n{end}]", inner.join("\n"))
        }
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Object(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{pad}{} = {}", hcl_key(k), hcl(v, indent + 1)))
                .collect();
            format!("{{\n{}\n{end}}}", inner.join("\n"))
        }
    }
}

/// A Terraform `aws_iam_role` snippet with the policy as `jsonencode`.
pub fn terraform(s: &Suggestion, header: &str) -> String {
    let name = s.role.rsplit('/').next().unwrap_or(&s.role);
    let path = s
        .role
        .split_once(":role")
        .map(|(_, rest)| rest.rsplit_once('/').map_or("/", |(p, _)| p))
        .filter(|p| !p.is_empty())
        .map_or("/".to_string(), |p| format!("{}/", p.trim_end_matches('/')));
    let resource: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let resource = if resource.starts_with(|c: char| c.is_ascii_digit()) {
        format!("r_{resource}")
    } else {
        resource
    };
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(&format!("resource \"aws_iam_role\" \"{resource}\" {{\n"));
    out.push_str(&format!("  name = {}\n", hcl_string(name)));
    out.push_str(&format!("  path = {}\n", hcl_string(&path)));
    out.push_str(&format!(
        "  assume_role_policy = jsonencode({})\n",
        hcl(&s.policy, 1)
    ));
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_escapes_interpolation_and_quotes_odd_keys() {
        let v = json!({"Version": "2012-10-17", "Condition": {"StringLike": {"x.y:sub": "repo:${aws:username}/\"q\""}}});
        let h = hcl(&v, 0);
        assert!(h.contains("Version = \"2012-10-17\""), "{h}");
        assert!(
            h.contains("\"x.y:sub\" = \"repo:$${aws:username}/\\\"q\\\"\""),
            "{h}"
        );
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(
            file_stem("arn:aws:iam::1:role/ci/deploy-prod", Some("1")),
            "1-deploy-prod"
        );
        assert_eq!(file_stem("terraform-plan", None), "terraform-plan");
        let changed = file_stem("a/b c", None);
        assert!(
            changed.starts_with("b_c-") && changed.len() == 12,
            "{changed}"
        );
        // The account comes from the input too.
        let escaped = file_stem(
            "arn:aws:iam::../../escaped:role/deploy-prod",
            Some("../../escaped"),
        );
        assert!(
            !escaped.contains('/') && !escaped.starts_with('.'),
            "{escaped}"
        );
    }
}
