//! `oidc-provider-changed`: an IAM OIDC provider was created or changed.
//!
//! ## What it detects
//! CloudTrail `CreateOpenIDConnectProvider`, `AddClientIDToOpenIDConnectProvider`,
//! `RemoveClientIDFromOpenIDConnectProvider`,
//! `UpdateOpenIDConnectProviderThumbprint` and `DeleteOpenIDConnectProvider`
//! that succeeded.
//!
//! ## Why it matters
//! The provider decides which issuer's tokens the account accepts at all,
//! and its client-id list which audiences: adding a client id opens every
//! role that trusts the provider without an audience condition to tokens
//! minted for that audience; a new provider is a new door. Failed calls
//! changed nothing and are not findings.
//!
//! ## Example
//! `AddClientIDToOpenIDConnectProvider` with `clientID` `https://github.com/acme`.

use std::borrow::Cow;

use crate::model::rule::{Rule, RuleKind};
use crate::rule_list;
use serde_json::json;

use super::trust_coverage;
use crate::model::subject::issuer_from_provider_arn;
use crate::model::{Finding, Severity};
use crate::trust::OidcProviderChange;

pub static RULE: Rule = Rule {
    id: Cow::Borrowed("oidc-provider-changed"),
    severity: Severity::Medium,
    title: Cow::Borrowed("IAM OIDC provider created or changed"),
    description: Cow::Borrowed("A successful CreateOpenIDConnectProvider, Add/RemoveClientIDTo/FromOpenIDConnectProvider, UpdateOpenIDConnectProviderThumbprint or DeleteOpenIDConnectProvider: the set of issuers and audiences the account accepts changed."),
    references: rule_list!["https://attack.mitre.org/techniques/T1484/002/"],
    source: Cow::Borrowed("src/detect/rules/trust/oidc_provider_changed.rs"),
    needs: Cow::Borrowed("CloudTrail IAM management events"),
    sources: trust_coverage([true, false, false, false]),
    identity: rule_list!["account", "issuer", "evidence.event_id"],
    kind: RuleKind::Trust,
};

pub fn check(changes: &[OidcProviderChange], file: &dyn Fn(u32) -> String) -> Vec<Finding> {
    changes
        .iter()
        .map(|c| {
            let mut f = Finding::new(&RULE.id, RULE.severity, &RULE.title);
            f.cloud = Some("aws".into());
            f.account = c.account.clone();
            f.time = c.time;
            f.issuer = c
                .provider_arn
                .as_deref()
                .and_then(issuer_from_provider_arn)
                .or_else(|| {
                    c.url
                        .as_deref()
                        .map(crate::model::subject::normalize_issuer)
                });
            if let Some(id) = &c.event_id {
                f.event_ids.push(id.clone());
            }
            let provider = c
                .provider_arn
                .clone()
                .or_else(|| c.url.clone())
                .unwrap_or_else(|| "?".into());
            let what = match c.event_name.as_str() {
                "CreateOpenIDConnectProvider" => format!(
                    "created with client ids {}",
                    c.client_ids
                        .iter()
                        .map(|x| format!("`{x}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "AddClientIDToOpenIDConnectProvider" => format!(
                    "now also accepts tokens for {}",
                    c.client_ids
                        .iter()
                        .map(|x| format!("`{x}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "RemoveClientIDFromOpenIDConnectProvider" => format!(
                    "no longer accepts tokens for {}",
                    c.client_ids
                        .iter()
                        .map(|x| format!("`{x}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "UpdateOpenIDConnectProviderThumbprint" => {
                    "had its certificate thumbprints replaced".into()
                }
                "DeleteOpenIDConnectProvider" => "was deleted".into(),
                other => format!("was changed ({other})"),
            };
            let who = c
                .actor
                .as_deref()
                .map(|a| format!(" by {a}"))
                .unwrap_or_default();
            f.message = format!("OIDC provider {provider} {what}{who}.");
            f.evidence.insert("event_name".into(), json!(c.event_name));
            f.evidence.insert("event_id".into(), json!(c.event_id));
            f.evidence.insert("provider".into(), json!(provider));
            f.evidence.insert("client_ids".into(), json!(c.client_ids));
            f.evidence
                .insert("thumbprints".into(), json!(c.thumbprints));
            f.evidence.insert("actor".into(), json!(c.actor));
            f.evidence.insert(
                "source".into(),
                json!(format!("{} record {}", file(c.file), c.record)),
            );
            f
        })
        .collect()
}
