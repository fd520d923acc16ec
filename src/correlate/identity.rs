//! Filling in who an exchange was for, when the log does not say it all:
//! Entra sign-ins name the federated identity credential they matched (its
//! definition holds issuer, subject and audiences); GCP exchanges name the
//! pool provider (the policy's `[[gcp_provider]]` maps it to an issuer, and
//! failing that the subject's format suggests one, marked as inferred).

use std::collections::HashMap;

use crate::model::records::{Assumption, FederatedCredential};
use crate::model::subject::{normalize_issuer, provider_from_subject, Provider};

/// The issuer a subject's format implies, for the providers whose issuer
/// does not depend on the customer (GitLab and CircleCI issuers do).
fn issuer_from_subject(subject: &str) -> Option<&'static str> {
    match provider_from_subject(subject)? {
        Provider::GithubActions => Some("https://token.actions.githubusercontent.com"),
        Provider::Buildkite => Some("https://agent.buildkite.com"),
        Provider::HcpTerraform => Some("https://app.terraform.io"),
        _ => None,
    }
}

/// Resolves Entra credentials and GCP issuers in place.
pub fn resolve(
    assumptions: &mut [Assumption],
    credentials: &[FederatedCredential],
    gcp_issuer: &dyn Fn(&str) -> Option<String>,
) {
    let by_id: HashMap<String, &FederatedCredential> = credentials
        .iter()
        .map(|c| (c.id.to_ascii_lowercase(), c))
        .collect();
    for a in assumptions.iter_mut() {
        if let Some(id) = a.credential_id.as_deref() {
            // ARM ids of managed-identity credentials end with the name.
            let key = id.to_ascii_lowercase();
            let found = by_id.get(&key).or_else(|| {
                let tail = key.rsplit('/').next().unwrap_or(&key).to_string();
                by_id.get(&tail)
            });
            if let Some(c) = found {
                a.issuer = Some(normalize_issuer(&c.issuer));
                // A flexible credential names no single subject.
                if !c.subject.is_empty() {
                    a.subject = Some(c.subject.clone());
                }
                a.audience = c.audiences.first().cloned();
                a.provider_arn = c.name.clone();
            }
        }
        if a.cloud == "gcp" && a.issuer.is_none() {
            if let Some(i) = a.provider_arn.as_deref().and_then(gcp_issuer) {
                a.issuer = Some(i);
            } else if let Some(i) = a.subject.as_deref().and_then(issuer_from_subject) {
                a.issuer = Some(i.to_string());
                a.issuer_inferred = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_credentials_fill_the_exchange() {
        let mut a = vec![Assumption {
            cloud: "azure".into(),
            credential_id: Some("AB12".into()),
            ..Default::default()
        }];
        let c = vec![FederatedCredential {
            id: "ab12".into(),
            name: Some("github-prod".into()),
            issuer: "https://token.actions.githubusercontent.com/".into(),
            subject: "repo:acme/web:environment:prod".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
            claims_matching_expression: None,
            file: 0,
        }];
        resolve(&mut a, &c, &|_| None);
        assert_eq!(
            a[0].issuer.as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert_eq!(
            a[0].subject.as_deref(),
            Some("repo:acme/web:environment:prod")
        );
        assert_eq!(a[0].audience.as_deref(), Some("api://AzureADTokenExchange"));
    }

    #[test]
    fn gcp_issuers_from_policy_then_subject() {
        let mut a = vec![
            Assumption {
                cloud: "gcp".into(),
                provider_arn: Some(
                    "projects/1/locations/global/workloadIdentityPools/gh/providers/x".into(),
                ),
                subject: Some("repo:a/b:ref:refs/heads/main".into()),
                ..Default::default()
            },
            Assumption {
                cloud: "gcp".into(),
                subject: Some("project_path:g/p:ref_type:branch:ref:main".into()),
                ..Default::default()
            },
        ];
        let mut b = a.clone();
        resolve(&mut a, &[], &|p| {
            p.contains("/gh/")
                .then(|| "https://ghe.example.com/_services/token".to_string())
        });
        assert_eq!(
            a[0].issuer.as_deref(),
            Some("https://ghe.example.com/_services/token")
        );
        assert!(!a[0].issuer_inferred);
        assert_eq!(a[1].issuer, None, "a GitLab issuer cannot be guessed");
        resolve(&mut b, &[], &|_| None);
        assert_eq!(
            b[0].issuer.as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert!(b[0].issuer_inferred);
    }
}
