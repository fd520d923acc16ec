//! The actions a CI session should rarely or never perform: identity and
//! policy writes, audit-trail tampering, and key destruction. This is data:
//! the policy's `[sensitive_actions]` adds to it and removes from it.

/// `(service, action, category)`; service is the eventSource prefix.
pub const BUILTIN: &[(&str, &str, &str)] = &[
    // Identity and policy writes: new principals, keys, privileges.
    ("iam", "CreateUser", "identity-write"),
    ("iam", "CreateAccessKey", "identity-write"),
    ("iam", "CreateLoginProfile", "identity-write"),
    ("iam", "UpdateLoginProfile", "identity-write"),
    ("iam", "CreateServiceSpecificCredential", "identity-write"),
    ("iam", "UploadSSHPublicKey", "identity-write"),
    ("iam", "AddUserToGroup", "identity-write"),
    ("iam", "AttachRolePolicy", "policy-write"),
    ("iam", "AttachUserPolicy", "policy-write"),
    ("iam", "AttachGroupPolicy", "policy-write"),
    ("iam", "PutRolePolicy", "policy-write"),
    ("iam", "PutUserPolicy", "policy-write"),
    ("iam", "PutGroupPolicy", "policy-write"),
    ("iam", "CreatePolicyVersion", "policy-write"),
    ("iam", "SetDefaultPolicyVersion", "policy-write"),
    ("iam", "UpdateAssumeRolePolicy", "trust-write"),
    ("iam", "CreateRole", "trust-write"),
    ("iam", "DeleteRolePermissionsBoundary", "policy-write"),
    ("iam", "DeleteUserPermissionsBoundary", "policy-write"),
    ("iam", "CreateOpenIDConnectProvider", "trust-write"),
    ("iam", "UpdateOpenIDConnectProviderThumbprint", "trust-write"),
    ("iam", "AddClientIDToOpenIDConnectProvider", "trust-write"),
    ("iam", "CreateSAMLProvider", "trust-write"),
    ("iam", "UpdateSAMLProvider", "trust-write"),
    ("iam", "DeactivateMFADevice", "identity-write"),
    ("sts", "GetFederationToken", "identity-write"),
    // Audit tampering: turning off or redirecting what would record this.
    ("cloudtrail", "StopLogging", "audit-tampering"),
    ("cloudtrail", "DeleteTrail", "audit-tampering"),
    ("cloudtrail", "UpdateTrail", "audit-tampering"),
    ("cloudtrail", "PutEventSelectors", "audit-tampering"),
    ("cloudtrail", "PutInsightSelectors", "audit-tampering"),
    ("cloudtrail", "DeleteEventDataStore", "audit-tampering"),
    ("cloudtrail", "StopEventDataStoreIngestion", "audit-tampering"),
    ("ec2", "DeleteFlowLogs", "audit-tampering"),
    ("guardduty", "DeleteDetector", "audit-tampering"),
    ("guardduty", "UpdateDetector", "audit-tampering"),
    ("guardduty", "DisassociateFromMasterAccount", "audit-tampering"),
    (
        "guardduty",
        "DisassociateFromAdministratorAccount",
        "audit-tampering",
    ),
    ("guardduty", "CreateIPSet", "audit-tampering"),
    ("config", "StopConfigurationRecorder", "audit-tampering"),
    ("config", "DeleteConfigurationRecorder", "audit-tampering"),
    ("config", "DeleteDeliveryChannel", "audit-tampering"),
    ("securityhub", "DisableSecurityHub", "audit-tampering"),
    ("logs", "DeleteLogGroup", "audit-tampering"),
    ("organizations", "LeaveOrganization", "audit-tampering"),
    // Key destruction: making data unreadable.
    ("kms", "ScheduleKeyDeletion", "key-destruction"),
    ("kms", "DisableKey", "key-destruction"),
    ("kms", "PutKeyPolicy", "key-destruction"),
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
            service: event_source(s),
            action: a.to_string(),
            category: c.to_string(),
        })
        .collect();
    for (service, action) in add {
        if !out.iter().any(|x| &x.service == service && &x.action == action) {
            out.push(SensitiveAction {
                service: service.clone(),
                action: action.clone(),
                category: "policy-listed".into(),
            });
        }
    }
    out.retain(|x| !remove.iter().any(|(s, a)| &x.service == s && &x.action == a));
    out
}
