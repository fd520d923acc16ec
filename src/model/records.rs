//! The typed rows that are few enough to own their strings: role exchanges,
//! token claim sets, CI jobs, run windows and the sessions joined from them.

use serde::Serialize;

use super::subject::{Fact, Provider};
use super::time::Micros;

/// One federated role exchange (`AssumeRoleWithWebIdentity`), success or
/// failure.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Assumption {
    /// Index of the exchange in the event store.
    pub event_index: usize,
    pub time: Option<Micros>,
    pub cloud: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// `https://HOST/PATH`, from the OIDC provider ARN.
    pub issuer: Option<String>,
    /// The issuer was guessed from the subject's format (GCP without a
    /// `[[gcp_provider]]` mapping), not read from the log.
    pub issuer_inferred: bool,
    pub provider_arn: Option<String>,
    pub subject: Option<String>,
    pub audience: Option<String>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    /// `durationSeconds` as requested; `None` when the request left it out.
    pub duration_seconds: Option<i64>,
    pub access_key_id: Option<String>,
    pub expiration: Option<Micros>,
    pub assumed_role_arn: Option<String>,
    pub source_identity: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub event_id: Option<String>,
    /// `requestParameters` as compact JSON, secrets removed.
    pub request_parameters: Option<String>,
    /// A second identifier the policy may match the role by: the Entra
    /// application id, the GCP service account's unique id.
    pub role_id: Option<String>,
    /// GCP: the federated principal (`principal://.../subject/SUB`) whose
    /// later calls are this session's, by time (GCP logs carry no token id).
    pub link_principal: Option<String>,
    /// Entra: the federated identity credential that matched; resolved to
    /// issuer, subject and audiences from its definition.
    pub credential_id: Option<String>,
    /// Facts the exchange itself records about the job (Vault's
    /// `auth.metadata` claim mappings): repository, ref, environment...
    pub hints: Vec<(String, String)>,
    pub file: u32,
    pub record: u32,
    pub line: u32,
}

impl Assumption {
    pub fn succeeded(&self) -> bool {
        self.error_code.is_none()
    }
}

/// One CI token's claims, decoded from a claim set or a raw JWT.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TokenClaims {
    /// Normalized issuer URL.
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    pub jti: Option<String>,
    pub iat: Option<Micros>,
    pub exp: Option<Micros>,
    pub nbf: Option<Micros>,
    pub provider: Option<Provider>,
    pub repository: Option<String>,
    /// Full git form (`refs/heads/main`).
    pub git_ref: Option<String>,
    pub ref_type: Option<String>,
    pub environment: Option<String>,
    /// GitLab `deployment_tier`.
    pub deployment_tier: Option<String>,
    /// `job_workflow_ref` (GitHub) or `ci_config_ref_uri` (GitLab).
    pub workflow_ref: Option<String>,
    /// `event_name` (GitHub), `pipeline_source` (GitLab), `build_source`
    /// (Buildkite).
    pub trigger: Option<String>,
    pub run_id: Option<String>,
    pub run_attempt: Option<String>,
    pub actor: Option<String>,
    pub runner_environment: Option<String>,
    pub ref_protected: Option<bool>,
    /// Signature checked against `--jwks`: `Some(true)` verified,
    /// `Some(false)` failed, `None` not checked (decoded claim sets, or no
    /// `--jwks`).
    pub verified: Option<bool>,
    /// Whether the claims came from a raw JWT.
    pub from_jwt: bool,
    /// The decoded claim set as compact JSON (never the signature).
    pub claims_json: String,
    pub file: u32,
    pub record: u32,
    pub line: u32,
    /// [`token_key`](Self::token_key), written once when first asked for:
    /// the claims join, each session and two tables all need it.
    #[serde(skip)]
    pub token_key_memo: TokenKeyMemo,
}

/// See [`TokenClaims::token_key_memo`]; set only by
/// [`TokenClaims::token_key`].
#[derive(Debug, Clone, Default)]
pub struct TokenKeyMemo(std::sync::OnceLock<String>);

impl TokenClaims {
    /// The token's identity for replay detection: its `jti`, else issuer,
    /// subject, audience and `iat` together. Read once the claims are
    /// complete (after ingest): it is not written again if they change.
    pub fn token_key(&self) -> &str {
        self.token_key_memo.0.get_or_init(|| match &self.jti {
            Some(jti) => format!("jti:{}|{jti}", self.issuer),
            None => format!(
                "iss:{}|sub:{}|aud:{}|iat:{}",
                self.issuer,
                self.subject,
                self.audiences.join(","),
                self.iat.map(|t| t.to_string()).unwrap_or_default()
            ),
        })
    }
}

/// An Entra federated identity credential definition
/// (`az ad app federated-credential list`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FederatedCredential {
    pub id: String,
    pub name: Option<String>,
    pub issuer: String,
    /// Empty for a flexible credential, which matches by expression.
    pub subject: String,
    pub audiences: Vec<String>,
    /// A flexible credential's `claimsMatchingExpression.value`.
    pub claims_matching_expression: Option<String>,
    pub file: u32,
}

/// One GitHub `workflow_job` webhook delivery.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobRecord {
    pub action: Option<String>,
    pub repository: String,
    pub run_id: String,
    pub run_attempt: Option<String>,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub workflow_name: Option<String>,
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub started_at: Option<Micros>,
    pub completed_at: Option<Micros>,
    pub runner_name: Option<String>,
    pub labels: Vec<String>,
    pub file: u32,
    pub record: u32,
    pub line: u32,
}

/// A CI run's time window, from its jobs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunWindow {
    pub repository: String,
    pub run_id: String,
    pub run_attempt: Option<String>,
    pub started_at: Option<Micros>,
    /// The last job's `completed_at`; `None` while any job has not completed.
    pub ended_at: Option<Micros>,
    pub jobs: usize,
    pub runners: Vec<String>,
}

/// How an exchange was tied to a token's claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Exactly one claim set fits (or the run id in the session name picked
    /// one).
    Exact,
    /// Several claim sets fit; the nearest `iat` was taken.
    Ambiguous,
    /// No claim set fits; the facts come from the subject.
    Derived,
    /// No claim set fits and the subject says nothing usable.
    #[default]
    None,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Ambiguous => "ambiguous",
            MatchKind::Derived => "derived",
            MatchKind::None => "none",
        }
    }
}

/// The outcome of the claims join for one exchange.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClaimsMatch {
    pub kind: MatchKind,
    pub claims: Option<usize>,
    /// Claim sets that fitted on issuer, subject, audience and time.
    pub candidates: usize,
}

/// A successful exchange with what is known about the job behind it and
/// what its credentials did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Session {
    /// The issued access key id, else the exchange's event id.
    pub key: String,
    pub assumption: usize,
    /// The role the session acts as: the exchange's role, or for GCP the
    /// service account it impersonated.
    pub role_arn: Option<String>,
    pub matched: ClaimsMatch,
    pub provider: Option<Provider>,
    pub repository: Fact,
    pub git_ref: Fact,
    pub environment: Fact,
    pub workflow_ref: Fact,
    pub trigger: Fact,
    pub deployment_tier: Option<String>,
    pub run_id: Option<String>,
    pub run_attempt: Option<String>,
    pub actor: Option<String>,
    pub runner_environment: Option<String>,
    pub ref_protected: Option<bool>,
    pub verified: Option<bool>,
    pub token_key: Option<String>,
    pub run: Option<usize>,
    /// Event indices of every call made with the session's key, by time.
    pub activity: Vec<usize>,
    pub calls: usize,
    pub errors: usize,
    pub distinct_ips: usize,
    pub services: Vec<String>,
    pub first_use: Option<Micros>,
    pub last_use: Option<Micros>,
}
