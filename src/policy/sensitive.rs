//! The actions a CI session should rarely or never perform: identity and
//! policy writes, audit-trail tampering, and key destruction. This is data:
//! the policy's `[sensitive_actions]` adds to it and removes from it.

/// `(service, action, category)`: the service as the source writes it
/// (CloudTrail's eventSource, GCP's serviceName, the Azure resource
/// provider in lower case, `vault`) and the action as it appears in the
/// events table.
pub const BUILTIN: &[(&str, &str, &str)] = &[
    // AWS: identity and policy writes (new principals, keys, privileges).
    ("iam.amazonaws.com", "CreateUser", "identity-write"),
    ("iam.amazonaws.com", "CreateAccessKey", "identity-write"),
    ("iam.amazonaws.com", "CreateLoginProfile", "identity-write"),
    ("iam.amazonaws.com", "UpdateLoginProfile", "identity-write"),
    (
        "iam.amazonaws.com",
        "CreateServiceSpecificCredential",
        "identity-write",
    ),
    ("iam.amazonaws.com", "UploadSSHPublicKey", "identity-write"),
    ("iam.amazonaws.com", "AddUserToGroup", "identity-write"),
    ("iam.amazonaws.com", "DeactivateMFADevice", "identity-write"),
    ("sts.amazonaws.com", "GetFederationToken", "identity-write"),
    ("iam.amazonaws.com", "AttachRolePolicy", "policy-write"),
    ("iam.amazonaws.com", "AttachUserPolicy", "policy-write"),
    ("iam.amazonaws.com", "AttachGroupPolicy", "policy-write"),
    ("iam.amazonaws.com", "PutRolePolicy", "policy-write"),
    ("iam.amazonaws.com", "PutUserPolicy", "policy-write"),
    ("iam.amazonaws.com", "PutGroupPolicy", "policy-write"),
    ("iam.amazonaws.com", "CreatePolicyVersion", "policy-write"),
    (
        "iam.amazonaws.com",
        "SetDefaultPolicyVersion",
        "policy-write",
    ),
    (
        "iam.amazonaws.com",
        "DeleteRolePermissionsBoundary",
        "policy-write",
    ),
    (
        "iam.amazonaws.com",
        "DeleteUserPermissionsBoundary",
        "policy-write",
    ),
    ("iam.amazonaws.com", "UpdateAssumeRolePolicy", "trust-write"),
    ("iam.amazonaws.com", "CreateRole", "trust-write"),
    (
        "iam.amazonaws.com",
        "CreateOpenIDConnectProvider",
        "trust-write",
    ),
    (
        "iam.amazonaws.com",
        "UpdateOpenIDConnectProviderThumbprint",
        "trust-write",
    ),
    (
        "iam.amazonaws.com",
        "AddClientIDToOpenIDConnectProvider",
        "trust-write",
    ),
    ("iam.amazonaws.com", "CreateSAMLProvider", "trust-write"),
    ("iam.amazonaws.com", "UpdateSAMLProvider", "trust-write"),
    // AWS: audit tampering (turning off or redirecting what would record this).
    ("cloudtrail.amazonaws.com", "StopLogging", "audit-tampering"),
    ("cloudtrail.amazonaws.com", "DeleteTrail", "audit-tampering"),
    ("cloudtrail.amazonaws.com", "UpdateTrail", "audit-tampering"),
    (
        "cloudtrail.amazonaws.com",
        "PutEventSelectors",
        "audit-tampering",
    ),
    (
        "cloudtrail.amazonaws.com",
        "PutInsightSelectors",
        "audit-tampering",
    ),
    (
        "cloudtrail.amazonaws.com",
        "DeleteEventDataStore",
        "audit-tampering",
    ),
    (
        "cloudtrail.amazonaws.com",
        "StopEventDataStoreIngestion",
        "audit-tampering",
    ),
    ("ec2.amazonaws.com", "DeleteFlowLogs", "audit-tampering"),
    (
        "guardduty.amazonaws.com",
        "DeleteDetector",
        "audit-tampering",
    ),
    (
        "guardduty.amazonaws.com",
        "UpdateDetector",
        "audit-tampering",
    ),
    (
        "guardduty.amazonaws.com",
        "DisassociateFromMasterAccount",
        "audit-tampering",
    ),
    (
        "guardduty.amazonaws.com",
        "DisassociateFromAdministratorAccount",
        "audit-tampering",
    ),
    ("guardduty.amazonaws.com", "CreateIPSet", "audit-tampering"),
    (
        "config.amazonaws.com",
        "StopConfigurationRecorder",
        "audit-tampering",
    ),
    (
        "config.amazonaws.com",
        "DeleteConfigurationRecorder",
        "audit-tampering",
    ),
    (
        "config.amazonaws.com",
        "DeleteDeliveryChannel",
        "audit-tampering",
    ),
    (
        "securityhub.amazonaws.com",
        "DisableSecurityHub",
        "audit-tampering",
    ),
    ("logs.amazonaws.com", "DeleteLogGroup", "audit-tampering"),
    (
        "organizations.amazonaws.com",
        "LeaveOrganization",
        "audit-tampering",
    ),
    // AWS: key destruction.
    (
        "kms.amazonaws.com",
        "ScheduleKeyDeletion",
        "key-destruction",
    ),
    ("kms.amazonaws.com", "DisableKey", "key-destruction"),
    ("kms.amazonaws.com", "PutKeyPolicy", "key-destruction"),
    // GCP.
    (
        "cloudresourcemanager.googleapis.com",
        "SetIamPolicy",
        "policy-write",
    ),
    (
        "iam.googleapis.com",
        "google.iam.admin.v1.SetIAMPolicy",
        "policy-write",
    ),
    (
        "iam.googleapis.com",
        "google.iam.admin.v1.CreateServiceAccountKey",
        "identity-write",
    ),
    (
        "iam.googleapis.com",
        "google.iam.admin.v1.UploadServiceAccountKey",
        "identity-write",
    ),
    (
        "iam.googleapis.com",
        "google.iam.admin.v1.CreateServiceAccount",
        "identity-write",
    ),
    (
        "iam.googleapis.com",
        "google.iam.admin.v1.CreateRole",
        "policy-write",
    ),
    (
        "iam.googleapis.com",
        "google.iam.admin.v1.UpdateRole",
        "policy-write",
    ),
    (
        "iam.googleapis.com",
        "google.iam.v1.WorkloadIdentityPools.CreateWorkloadIdentityPoolProvider",
        "trust-write",
    ),
    (
        "iam.googleapis.com",
        "google.iam.v1.WorkloadIdentityPools.UpdateWorkloadIdentityPoolProvider",
        "trust-write",
    ),
    (
        "logging.googleapis.com",
        "google.logging.v2.ConfigServiceV2.DeleteSink",
        "audit-tampering",
    ),
    (
        "logging.googleapis.com",
        "google.logging.v2.ConfigServiceV2.UpdateSink",
        "audit-tampering",
    ),
    (
        "logging.googleapis.com",
        "google.logging.v2.ConfigServiceV2.CreateExclusion",
        "audit-tampering",
    ),
    (
        "logging.googleapis.com",
        "google.logging.v2.LoggingServiceV2.DeleteLog",
        "audit-tampering",
    ),
    (
        "cloudkms.googleapis.com",
        "DestroyCryptoKeyVersion",
        "key-destruction",
    ),
    (
        "cloudkms.googleapis.com",
        "DisableCryptoKeyVersion",
        "key-destruction",
    ),
    // Azure (Activity Log operation names, lower-cased).
    (
        "microsoft.authorization",
        "microsoft.authorization/roleassignments/write",
        "policy-write",
    ),
    (
        "microsoft.authorization",
        "microsoft.authorization/roledefinitions/write",
        "policy-write",
    ),
    (
        "microsoft.insights",
        "microsoft.insights/diagnosticsettings/delete",
        "audit-tampering",
    ),
    (
        "microsoft.insights",
        "microsoft.insights/diagnosticsettings/write",
        "audit-tampering",
    ),
    (
        "microsoft.keyvault",
        "microsoft.keyvault/vaults/delete",
        "key-destruction",
    ),
    (
        "microsoft.keyvault",
        "microsoft.keyvault/vaults/accesspolicies/write",
        "policy-write",
    ),
    (
        "microsoft.managedidentity",
        "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials/write",
        "trust-write",
    ),
    // Vault (operation and path class).
    ("vault", "delete sys/audit", "audit-tampering"),
    ("vault", "update sys/audit", "audit-tampering"),
    ("vault", "update sys/policies", "policy-write"),
    ("vault", "delete sys/policies", "policy-write"),
    ("vault", "update sys/policy", "policy-write"),
    ("vault", "delete sys/policy", "policy-write"),
    ("vault", "update sys/auth", "trust-write"),
    ("vault", "delete sys/auth", "trust-write"),
    ("vault", "update auth/token/create", "identity-write"),
    ("vault", "update auth/token/create-orphan", "identity-write"),
    ("vault", "update sys/seal", "availability"),
];

/// A sensitive `(eventSource, action)` pair with its category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveAction {
    /// Full eventSource, `iam.amazonaws.com`.
    pub service: String,
    pub action: String,
    pub category: String,
}

/// `iam` gives `iam.amazonaws.com`; a full event source is kept.
pub fn event_source(service: &str) -> String {
    if service.contains('.') {
        service.to_string()
    } else {
        format!("{service}.amazonaws.com")
    }
}

/// Parses `service:Action`.
pub fn parse_entry(entry: &str) -> Result<(String, String), String> {
    match entry.split_once(':') {
        Some((s, a)) if !s.trim().is_empty() && !a.trim().is_empty() => {
            Ok((event_source(s.trim()), a.trim().to_string()))
        }
        _ => Err(format!(
            "`{entry}` should be `service:Action`, e.g. `iam:CreateUser`"
        )),
    }
}

/// The built-in list with additions and removals applied.
pub fn catalogue(add: &[(String, String)], remove: &[(String, String)]) -> Vec<SensitiveAction> {
    let mut out: Vec<SensitiveAction> = BUILTIN
        .iter()
        .map(|(s, a, c)| SensitiveAction {
            service: s.to_string(),
            action: a.to_string(),
            category: c.to_string(),
        })
        .collect();
    for (service, action) in add {
        if !out
            .iter()
            .any(|x| &x.service == service && &x.action == action)
        {
            out.push(SensitiveAction {
                service: service.clone(),
                action: action.clone(),
                category: "policy-listed".into(),
            });
        }
    }
    out.retain(|x| {
        !remove
            .iter()
            .any(|(s, a)| &x.service == s && &x.action == a)
    });
    out
}
