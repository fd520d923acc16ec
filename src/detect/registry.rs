//! Every rule in one place: the SQL detections (built in, and the user's
//! `--queries`) and the Rust ones, each described by the one
//! [`Rule`] descriptor. `rolecall rules`, the summary's list of rules run,
//! `--rules` and the fingerprints all read it from here.

use super::rules::{
    dormant_role_used, expired_suppression, failure_burst, first_seen_subject, new_api_surface,
    static_key_after_migration, static_key_in_ci, static_key_old, static_key_unused, trust,
};
use super::sql::{self, QueryDef};
use crate::model::rule::{Rule, RuleKind};

/// The rules written in Rust, in no particular order.
pub fn rust_rules() -> Vec<&'static Rule> {
    let mut out: Vec<&'static Rule> = vec![
        &failure_burst::RULE,
        &expired_suppression::RULE,
        &first_seen_subject::RULE,
        &new_api_surface::RULE,
        &dormant_role_used::RULE,
        &static_key_in_ci::RULE,
        &static_key_after_migration::RULE,
        &static_key_unused::RULE,
        &static_key_old::RULE,
    ];
    out.extend(trust::rules());
    out
}

/// Every detection: built-in SQL, the Rust ones, and the user's queries,
/// by severity (most severe first), then id.
pub fn catalogue(user: &[QueryDef]) -> Vec<Rule> {
    let mut out: Vec<Rule> = sql::builtin_queries()
        .into_iter()
        .chain(user.iter().cloned())
        .map(|q| q.rule)
        .chain(rust_rules().into_iter().cloned())
        .collect();
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    out
}

/// The descriptor of a Rust rule or a built-in query.
pub fn rule(id: &str) -> Option<Rule> {
    catalogue(&[]).into_iter().find(|r| r.id == id)
}

/// Whether rule `id` compares with earlier runs (run only by `rolecall
/// report --state`).
pub fn needs_history(id: &str) -> bool {
    rust_rules()
        .iter()
        .any(|r| r.id == id && r.kind == RuleKind::History)
}

/// The rules that compare with earlier runs.
pub fn history_rules() -> Vec<&'static Rule> {
    rust_rules()
        .into_iter()
        .filter(|r| r.kind == RuleKind::History)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    #[test]
    fn catalogue_lists_every_rule_once_with_what_it_needs() {
        let c = catalogue(&[]);
        let mut ids: Vec<&str> = c.iter().map(|r| r.id.as_ref()).collect();
        assert_eq!(ids.len(), 34);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 34);
        assert_eq!(c[0].severity, Severity::Critical);
        for r in &c {
            assert!(!r.identity.is_empty(), "{} has an identity", r.id);
            assert_ne!(r.needs, "user-defined", "{} says what it needs", r.id);
            assert!(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(r.source.as_ref())
                    .is_file(),
                "{}: its source {} is a file",
                r.id,
                r.source
            );
        }
        assert_eq!(history_rules().len(), 3);
        assert!(needs_history("dormant-role-used") && !needs_history("tier-mismatch"));
    }
}
