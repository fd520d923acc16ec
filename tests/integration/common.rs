//! Shared test helpers: a scenario builder that writes real CloudTrail
//! records, claim sets and workflow_job payloads to a temporary directory
//! and runs the real pipeline on them, and a runner for the binary.

use std::path::Path;
use std::process::{Command, Output};

use rolecall::detect::sql::builtin_queries;
use rolecall::ingest::IngestOptions;
use rolecall::model::{Finding, Report};
use rolecall::pipeline::{self, Config, Outcome};
use rolecall::policy::Policy;
use serde_json::{json, Value};

/// A test that cannot run here says why and passes, except in CI (`CI`
/// set, as every CI system sets it, or the test's own `require`
/// variable, which `.ci/run` sets): there a missing tool or data set
/// fails the run instead of passing it silently.
pub fn skip_or_fail(require: &str, why: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci && std::env::var_os(require).is_none(),
        "{why}: required here ({})",
        if ci {
            "CI is set".to_string()
        } else {
            format!("{require} is set")
        }
    );
    eprintln!("skipped: {why}");
}

/// 2025-05-14T00:00:00Z.
pub const T0: i64 = 1_747_180_800;
pub const GH: &str = "token.actions.githubusercontent.com";
pub const ACCOUNT: &str = "111111111111";

pub fn ts(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

pub fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// A GitHub Actions run that trades its token for a role.
#[derive(Clone)]
pub struct Gh {
    pub repo: &'static str,
    pub git_ref: &'static str,
    pub env: Option<&'static str>,
    pub event: &'static str,
    pub workflow: Option<&'static str>,
    pub role: String,
    pub ip: &'static str,
    /// Seconds after T0.
    pub at: i64,
    pub aud: &'static str,
    pub run_id: &'static str,
    pub key: &'static str,
    /// Write the token's claim set.
    pub claims: bool,
    pub duration: Option<i64>,
    pub jti: &'static str,
    /// Override the subject (default: GitHub's default template).
    pub subject: Option<&'static str>,
    pub issuer: &'static str,
}

impl Default for Gh {
    fn default() -> Self {
        Gh {
            repo: "acme/web",
            git_ref: "refs/heads/main",
            env: Some("production"),
            event: "push",
            workflow: None,
            role: role("deploy-prod"),
            ip: "20.1.2.3",
            at: 3600,
            aud: "sts.amazonaws.com",
            run_id: "1001",
            key: "ASIAAAAAAAAAAAAAAAA1",
            claims: true,
            duration: None,
            jti: "jti-1",
            subject: None,
            issuer: GH,
        }
    }
}

impl Gh {
    pub fn subject(&self) -> String {
        if let Some(s) = self.subject {
            return s.to_string();
        }
        if self.event.starts_with("pull_request") {
            format!("repo:{}:pull_request", self.repo)
        } else if let Some(e) = self.env {
            format!("repo:{}:environment:{e}", self.repo)
        } else {
            format!("repo:{}:ref:{}", self.repo, self.git_ref)
        }
    }
}

#[derive(Default)]
pub struct Scenario {
    pub records: Vec<Value>,
    pub claims: Vec<Value>,
    pub jobs: Vec<Value>,
    pub policy: Option<String>,
    /// Other input files, by name: credential reports, key lists, ranges.
    pub files: Vec<(String, String)>,
    counter: u64,
}

impl Scenario {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_policy(mut self, toml: &str) -> Self {
        self.policy = Some(toml.to_string());
        self
    }

    fn id(&mut self) -> String {
        self.counter += 1;
        format!("00000000-0000-4000-8000-{:012}", self.counter)
    }

    /// Adds the exchange (and the token's claims unless `claims` is off).
    pub fn github(&mut self, g: &Gh) -> &mut Self {
        let sub = g.subject();
        let provider = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{}", g.issuer);
        let mut req =
            json!({"roleArn": g.role, "roleSessionName": format!("GitHubActions-{}-1", g.run_id)});
        if let Some(d) = g.duration {
            req["durationSeconds"] = json!(d);
        }
        let id = self.id();
        self.records.push(json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "WebIdentityUser", "principalId": format!("{provider}:{}:{sub}", g.aud), "userName": sub, "identityProvider": provider},
            "eventTime": ts(T0 + g.at), "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity",
            "awsRegion": "us-east-1", "sourceIPAddress": g.ip, "userAgent": "aws-sdk-nodejs/2.1 configure-aws-credentials-for-github-actions",
            "requestParameters": req,
            "responseElements": {
                "credentials": {"accessKeyId": g.key, "sessionToken": "", "expiration": ts(T0 + g.at + 3600)},
                "subjectFromWebIdentityToken": sub, "provider": provider, "audience": g.aud,
                "assumedRoleUser": {"arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/x/GitHubActions")}
            },
            "eventID": id, "readOnly": true, "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT
        }));
        if g.claims {
            let workflow = g.workflow.map(str::to_string).unwrap_or_else(|| {
                format!("{}/.github/workflows/deploy.yml@{}", g.repo, g.git_ref)
            });
            let mut c = json!({
                "iss": format!("https://{}", g.issuer), "sub": sub, "aud": g.aud, "jti": g.jti,
                "iat": T0 + g.at - 2, "exp": T0 + g.at + 298, "repository": g.repo, "ref": g.git_ref,
                "ref_type": if g.git_ref.starts_with("refs/tags/") { "tag" } else { "branch" },
                "event_name": g.event, "job_workflow_ref": workflow, "run_id": g.run_id, "run_attempt": "1",
                "actor": "octocat", "runner_environment": "github-hosted"
            });
            if let Some(e) = g.env {
                c["environment"] = json!(e);
            }
            self.claims.push(c);
        }
        self
    }

    /// A call made with `key`.
    pub fn call(&mut self, key: &str, at: i64, ip: &str, service: &str, action: &str) -> &mut Self {
        self.call_full(key, at, ip, service, action, None, None)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn call_full(
        &mut self,
        key: &str,
        at: i64,
        ip: &str,
        service: &str,
        action: &str,
        error: Option<&str>,
        invoked_by: Option<&str>,
    ) -> &mut Self {
        let id = self.id();
        let mut ui = json!({
            "type": "AssumedRole", "principalId": "AROAX:GitHubActions",
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/deploy-prod/GitHubActions"),
            "accountId": ACCOUNT, "accessKeyId": key,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role("deploy-prod")},
                "webIdFederationData": {"federatedProvider": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{GH}"), "attributes": {}}}
        });
        if let Some(by) = invoked_by {
            ui["invokedBy"] = json!(by);
        }
        let mut r = json!({
            "eventVersion": "1.08", "userIdentity": ui, "eventTime": ts(T0 + at),
            "eventSource": format!("{service}.amazonaws.com"), "eventName": action, "awsRegion": "us-east-1",
            "sourceIPAddress": ip, "userAgent": "aws-cli/2.15", "requestParameters": null, "responseElements": null,
            "eventID": id, "readOnly": false, "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT
        });
        if let Some(code) = error {
            r["errorCode"] = json!(code);
            r["errorMessage"] = json!("denied");
        }
        self.records.push(r);
        self
    }

    /// A call made with IAM user `user`'s long-term key, as CloudTrail logs
    /// it (`IAMUser`, an `AKIA` key id).
    #[allow(clippy::too_many_arguments)]
    pub fn user_call(
        &mut self,
        user: &str,
        key: &str,
        at: i64,
        ip: &str,
        agent: &str,
        service: &str,
        action: &str,
    ) -> &mut Self {
        let id = self.id();
        self.records.push(json!({
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
                "accountId": ACCOUNT, "accessKeyId": key, "userName": user},
            "eventTime": ts(T0 + at), "eventSource": format!("{service}.amazonaws.com"), "eventName": action,
            "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": agent,
            "requestParameters": null, "responseElements": null,
            "eventID": id, "readOnly": true, "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT
        }));
        self
    }

    /// Adds an input file beside the trail.
    pub fn file(&mut self, name: &str, text: &str) -> &mut Self {
        self.files.push((name.to_string(), text.to_string()));
        self
    }

    /// A failed exchange, shaped as STS logs it (no response, a bare identity).
    pub fn failed_exchange(&mut self, role_arn: &str, sub: &str, at: i64, ip: &str) -> &mut Self {
        let id = self.id();
        self.records.push(json!({
            "eventVersion": "1.08", "userIdentity": {"type": "WebIdentityUser", "userName": sub},
            "eventTime": ts(T0 + at), "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity",
            "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": "aws-sdk",
            "errorCode": "AccessDenied", "errorMessage": "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            "requestParameters": {"roleArn": role_arn, "roleSessionName": "GitHubActions"}, "responseElements": null,
            "eventID": id, "readOnly": true, "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT
        }));
        self
    }

    /// A completed (or, with `end` None, still running) workflow job.
    pub fn job(&mut self, repo: &str, run_id: &str, start: i64, end: Option<i64>) -> &mut Self {
        let status = if end.is_some() {
            "completed"
        } else {
            "in_progress"
        };
        self.jobs.push(json!({
            "action": status,
            "workflow_job": {"id": self.counter + 100, "run_id": run_id.parse::<u64>().unwrap(), "run_attempt": 1,
                "status": status, "started_at": ts(T0 + start), "completed_at": end.map(|e| ts(T0 + e)),
                "name": "deploy", "runner_name": "GitHub Actions 2", "labels": ["ubuntu-latest"]},
            "repository": {"full_name": repo}
        }));
        self
    }

    /// Writes the inputs (not the policy) to `dir`.
    pub fn write(&self, dir: &Path) {
        let trail = dir.join("trail.json");
        std::fs::write(&trail, json!({"Records": self.records}).to_string()).unwrap();
        if !self.claims.is_empty() {
            let lines: Vec<String> = self.claims.iter().map(Value::to_string).collect();
            std::fs::write(dir.join("claims.ndjson"), lines.join("\n") + "\n").unwrap();
        }
        if !self.jobs.is_empty() {
            let lines: Vec<String> = self.jobs.iter().map(Value::to_string).collect();
            std::fs::write(dir.join("jobs.ndjson"), lines.join("\n") + "\n").unwrap();
        }
        for (name, text) in &self.files {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }

    /// Runs the pipeline in-process and returns the report.
    pub fn report(&self) -> Report {
        self.outcome().report
    }

    /// Runs the pipeline in-process: the report and its tables.
    pub fn outcome(&self) -> Outcome {
        let dir = tempfile::tempdir().unwrap();
        self.outcome_in(dir.path())
    }

    /// Writes the inputs under `dir` and runs the pipeline on them; the
    /// files stay for as long as `dir` does (the dashboard re-reads raw
    /// records from them).
    pub fn outcome_in(&self, dir: &Path) -> Outcome {
        let inputs = dir.join("in");
        std::fs::create_dir(&inputs).unwrap();
        self.write(&inputs);
        let policy = match &self.policy {
            Some(text) => Policy::parse("policy.toml", text).expect("test policy parses"),
            None => Policy::default(),
        };
        let cfg = Config {
            sources: vec![inputs.to_string_lossy().to_string()],
            policy,
            ingest: IngestOptions::default(),
            rules: None,
            queries: builtin_queries(),
            allow_partial: false,
            ..Default::default()
        };
        let outcome = pipeline::run(&cfg).expect("pipeline runs");
        assert_eq!(
            outcome.report.summary.input_error_count, 0,
            "scenario inputs read cleanly: {:?}",
            outcome.report.summary.input_errors
        );
        outcome
    }

    pub fn findings(&self) -> Vec<Finding> {
        self.report().findings
    }
}

/// Findings of one rule.
pub fn of<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

/// Runs the built binary.
pub fn rolecall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs")
}

pub fn repo_path(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_string_lossy()
        .to_string()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}
