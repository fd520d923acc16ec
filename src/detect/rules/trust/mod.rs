//! The trust detections: over-broad trust policies, trust that changed, and
//! pool providers or federated credentials that trust too much.
//!
//! These rules judge configuration, not sessions, so they run beside the
//! SQL detections on what ingest read as trust input (role snapshots, bare
//! documents, CloudTrail trust changes, GCP pool providers, Entra
//! credentials). Each rule is one file with its documentation; this module
//! analyses every role once (the current policy, probed statement by
//! statement: see [`crate::trust::analyze`]), hands the analysis to the
//! rules, and fingerprints what they find. Findings carry the role ARN in
//! `role`, so they flow through every output, suppression and the gate like
//! any other.

pub mod fic_issuer_changed;
pub mod forallvalues_single_claim;
pub mod missing_audience;
pub mod no_subject_condition;
pub mod oidc_provider_changed;
pub mod pull_request_subject;
pub mod stringlike_without_wildcard;
pub mod trust_changed;
pub mod unknown_subject_format;
pub mod wif_no_attribute_condition;
pub mod wildcard_subject;

use serde_json::json;

use crate::model::fingerprint::fingerprint;
use crate::model::policy_doc::{PolicyDocument, Statement};
use crate::model::records::FederatedCredential;
use crate::model::rule::{Coverage, Rule};
use crate::model::subject::Provider;
use crate::model::{Finding, Severity};
use crate::policy::{Policy, Tier};
use crate::trust::analyze::{self, Breadth, Trusted, ANY_PROVIDER};
use crate::trust::{RoleTrust, TrustInputs, TrustOrigin};

const ROLE_NEEDS: &str =
    "a role trust policy: an IAM snapshot (get-account-authorization-details, get-role), a bare document, or CloudTrail CreateRole/UpdateAssumeRolePolicy";

/// Every trust rule, in catalogue order.
pub fn rules() -> [&'static Rule; 11] {
    [
        &no_subject_condition::RULE,
        &wildcard_subject::RULE,
        &pull_request_subject::RULE,
        &missing_audience::RULE,
        &forallvalues_single_claim::RULE,
        &stringlike_without_wildcard::RULE,
        &unknown_subject_format::RULE,
        &trust_changed::RULE,
        &oidc_provider_changed::RULE,
        &wif_no_attribute_condition::RULE,
        &fic_issuer_changed::RULE,
    ]
}

/// What each source's trust inputs let a rule of `clouds` judge.
pub const fn trust_coverage(clouds: [bool; 4]) -> [Coverage; 4] {
    let [aws, gcp, azure, vault] = clouds;
    Coverage::each([
        if aws {
            (
                true,
                "IAM role trust policies and OIDC providers, from snapshots or CloudTrail",
            )
        } else {
            (false, "AWS trust is judged by the trust-* rules")
        },
        if gcp {
            (true, "workload identity pool provider definitions")
        } else {
            (
                false,
                "GCP pools are judged by wif-no-attribute-condition: attribute conditions are CEL, not IAM",
            )
        },
        if azure {
            (true, "federated identity credential definitions")
        } else {
            (
                false,
                "Entra credentials name one exact subject; see fic-issuer-changed",
            )
        },
        (vault, "Vault JWT roles' bound claims are not read"),
    ])
}

/// One role's current trust policy, with what the rules need around it.
pub struct RoleView<'a> {
    pub role: String,
    pub account: Option<String>,
    pub sighting: &'a RoleTrust,
    pub doc: &'a PolicyDocument,
    /// The role's tier, and whether it was inferred from its name.
    pub tier: (Option<Tier>, bool),
    /// `FILE record N`, where the policy was read.
    pub source: String,
}

/// One web-identity statement, for one trusted provider, probed.
pub struct StatementView<'a> {
    pub statement: &'a Statement,
    pub trusted: Trusted,
    pub breadth: Breadth,
}

impl StatementView<'_> {
    /// `GitHub Actions (https://token.actions.githubusercontent.com)`.
    pub fn issuer_label(&self) -> String {
        if self.trusted.issuer == ANY_PROVIDER {
            return "every identity provider of the account (Federated \"*\")".into();
        }
        match self.trusted.provider {
            Some(p) => format!("{} ({})", provider_name(p), self.trusted.issuer),
            None => self.trusted.issuer.clone(),
        }
    }

    /// The statement's positive `sub` patterns, for the finding's subject.
    pub fn subject_patterns(&self) -> Vec<String> {
        analyze::claim_conditions(self.statement, &self.trusted.issuer)
            .into_iter()
            .filter(|(claim, c)| claim == "sub" && analyze::is_positive(c))
            .flat_map(|(_, c)| c.values.clone())
            .collect()
    }
}

pub fn provider_name(p: Provider) -> &'static str {
    match p {
        Provider::GithubActions => "GitHub Actions",
        Provider::Gitlab => "GitLab",
        Provider::Circleci => "CircleCI",
        Provider::Buildkite => "Buildkite",
        Provider::HcpTerraform => "HCP Terraform",
        Provider::Kubernetes => "Kubernetes",
        Provider::Generic => "OIDC",
    }
}

/// Issuers shared by every customer of a CI service: trusting one without
/// pinning the workload trusts strangers. Per-organization issuers
/// (CircleCI's `oidc.circleci.com/org/ID`, GitHub Enterprise Server, a
/// self-managed GitLab, GitHub's per-enterprise issuer) only admit that
/// organization's workloads.
pub fn is_shared_issuer(issuer: &str) -> bool {
    matches!(
        issuer,
        "https://token.actions.githubusercontent.com"
            | "https://gitlab.com"
            | "https://app.terraform.io"
            | "https://agent.buildkite.com"
    )
}

impl RoleView<'_> {
    /// A finding about this role, with its location in the evidence.
    pub fn finding(&self, rule: &Rule) -> Finding {
        let mut f = Finding::new(&rule.id, rule.severity, &rule.title);
        f.cloud = Some("aws".into());
        f.account = self.account.clone();
        f.role = Some(self.role.clone());
        f.evidence.insert("source".into(), json!(self.source));
        if self.sighting.bare {
            f.evidence.insert(
                "role_named_after_file".into(),
                json!("a bare trust policy document carries no role ARN; the role is named after its file"),
            );
        }
        if let TrustOrigin::Change { event_id, .. } = &self.sighting.origin {
            f.time = self.sighting.time;
            if let Some(id) = event_id {
                f.event_ids.push(id.clone());
            }
        }
        f
    }

    /// A finding about one statement of this role.
    pub fn statement_finding(&self, rule: &Rule, s: &StatementView<'_>) -> Finding {
        let mut f = self.finding(rule);
        f.issuer = Some(if s.trusted.issuer == ANY_PROVIDER {
            "*".into()
        } else {
            s.trusted.issuer.clone()
        });
        let subs = s.subject_patterns();
        if !subs.is_empty() {
            f.subject = Some(subs.join(" | "));
        }
        f.evidence
            .insert("statement".into(), json!(s.statement.label()));
        f.evidence
            .insert("principal".into(), json!(s.trusted.principal));
        f.evidence
            .insert("statement_json".into(), s.statement.raw.clone());
        f
    }

    /// `production tier` / `production tier (from its name)` / `unknown tier`.
    pub fn tier_text(&self) -> String {
        match self.tier {
            (Some(t), false) => format!("{} tier", t.as_str()),
            (Some(t), true) => format!("{} tier, from its name", t.as_str()),
            (None, _) => "unknown tier".into(),
        }
    }

    /// Deploy roles (production or staging) are judged strictly; roles of
    /// unknown tier get an `info` note instead of a `high`; development
    /// roles are not judged. `None`: not judged.
    pub fn deploy_severity(&self, high: Severity) -> Option<Severity> {
        match self.tier.0 {
            Some(Tier::Production) | Some(Tier::Staging) => Some(high),
            Some(Tier::Development) => None,
            None => Some(Severity::Info),
        }
    }
}

/// Whether a trust rule had anything to judge: role rules need a role's
/// trust policy, `oidc-provider-changed` provider events, the pool and
/// credential rules their definitions. A run's summary lists a trust rule
/// as run only then, as it lists `expired-suppression` only with
/// suppressions: "ran and found nothing" would be a claim about input it
/// never saw.
pub fn had_input(id: &str, inputs: &TrustInputs, credentials: &[FederatedCredential]) -> bool {
    if id == oidc_provider_changed::RULE.id {
        !inputs.oidc_changes.is_empty()
    } else if id == wif_no_attribute_condition::RULE.id {
        !inputs.wif_providers.is_empty()
    } else if id == fic_issuer_changed::RULE.id {
        !credentials.is_empty()
    } else {
        !inputs.roles.is_empty()
    }
}

/// Whether `id` is a trust rule.
pub fn is_trust_rule(id: &str) -> bool {
    rules().iter().any(|r| r.id == id)
}

/// Runs the enabled trust rules over the trust inputs.
pub fn run(
    inputs: &TrustInputs,
    credentials: &[FederatedCredential],
    files: &[String],
    policy: &Policy,
    enabled: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let mut out: Vec<(Finding, &'static Rule)> = Vec::new();
    let mut push = |found: Vec<Finding>, rule: &'static Rule| {
        if enabled(&rule.id) {
            out.extend(found.into_iter().map(|f| (f, rule)));
        }
    };
    let file = |i: u32| {
        files
            .get(i as usize)
            .map_or("?", String::as_str)
            .to_string()
    };
    for history in inputs.by_role() {
        let current = history.current();
        let view = RoleView {
            role: history.role.clone(),
            account: current.account.clone(),
            sighting: current,
            doc: &current.document,
            tier: policy.role_tier(&history.role),
            source: format!("{} record {}", file(current.file), current.record),
        };
        let statements: Vec<StatementView<'_>> = analyze::web_statements(view.doc)
            .into_iter()
            .flat_map(|w| {
                let account = view.account.clone();
                w.trusted.into_iter().map(move |t| StatementView {
                    breadth: analyze::breadth(view.doc, w.statement, &t, account.as_deref()),
                    statement: w.statement,
                    trusted: t,
                })
            })
            .collect();
        push(
            no_subject_condition::check(&view, &statements),
            &no_subject_condition::RULE,
        );
        push(
            wildcard_subject::check(&view, &statements),
            &wildcard_subject::RULE,
        );
        push(
            pull_request_subject::check(&view, &statements),
            &pull_request_subject::RULE,
        );
        push(
            missing_audience::check(&view, &statements, policy),
            &missing_audience::RULE,
        );
        push(
            forallvalues_single_claim::check(&view, &statements),
            &forallvalues_single_claim::RULE,
        );
        push(
            stringlike_without_wildcard::check(&view, &statements),
            &stringlike_without_wildcard::RULE,
        );
        push(
            unknown_subject_format::check(&view, &statements),
            &unknown_subject_format::RULE,
        );
        push(trust_changed::check(&history, &file), &trust_changed::RULE);
    }
    push(
        oidc_provider_changed::check(&inputs.oidc_changes, &file),
        &oidc_provider_changed::RULE,
    );
    push(
        wif_no_attribute_condition::check(&inputs.wif_providers, &file),
        &wif_no_attribute_condition::RULE,
    );
    push(
        fic_issuer_changed::check(credentials, &file),
        &fic_issuer_changed::RULE,
    );
    out.into_iter()
        .map(|(mut f, rule)| {
            f.fingerprint = fingerprint(&f, &rule.identity);
            f
        })
        .collect()
}
