//! Trust inputs, as ingest reads them and the trust analysis and rules
//! judge them: role trust policies seen in snapshots and CloudTrail
//! changes, OIDC provider changes, GCP pool providers.

use serde::Serialize;

use super::time::{ser_opt_micros, Micros};
use crate::model::policy_doc::PolicyDocument;

/// Where a trust policy was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TrustOrigin {
    /// A snapshot: `get-account-authorization-details`, `get-role`,
    /// `list-roles`, a role object, or a bare document.
    Snapshot { shape: String },
    /// A CloudTrail `CreateRole` or `UpdateAssumeRolePolicy` event.
    Change {
        event_name: String,
        event_id: Option<String>,
        /// Who made the change (`userIdentity.arn`).
        actor: Option<String>,
    },
}

/// One sighting of a role's trust policy.
#[derive(Debug, Clone, Serialize)]
pub struct RoleTrust {
    /// The role ARN; for a bare document (no ARN), the file's stem.
    pub role: String,
    /// The role's name (the last part of its ARN).
    pub name: String,
    pub account: Option<String>,
    /// True for a bare policy document named after its file.
    pub bare: bool,
    #[serde(skip)]
    pub document: PolicyDocument,
    pub origin: TrustOrigin,
    /// When the change happened (change events only).
    #[serde(serialize_with = "ser_opt_micros")]
    pub time: Option<Micros>,
    pub file: u32,
    pub record: u32,
    pub line: u32,
}

impl RoleTrust {
    /// What identifies the role across sightings: account and name (role
    /// names are unique in an account, whatever their path).
    pub fn identity(&self) -> (String, String) {
        (self.account.clone().unwrap_or_default(), self.name.clone())
    }
}

/// A change to an IAM OIDC provider (CloudTrail).
#[derive(Debug, Clone, Serialize)]
pub struct OidcProviderChange {
    pub event_name: String,
    /// The provider ARN (from the response for `CreateOpenIDConnectProvider`).
    pub provider_arn: Option<String>,
    /// The provider URL (`CreateOpenIDConnectProvider`).
    pub url: Option<String>,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub account: Option<String>,
    pub actor: Option<String>,
    pub event_id: Option<String>,
    #[serde(serialize_with = "ser_opt_micros")]
    pub time: Option<Micros>,
    pub file: u32,
    pub record: u32,
    pub line: u32,
}

/// A GCP workload identity pool provider
/// (`gcloud iam workload-identity-pools providers list --format=json`).
#[derive(Debug, Clone, Serialize)]
pub struct WifProvider {
    /// `projects/N/locations/global/workloadIdentityPools/P/providers/X`.
    pub name: String,
    pub display_name: Option<String>,
    /// `oidc.issuerUri`, normalized; `None` for AWS and SAML providers.
    pub issuer: Option<String>,
    pub allowed_audiences: Vec<String>,
    pub attribute_condition: Option<String>,
    /// `google.subject = assertion.sub`, in input order.
    pub attribute_mapping: Vec<(String, String)>,
    pub disabled: bool,
    pub file: u32,
    pub record: u32,
    pub line: u32,
}

/// Every trust input read, in input order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrustInputs {
    pub roles: Vec<RoleTrust>,
    pub oidc_changes: Vec<OidcProviderChange>,
    pub wif_providers: Vec<WifProvider>,
}

impl TrustInputs {
    pub fn append(&mut self, other: &mut TrustInputs) {
        self.roles.append(&mut other.roles);
        self.oidc_changes.append(&mut other.oidc_changes);
        self.wif_providers.append(&mut other.wif_providers);
    }

    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.oidc_changes.is_empty() && self.wif_providers.is_empty()
    }

    /// The roles, each with its sightings: change events by time, then
    /// snapshots in input order (a snapshot describes the account when it
    /// was taken, normally after the trail it is read with). A role known by name only (an
    /// `UpdateAssumeRolePolicy` event carries no path) takes the full ARN
    /// from any other sighting of it.
    pub fn by_role(&self) -> Vec<RoleHistory<'_>> {
        let mut out: Vec<RoleHistory<'_>> = Vec::new();
        for r in &self.roles {
            match out.iter_mut().find(|h| h.identity == r.identity()) {
                Some(h) => h.sightings.push(r),
                None => out.push(RoleHistory {
                    identity: r.identity(),
                    role: r.role.clone(),
                    sightings: vec![r],
                }),
            }
        }
        for h in &mut out {
            // Prefer an ARN with a path (snapshots and CreateRole responses
            // have it) over one rebuilt from the name.
            if let Some(best) = h
                .sightings
                .iter()
                .map(|r| &r.role)
                .max_by_key(|r| r.matches('/').count())
            {
                h.role = best.clone();
            }
            let (mut snaps, mut changes): (Vec<&RoleTrust>, Vec<&RoleTrust>) = h
                .sightings
                .iter()
                .partition(|r| matches!(r.origin, TrustOrigin::Snapshot { .. }));
            changes.sort_by_key(|r| r.time.unwrap_or(i64::MIN));
            changes.append(&mut snaps);
            h.sightings = changes;
        }
        out.sort_by(|a, b| a.role.cmp(&b.role));
        out
    }
}

/// Everything seen of one role's trust policy.
#[derive(Debug, Clone)]
pub struct RoleHistory<'a> {
    pub identity: (String, String),
    /// The role ARN (with its path when any sighting had it).
    pub role: String,
    /// Changes by time, then snapshots in input order.
    pub sightings: Vec<&'a RoleTrust>,
}

impl RoleHistory<'_> {
    /// The policy in force as far as the input shows: the last snapshot
    /// given, else the latest change.
    pub fn current(&self) -> &RoleTrust {
        self.sightings
            .last()
            .copied()
            .expect("a history has at least one sighting")
    }
}
