//! `fic-issuer-changed`: an Entra federated identity credential trusts a
//! different issuer than before.
//!
//! ## What it detects
//! The same federated identity credential (same id) read from two inputs,
//! in the order given (`az identity federated-credential list` or Graph
//! `federatedIdentityCredentials` snapshots), with different issuers.
//!
//! ## Why it matters
//! The issuer decides who can mint an accepted token: moving a credential
//! from GitHub's shared issuer to an unknown one (or from an enterprise
//! issuer to the shared one) changes who can sign in as the application or
//! managed identity, while the subject still reads the same.
//!
//! ## Example
//! `https://token.actions.githubusercontent.com` became
//! `https://token.actions.githubusercontent.com/acme-enterprise`.

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::trust_coverage;
use crate::model::records::FederatedCredential;
use crate::model::subject::normalize_issuer;
use crate::model::{Finding, Severity};

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("fic-issuer-changed"),
    severity: Severity::Medium,
    title: Cow::Borrowed("Federated credential's issuer changed"),
    description: Cow::Borrowed("One Entra federated identity credential (same id) seen in two snapshots, in the order given, with different issuers: who can mint an accepted token changed."),
    references: rule_list!["https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation"],
    source: Cow::Borrowed("src/detect/rules/trust/fic_issuer_changed.rs"),
    needs: Cow::Borrowed("two snapshots of Entra federated credential definitions"),
    sources: trust_coverage([false, false, true, false]),
    identity: rule_list!["role", "evidence.before", "evidence.after"],
    kind: RuleKind::Trust,
};

/// The identity a credential belongs to: the ARM id up to
/// `/federatedIdentityCredentials/`, else the credential id.
fn owner(id: &str) -> &str {
    id.rsplit_once("/federatedIdentityCredentials/")
        .map_or(id, |(o, _)| o)
}

pub fn check(credentials: &[FederatedCredential], file: &dyn Fn(u32) -> String) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut ids: Vec<String> = credentials
        .iter()
        .map(|c| c.id.to_ascii_lowercase())
        .collect();
    ids.dedup();
    let mut seen = std::collections::BTreeSet::new();
    for id in ids {
        if !seen.insert(id.clone()) {
            continue;
        }
        let mut versions: Vec<&FederatedCredential> = credentials
            .iter()
            .filter(|c| c.id.to_ascii_lowercase() == id)
            .collect();
        versions.sort_by_key(|c| c.file);
        for pair in versions.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (ia, ib) = (normalize_issuer(&a.issuer), normalize_issuer(&b.issuer));
            if ia == ib {
                continue;
            }
            let mut f = Finding::new(&RULE.id, RULE.severity, &RULE.title);
            f.cloud = Some("azure".into());
            f.role = Some(owner(&b.id).to_string());
            f.issuer = Some(ib.clone());
            if !b.subject.is_empty() {
                f.subject = Some(b.subject.clone());
            }
            let name = b.name.clone().unwrap_or_else(|| b.id.clone());
            f.message = format!(
                "Federated credential {name} of {} trusts {ib} in {} instead of {ia} in {}.",
                owner(&b.id),
                file(b.file),
                file(a.file)
            );
            f.evidence.insert("credential".into(), json!(b.id));
            f.evidence.insert("before".into(), json!(ia));
            f.evidence.insert("after".into(), json!(ib));
            f.evidence
                .insert("before_source".into(), json!(file(a.file)));
            f.evidence
                .insert("after_source".into(), json!(file(b.file)));
            out.push(f);
        }
    }
    out
}
