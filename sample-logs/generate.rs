//! Deterministic generator for rolecall's sample logs and benchmark corpora.
//!
//! `cargo run --example generate` rewrites the bundled corpus in
//! `sample-logs/` (see `sample-logs/README.md` for the story it tells).
//! `cargo run --release --example generate -- --records 1000000 --out DIR`
//! writes a benchmark corpus of that many CloudTrail records in the S3
//! `AWSLogs` gzip layout (~1.4 KB a record; ~3% web-identity exchanges, ~20%
//! calls made with their keys, other STS calls that issue keys of their own,
//! background traffic), with the matching claims and workflow_job payloads.
//! The same seed always writes the same bytes.

// A data script: its builders take the many fields a record has.
#![allow(clippy::too_many_arguments, clippy::enum_variant_names)]

use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use rayon::prelude::*;
use ring::signature::{Ed25519KeyPair, KeyPair};

// ---------------------------------------------------------------- randomness

/// SplitMix64: small, fast, and the same everywhere.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 1.0 < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }
    fn upper(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..n).map(|_| A[self.below(32) as usize] as char).collect()
    }
    fn key(&mut self) -> String {
        format!("ASIA{}", self.upper(16))
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| format!("{:x}", self.below(16))).collect()
    }
}

// ---------------------------------------------------------------- time

const SEC: i64 = 1;
const MIN: i64 = 60;
const HOUR: i64 = 3600;

fn ts(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn sts_expiration(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap()
        .format("%b %-d, %Y, %-I:%M:%S %p")
        .to_string()
}

// ---------------------------------------------------------------- events

fn esc(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[derive(Clone)]
enum Identity {
    WebIdentity {
        provider_arn: String,
        aud: String,
        sub: String,
    },
    WebIdentityFailed {
        sub: String,
    },
    AssumedRole {
        account: String,
        role: String,
        session: String,
        key: String,
        federated_provider: Option<String>,
        created: i64,
    },
    IamUser {
        account: String,
        name: String,
        key: String,
    },
    Service {
        invoked_by: String,
    },
}

impl Identity {
    fn json(&self) -> String {
        match self {
            Identity::WebIdentity {
                provider_arn,
                aud,
                sub,
            } => format!(
                r#"{{"type":"WebIdentityUser","principalId":{},"userName":{},"identityProvider":{}}}"#,
                esc(&format!("{provider_arn}:{aud}:{sub}")),
                esc(sub),
                esc(provider_arn)
            ),
            Identity::WebIdentityFailed { sub } => {
                format!(r#"{{"type":"WebIdentityUser","userName":{}}}"#, esc(sub))
            }
            Identity::AssumedRole {
                account,
                role,
                session,
                key,
                federated_provider,
                created,
            } => {
                let wif = match federated_provider {
                    Some(p) => format!(
                        r#","webIdFederationData":{{"federatedProvider":{},"attributes":{{}}}}"#,
                        esc(p)
                    ),
                    None => String::new(),
                };
                format!(
                    r#"{{"type":"AssumedRole","principalId":"AROA{role_id}:{session}","arn":"arn:aws:sts::{account}:assumed-role/{role}/{session}","accountId":"{account}","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA{role_id}","arn":"arn:aws:iam::{account}:role/{role}","accountId":"{account}","userName":"{role}"}}{wif},"attributes":{{"creationDate":"{created}","mfaAuthenticated":"false"}}}}}}"#,
                    role_id = role_id(role),
                    created = ts(*created),
                )
            }
            Identity::IamUser { account, name, key } => format!(
                r#"{{"type":"IAMUser","principalId":"AIDA{id}","arn":"arn:aws:iam::{account}:user/{name}","accountId":"{account}","accessKeyId":"{key}","userName":"{name}"}}"#,
                id = role_id(name)
            ),
            Identity::Service { invoked_by } => {
                format!(r#"{{"type":"AWSService","invokedBy":"{invoked_by}"}}"#)
            }
        }
    }
}

fn role_id(name: &str) -> String {
    let mut h: u64 = 1469598103934665603;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(1099511628211);
    }
    format!("{:016X}", h)[..16].to_string()
}

#[derive(Clone)]
struct Event {
    time: i64,
    account: String,
    region: String,
    source: String,
    name: String,
    identity: Identity,
    ip: String,
    ua: String,
    req: String,
    resp: String,
    error: Option<(String, String)>,
    read_only: bool,
    id: String,
    resources: String,
    event_type: &'static str,
}

impl Event {
    fn json(&self) -> String {
        let mut s = String::with_capacity(1600);
        write!(
            s,
            r#"{{"eventVersion":"1.11","userIdentity":{},"eventTime":"{}","eventSource":"{}","eventName":"{}","awsRegion":"{}","sourceIPAddress":{},"userAgent":{},"#,
            self.identity.json(),
            ts(self.time),
            self.source,
            self.name,
            self.region,
            esc(&self.ip),
            esc(&self.ua)
        )
        .unwrap();
        if let Some((code, msg)) = &self.error {
            write!(
                s,
                r#""errorCode":{},"errorMessage":{},"#,
                esc(code),
                esc(msg)
            )
            .unwrap();
        }
        let host = self.source.replace(".amazonaws.com", "");
        write!(
            s,
            r#""requestParameters":{},"responseElements":{},"requestID":"{}","eventID":"{}","readOnly":{},{}"eventType":"{}","managementEvent":true,"recipientAccountId":"{}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{}.{}.amazonaws.com"}}}}"#,
            self.req,
            self.resp,
            role_id(&self.id),
            self.id,
            self.read_only,
            self.resources,
            self.event_type,
            self.account,
            host,
            self.region
        )
        .unwrap();
        s
    }
}

const GH_ISSUER: &str = "token.actions.githubusercontent.com";
const GITHUB_UA: &str =
    "aws-sdk-nodejs/2.1692.0 linux/v20.18.1 configure-aws-credentials-for-github-actions promise";
const CLI_UA: &str = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/GitHub-Actions cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#s3.cp";
const TF_UA: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/sts#1.33.2";

/// An OIDC exchange and the session it opens.
struct Exchange {
    time: i64,
    account: String,
    region: String,
    issuer_host: String,
    aud: String,
    sub: String,
    role: String,
    session_name: String,
    duration: Option<i64>,
    ip: String,
    ua: String,
    key: String,
    id: String,
    error: Option<(String, String)>,
}

impl Exchange {
    fn provider_arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:oidc-provider/{}",
            self.account, self.issuer_host
        )
    }

    fn event(&self, rng: &mut Rng) -> Event {
        let role_arn = format!("arn:aws:iam::{}:role/{}", self.account, self.role);
        let duration = self
            .duration
            .map(|d| format!(r#","durationSeconds":{d}"#))
            .unwrap_or_default();
        let req = format!(
            r#"{{"roleArn":"{role_arn}","roleSessionName":{}{duration}}}"#,
            esc(&self.session_name)
        );
        let (identity, resp) = match &self.error {
            Some(_) => (
                Identity::WebIdentityFailed {
                    sub: self.sub.clone(),
                },
                "null".to_string(),
            ),
            None => {
                let exp = self.time + self.duration.unwrap_or(3600);
                let resp = format!(
                    r#"{{"credentials":{{"accessKeyId":"{}","sessionToken":"","expiration":"{}"}},"subjectFromWebIdentityToken":{},"assumedRoleUser":{{"assumedRoleId":"AROA{}:{}","arn":"arn:aws:sts::{}:assumed-role/{}/{}"}},"provider":"{}","audience":{}}}"#,
                    self.key,
                    sts_expiration(exp),
                    esc(&self.sub),
                    role_id(&self.role),
                    self.session_name,
                    self.account,
                    self.role,
                    self.session_name,
                    self.provider_arn(),
                    esc(&self.aud)
                );
                (
                    Identity::WebIdentity {
                        provider_arn: self.provider_arn(),
                        aud: self.aud.clone(),
                        sub: self.sub.clone(),
                    },
                    resp,
                )
            }
        };
        let _ = rng;
        Event {
            time: self.time,
            account: self.account.clone(),
            region: self.region.clone(),
            source: "sts.amazonaws.com".into(),
            name: "AssumeRoleWithWebIdentity".into(),
            identity,
            ip: self.ip.clone(),
            ua: self.ua.clone(),
            req,
            resp,
            error: self.error.clone(),
            read_only: true,
            id: self.id.clone(),
            resources: format!(
                r#""resources":[{{"accountId":"{}","type":"AWS::IAM::Role","ARN":"{role_arn}"}}],"#,
                self.account
            ),
            event_type: "AwsApiCall",
        }
    }

    fn identity(&self) -> Identity {
        Identity::AssumedRole {
            account: self.account.clone(),
            role: self.role.clone(),
            session: self.session_name.clone(),
            key: self.key.clone(),
            federated_provider: Some(self.provider_arn()),
            created: self.time,
        }
    }
}

/// A call made with some identity's key.
#[allow(clippy::too_many_arguments)]
fn call(
    rng: &mut Rng,
    time: i64,
    account: &str,
    region: &str,
    identity: Identity,
    ip: &str,
    ua: &str,
    api: &Api,
) -> Event {
    Event {
        time,
        account: account.into(),
        region: region.into(),
        source: format!("{}.amazonaws.com", api.service),
        name: api.name.into(),
        identity,
        ip: ip.into(),
        ua: ua.into(),
        req: (api.req)(rng),
        resp: api.resp.into(),
        error: None,
        read_only: api.read_only,
        id: rng.uuid(),
        resources: String::new(),
        event_type: "AwsApiCall",
    }
}

struct Api {
    service: &'static str,
    name: &'static str,
    read_only: bool,
    req: fn(&mut Rng) -> String,
    resp: &'static str,
}

fn req_s3(rng: &mut Rng) -> String {
    format!(
        r#"{{"bucketName":"acme-artifacts-prod","Host":"acme-artifacts-prod.s3.us-east-1.amazonaws.com","key":"releases/build-{}/bundle.tar.gz","x-amz-server-side-encryption":"aws:kms"}}"#,
        rng.below(100000)
    )
}
fn req_ecs(rng: &mut Rng) -> String {
    format!(
        r#"{{"cluster":"prod-main","service":"checkout-api","taskDefinition":"arn:aws:ecs:us-east-1:111111111111:task-definition/checkout-api:{}","forceNewDeployment":false}}"#,
        rng.below(500)
    )
}
fn req_cfn(rng: &mut Rng) -> String {
    format!(
        r#"{{"stackName":"acme-web-prod","templateURL":"https://acme-artifacts-prod.s3.amazonaws.com/templates/web-{}.yaml","capabilities":["CAPABILITY_NAMED_IAM"]}}"#,
        rng.hex(8)
    )
}
fn req_empty(_: &mut Rng) -> String {
    "null".into()
}
fn req_ssm(rng: &mut Rng) -> String {
    format!(
        r#"{{"name":"/acme/prod/checkout/feature-flags-{}","withDecryption":true}}"#,
        rng.below(20)
    )
}
fn req_kms(rng: &mut Rng) -> String {
    format!(
        r#"{{"encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::acme-artifacts-prod/releases/build-{}"}},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#,
        rng.below(100000)
    )
}
fn req_ecr(rng: &mut Rng) -> String {
    format!(
        r#"{{"repositoryName":"acme/checkout-api","imageIds":[{{"imageTag":"sha-{}"}}]}}"#,
        rng.hex(12)
    )
}
fn req_logs(rng: &mut Rng) -> String {
    format!(
        r#"{{"logGroupName":"/aws/lambda/payments-worker","logStreamName":"2025/05/14/[$LATEST]{}"}}"#,
        rng.hex(32)
    )
}

const DEPLOY_APIS: &[Api] = &[
    Api {
        service: "sts",
        name: "GetCallerIdentity",
        read_only: true,
        req: req_empty,
        resp: "null",
    },
    Api {
        service: "s3",
        name: "PutObject",
        read_only: false,
        req: req_s3,
        resp: "null",
    },
    Api {
        service: "s3",
        name: "GetObject",
        read_only: true,
        req: req_s3,
        resp: "null",
    },
    Api {
        service: "ecs",
        name: "UpdateService",
        read_only: false,
        req: req_ecs,
        resp: "null",
    },
    Api {
        service: "ecs",
        name: "DescribeServices",
        read_only: true,
        req: req_ecs,
        resp: "null",
    },
    Api {
        service: "cloudformation",
        name: "UpdateStack",
        read_only: false,
        req: req_cfn,
        resp: "null",
    },
    Api {
        service: "cloudformation",
        name: "DescribeStacks",
        read_only: true,
        req: req_cfn,
        resp: "null",
    },
    Api {
        service: "ssm",
        name: "GetParameter",
        read_only: true,
        req: req_ssm,
        resp: "null",
    },
    Api {
        service: "ecr",
        name: "BatchGetImage",
        read_only: true,
        req: req_ecr,
        resp: "null",
    },
    Api {
        service: "kms",
        name: "GenerateDataKey",
        read_only: true,
        req: req_kms,
        resp: "null",
    },
];

const BACKGROUND_APIS: &[Api] = &[
    Api {
        service: "s3",
        name: "GetObject",
        read_only: true,
        req: req_s3,
        resp: "null",
    },
    Api {
        service: "s3",
        name: "ListObjectsV2",
        read_only: true,
        req: req_s3,
        resp: "null",
    },
    Api {
        service: "kms",
        name: "Decrypt",
        read_only: true,
        req: req_kms,
        resp: "null",
    },
    Api {
        service: "logs",
        name: "CreateLogStream",
        read_only: false,
        req: req_logs,
        resp: "null",
    },
    Api {
        service: "ssm",
        name: "GetParameter",
        read_only: true,
        req: req_ssm,
        resp: "null",
    },
    Api {
        service: "ecs",
        name: "DescribeTasks",
        read_only: true,
        req: req_ecs,
        resp: "null",
    },
    Api {
        service: "ec2",
        name: "DescribeInstances",
        read_only: true,
        req: req_empty,
        resp: "null",
    },
];

fn api(service: &'static str, name: &'static str, read_only: bool) -> Api {
    Api {
        service,
        name,
        read_only,
        req: req_empty,
        resp: "null",
    }
}

// ---------------------------------------------------------------- CI records

#[derive(Clone)]
struct Token {
    claims: serde_json::Value,
}

fn github_claims(
    rng: &mut Rng,
    repo: &str,
    git_ref: &str,
    env: Option<&str>,
    event: &str,
    workflow: &str,
    run_id: u64,
    iat: i64,
    aud: &str,
) -> Token {
    let sub = if event.starts_with("pull_request") {
        format!("repo:{repo}:pull_request")
    } else if let Some(e) = env {
        format!("repo:{repo}:environment:{e}")
    } else {
        format!("repo:{repo}:ref:{git_ref}")
    };
    let owner = repo.split('/').next().unwrap();
    let mut c = serde_json::json!({
        "jti": rng.uuid(),
        "sub": sub,
        "aud": aud,
        "ref": git_ref,
        "sha": rng.hex(40),
        "repository": repo,
        "repository_owner": owner,
        "repository_owner_id": "5123456",
        "repository_visibility": "private",
        "repository_id": format!("{}", 700000000 + rng.below(1000000)),
        "run_id": run_id.to_string(),
        "run_number": format!("{}", run_id % 1000),
        "run_attempt": "1",
        "runner_environment": "github-hosted",
        "actor_id": "1234567",
        "actor": "dev-alice",
        "workflow": workflow.rsplit('/').next().unwrap().split('@').next().unwrap(),
        "head_ref": "",
        "base_ref": "",
        "event_name": event,
        "ref_protected": if git_ref == "refs/heads/main" { "true" } else { "false" },
        "ref_type": if git_ref.starts_with("refs/tags/") { "tag" } else { "branch" },
        "workflow_ref": workflow,
        "job_workflow_ref": workflow,
        "iss": format!("https://{GH_ISSUER}"),
        "nbf": iat - 5,
        "iat": iat,
        "exp": iat + 300,
    });
    if let Some(e) = env {
        c["environment"] = serde_json::Value::from(e);
    }
    Token { claims: c }
}

fn gitlab_claims(
    rng: &mut Rng,
    issuer: &str,
    project: &str,
    branch: &str,
    env: &str,
    tier: &str,
    pipeline: u64,
    iat: i64,
) -> Token {
    let ns = project.split('/').next().unwrap();
    Token {
        claims: serde_json::json!({
            "namespace_id": "4711", "namespace_path": ns, "project_id": "2718", "project_path": project,
            "user_id": "31", "user_login": "dev-bob", "user_email": "bob@example.com",
            "pipeline_id": pipeline.to_string(), "pipeline_source": "push", "job_id": (pipeline * 10).to_string(),
            "ref": branch, "ref_type": "branch", "ref_path": format!("refs/heads/{branch}"), "ref_protected": "true",
            "environment": env, "environment_protected": "true", "deployment_tier": tier, "environment_action": "start",
            "runner_id": 88, "runner_environment": "gitlab-hosted", "sha": rng.hex(40),
            "project_visibility": "private",
            "ci_config_ref_uri": format!("gitlab.com/{project}//.gitlab-ci.yml@refs/heads/main"),
            "ci_config_sha": rng.hex(40),
            "jti": rng.uuid(), "iss": issuer, "iat": iat, "nbf": iat - 5, "exp": iat + 3600,
            "sub": format!("project_path:{project}:ref_type:branch:ref:{branch}"),
            "aud": "sts.amazonaws.com"
        }),
    }
}

/// A compact EdDSA JWT over `claims`.
fn jwt(key: &Ed25519KeyPair, kid: &str, claims: &serde_json::Value) -> String {
    let head = URL_SAFE_NO_PAD
        .encode(serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}).to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{head}.{body}");
    let sig = URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()).as_ref());
    format!("{input}.{sig}")
}

fn workflow_job(
    repo: &str,
    run_id: u64,
    job_id: u64,
    name: &str,
    action: &str,
    start: i64,
    end: Option<i64>,
    runner: &str,
) -> String {
    let completed = end
        .map(|e| format!("\"{}\"", ts(e)))
        .unwrap_or_else(|| "null".into());
    let (status, conclusion) = match action {
        "completed" => ("completed", "\"success\""),
        "in_progress" => ("in_progress", "null"),
        _ => ("queued", "null"),
    };
    format!(
        r#"{{"action":"{action}","workflow_job":{{"id":{job_id},"run_id":{run_id},"workflow_name":"deploy","head_branch":"main","run_url":"https://api.github.com/repos/{repo}/actions/runs/{run_id}","run_attempt":1,"node_id":"CR_kwDO{job_id}","head_sha":"3f786850e387550fdab836ed7e6dc881de23001b","url":"https://api.github.com/repos/{repo}/actions/jobs/{job_id}","html_url":"https://github.com/{repo}/actions/runs/{run_id}/job/{job_id}","status":"{status}","conclusion":{conclusion},"created_at":"{}","started_at":"{}","completed_at":{completed},"name":"{name}","steps":[],"labels":["ubuntu-latest"],"runner_id":{runner_id},"runner_name":"{runner}","runner_group_id":0,"runner_group_name":"GitHub Actions"}},"repository":{{"id":702345678,"name":"{short}","full_name":"{repo}","private":true}},"sender":{{"login":"dev-alice","type":"User"}}}}"#,
        ts(start - 4),
        ts(start),
        runner_id = job_id % 100,
        short = repo.split('/').nth(1).unwrap_or(repo)
    )
}

// ---------------------------------------------------------------- writing

fn gz(path: &Path, body: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = fs::File::create(path).unwrap();
    let mut e = GzEncoder::new(std::io::BufWriter::new(f), Compression::new(6));
    e.write_all(body.as_bytes()).unwrap();
    e.finish().unwrap().flush().unwrap();
}

fn records_doc(events: &[Event]) -> String {
    let mut s = String::with_capacity(events.len() * 1500 + 16);
    s.push_str("{\"Records\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&e.json());
    }
    s.push_str("]}");
    s
}

/// Writes events as S3 delivers them: one gzip file per account, region and
/// `bucket` seconds, under `AWSLogs/o-ORG/ACCOUNT/CloudTrail/REGION/Y/M/D/`.
fn write_trail(
    root: &Path,
    org: &str,
    mut events: Vec<Event>,
    bucket: i64,
    rng: &mut Rng,
) -> usize {
    events.sort_by(|a, b| {
        (a.account.as_str(), a.region.as_str(), a.time, a.id.as_str()).cmp(&(
            b.account.as_str(),
            b.region.as_str(),
            b.time,
            b.id.as_str(),
        ))
    });
    let mut groups: Vec<(String, String, i64, Vec<Event>)> = Vec::new();
    for e in events {
        let slot = e.time.div_euclid(bucket) * bucket;
        match groups.last_mut() {
            Some(g) if g.0 == e.account && g.1 == e.region && g.2 == slot => g.3.push(e),
            _ => groups.push((e.account.clone(), e.region.clone(), slot, vec![e])),
        }
    }
    let named: Vec<(PathBuf, Vec<Event>)> = groups
        .into_iter()
        .map(|(account, region, slot, evs)| {
            let d = DateTime::<Utc>::from_timestamp(slot, 0).unwrap();
            let dir = root
                .join("AWSLogs")
                .join(org)
                .join(&account)
                .join("CloudTrail")
                .join(&region)
                .join(d.format("%Y/%m/%d").to_string());
            let name = format!(
                "{account}_CloudTrail_{region}_{}_{}.json.gz",
                d.format("%Y%m%dT%H%MZ"),
                rng.upper(16)
            );
            (dir.join(name), evs)
        })
        .collect();
    let n = named.len();
    named
        .par_iter()
        .for_each(|(path, evs)| gz(path, &records_doc(evs)));
    n
}

// ---------------------------------------------------------------- the sample corpus

const PROD: &str = "111111111111";
const STAGE: &str = "222222222222";
const ORG: &str = "o-acme12345";
const DAY: i64 = 1_747_180_800; // 2025-05-14T00:00:00Z

/// The one long-term key of IAM user `name` in `account`, the same on
/// every call (as a real user's key is).
fn user_key(account: &str, name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account
        .bytes()
        .chain(b"/".iter().copied())
        .chain(name.bytes())
    {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    format!("AKIA{}", Rng(h).upper(16))
}

fn runner_ip(rng: &mut Rng) -> String {
    format!(
        "20.{}.{}.{}",
        25 + rng.below(200),
        rng.below(256),
        1 + rng.below(254)
    )
}

struct Sample {
    rng: Rng,
    events: Vec<Event>,
    github_claims: Vec<serde_json::Value>,
    gitlab_tokens: Vec<serde_json::Value>,
    other_claims: Vec<serde_json::Value>,
    jobs: Vec<String>,
    next_run: u64,
}

/// What a scripted GitHub run does.
struct Run<'a> {
    repo: &'a str,
    git_ref: &'a str,
    env: Option<&'a str>,
    event: &'a str,
    workflow: Option<&'a str>,
    account: &'a str,
    role: &'a str,
    start: i64,
    minutes: i64,
    calls: usize,
    aud: &'a str,
    claims: bool,
    duration: Option<i64>,
}

impl Sample {
    fn github_run(&mut self, r: Run<'_>) -> (Exchange, String) {
        let run_id = self.next_run;
        self.next_run += 1 + self.rng.below(40);
        let ip = runner_ip(&mut self.rng);
        let workflow = r
            .workflow
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/.github/workflows/deploy.yml@{}", r.repo, r.git_ref));
        let exchange_at = r.start + 40 + self.rng.below(60) as i64;
        let token = github_claims(
            &mut self.rng,
            r.repo,
            r.git_ref,
            r.env,
            r.event,
            &workflow,
            run_id,
            exchange_at - 2,
            r.aud,
        );
        let sub = token.claims["sub"].as_str().unwrap().to_string();
        if r.claims {
            self.github_claims.push(token.claims.clone());
        }
        let ex = Exchange {
            time: exchange_at,
            account: r.account.into(),
            region: "us-east-1".into(),
            issuer_host: GH_ISSUER.into(),
            aud: r.aud.into(),
            sub,
            role: r.role.into(),
            session_name: format!("GitHubActions-{run_id}-1"),
            duration: r.duration,
            ip: ip.clone(),
            ua: GITHUB_UA.into(),
            key: self.rng.key(),
            id: self.rng.uuid(),
            error: None,
        };
        let ev = ex.event(&mut self.rng);
        self.events.push(ev);
        let end = r.start + r.minutes * MIN;
        for i in 0..r.calls {
            let t = exchange_at + 5 + (i as i64 * (end - exchange_at - 30)) / r.calls.max(1) as i64;
            let a = self.rng.pick(DEPLOY_APIS);
            let ua = if a.service == "cloudformation" || a.service == "s3" {
                CLI_UA
            } else {
                GITHUB_UA
            };
            let e = call(
                &mut self.rng,
                t,
                r.account,
                "us-east-1",
                ex.identity(),
                &ip,
                ua,
                a,
            );
            self.events.push(e);
        }
        // CloudFormation keeps working with the session after the job: a
        // service acting for the session is neither drift nor late use.
        if r.calls > 6 {
            let a = api("s3", "GetObject", true);
            let e = call(
                &mut self.rng,
                end + 20 * MIN,
                r.account,
                "us-east-1",
                ex.identity(),
                "cloudformation.amazonaws.com",
                "cloudformation.amazonaws.com",
                &a,
            );
            self.events.push(e);
        }
        let job = run_id * 10;
        let runner = format!("GitHub Actions {}", self.rng.below(1000));
        self.jobs.push(workflow_job(
            r.repo,
            run_id,
            job,
            "deploy",
            "in_progress",
            r.start,
            None,
            &runner,
        ));
        self.jobs.push(workflow_job(
            r.repo,
            run_id,
            job,
            "deploy",
            "completed",
            r.start,
            Some(end),
            &runner,
        ));
        (ex, ip)
    }

    fn oidc(
        &mut self,
        account: &str,
        issuer_host: &str,
        aud: &str,
        sub: &str,
        role: &str,
        session: &str,
        t: i64,
        ip: &str,
        ua: &str,
        duration: Option<i64>,
    ) -> Exchange {
        let ex = Exchange {
            time: t,
            account: account.into(),
            region: "us-east-1".into(),
            issuer_host: issuer_host.into(),
            aud: aud.into(),
            sub: sub.into(),
            role: role.into(),
            session_name: session.into(),
            duration,
            ip: ip.into(),
            ua: ua.into(),
            key: self.rng.key(),
            id: self.rng.uuid(),
            error: None,
        };
        let ev = ex.event(&mut self.rng);
        self.events.push(ev);
        ex
    }

    fn calls(&mut self, ex: &Exchange, from: i64, n: usize, every: i64, ip: &str, apis: &[Api]) {
        for i in 0..n {
            let a = self.rng.pick(apis);
            let e = call(
                &mut self.rng,
                from + i as i64 * every,
                &ex.account,
                &ex.region,
                ex.identity(),
                ip,
                &ex.ua,
                a,
            );
            self.events.push(e);
        }
    }

    fn background(&mut self, n: usize) {
        let users = ["platform-admin", "break-glass", "ci-legacy-user"];
        for _ in 0..n {
            let t = DAY + self.rng.below(86_400) as i64;
            let account = if self.rng.chance(0.6) { PROD } else { STAGE };
            let region = *self.rng.pick(&["us-east-1", "us-east-1", "eu-west-1"]);
            let roll = self.rng.below(100);
            let e = if roll < 45 {
                // Instance and Lambda roles, with long-lived session keys.
                let role = *self.rng.pick(&[
                    "ecs-task-checkout",
                    "lambda-payments-worker",
                    "eks-node-group",
                    "batch-reports",
                ]);
                let identity = Identity::AssumedRole {
                    account: account.into(),
                    role: role.into(),
                    session: format!("i-0{}", self.rng.hex(16)),
                    key: format!("ASIAB{}", self.rng.upper(15)),
                    federated_provider: None,
                    created: t - 600,
                };
                let ip = format!(
                    "10.{}.{}.{}",
                    self.rng.below(256),
                    self.rng.below(256),
                    self.rng.below(256)
                );
                let a = self.rng.pick(BACKGROUND_APIS);
                call(&mut self.rng, t, account, region, identity, &ip, "aws-sdk-go-v2/1.32.6 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/s3#1.70.0", a)
            } else if roll < 70 {
                let a = self.rng.pick(BACKGROUND_APIS);
                let invoked = *self.rng.pick(&[
                    "cloudtrail.amazonaws.com",
                    "ecs-tasks.amazonaws.com",
                    "lambda.amazonaws.com",
                ]);
                let mut e = call(
                    &mut self.rng,
                    t,
                    account,
                    region,
                    Identity::Service {
                        invoked_by: invoked.into(),
                    },
                    invoked,
                    invoked,
                    a,
                );
                e.event_type = "AwsServiceEvent";
                e
            } else if roll < 90 {
                let name = *self.rng.pick(&users);
                // A user keeps one key; the draw stays so that the rest of
                // the corpus is what it was.
                let _ = self.rng.upper(16);
                let identity = Identity::IamUser {
                    account: account.into(),
                    name: name.into(),
                    key: user_key(account, name),
                };
                let a = self.rng.pick(BACKGROUND_APIS);
                call(
                    &mut self.rng,
                    t,
                    account,
                    region,
                    identity,
                    "198.51.100.14",
                    "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6",
                    a,
                )
            } else {
                // AssumeRole: another STS call that issues keys of its own.
                let key = self.rng.key();
                let _ = self.rng.upper(16);
                let identity = Identity::IamUser {
                    account: account.into(),
                    name: "platform-admin".into(),
                    key: user_key(account, "platform-admin"),
                };
                let resp = format!(
                    r#"{{"credentials":{{"accessKeyId":"{key}","sessionToken":"IQoJb3JpZ2luX2VjEXAMPLE","expiration":"{}"}},"assumedRoleUser":{{"assumedRoleId":"AROAEXAMPLE:admin","arn":"arn:aws:sts::{account}:assumed-role/OrganizationAccountAccessRole/admin"}}}}"#,
                    sts_expiration(t + 3600)
                );
                let req = format!(
                    r#"{{"roleArn":"arn:aws:iam::{account}:role/OrganizationAccountAccessRole","roleSessionName":"admin","durationSeconds":3600}}"#
                );
                let e = Event {
                    time: t,
                    account: account.into(),
                    region: "us-east-1".into(),
                    source: "sts.amazonaws.com".into(),
                    name: "AssumeRole".into(),
                    identity,
                    ip: "198.51.100.14".into(),
                    ua: "aws-cli/2.22.4".into(),
                    req,
                    resp,
                    error: None,
                    read_only: true,
                    id: self.rng.uuid(),
                    resources: String::new(),
                    event_type: "AwsApiCall",
                };
                // Its key is used from elsewhere; it is not a CI session.
                let used = Identity::AssumedRole {
                    account: account.into(),
                    role: "OrganizationAccountAccessRole".into(),
                    session: "admin".into(),
                    key,
                    federated_provider: None,
                    created: t,
                };
                let a = api("iam", "CreateUser", false);
                let u = call(
                    &mut self.rng,
                    t + 60,
                    account,
                    "us-east-1",
                    used,
                    "203.0.113.200",
                    "aws-cli/2.22.4",
                    &a,
                );
                self.events.push(u);
                e
            };
            self.events.push(e);
        }
    }
}

fn sample(out: &Path) {
    let mut s = Sample {
        rng: Rng(0x5eed),
        events: Vec::new(),
        github_claims: Vec::new(),
        gitlab_tokens: Vec::new(),
        other_claims: Vec::new(),
        jobs: Vec::new(),
        next_run: 9_125_400_000,
    };
    let base =
        |repo: &'static str, git_ref: &'static str, env: Option<&'static str>, start: i64| Run {
            repo,
            git_ref,
            env,
            event: "push",
            workflow: None,
            account: PROD,
            role: "deploy-prod",
            start,
            minutes: 8,
            calls: 12,
            aud: "sts.amazonaws.com",
            claims: true,
            duration: None,
        };

    // Benign production deploys through the day (push to main, and tags).
    // One of them also still uses the static key it was meant to retire.
    let mut deploy_with_old_key = None;
    for i in 0..18 {
        let repo = if i % 2 == 0 {
            "acme/payments"
        } else {
            "acme/web"
        };
        let start = DAY + 8 * HOUR + i * 31 * MIN;
        let mut r = base(repo, "refs/heads/main", Some("production"), start);
        r.calls = 8 + (i as usize % 9);
        if i % 6 == 5 {
            r.git_ref = "refs/tags/v1.4.0";
            r.event = "release";
        }
        let (ex, ip) = s.github_run(r);
        if i == 4 {
            deploy_with_old_key = Some((ex.time, ip));
        }
    }
    // Benign staging deploys and terraform plans.
    for i in 0..10 {
        let mut r = base(
            "acme/web",
            "refs/heads/main",
            Some("staging"),
            DAY + 7 * HOUR + i * 47 * MIN,
        );
        r.account = STAGE;
        r.role = "ci-staging-deployer";
        r.calls = 6;
        s.github_run(r);
    }
    for i in 0..4 {
        let mut r = base(
            "acme/infra",
            "refs/heads/main",
            Some("production"),
            DAY + 9 * HOUR + i * 2 * HOUR,
        );
        r.role = "terraform-plan-prod";
        r.workflow = Some("acme/infra/.github/workflows/plan.yml@refs/heads/main");
        r.calls = 10;
        s.github_run(r);
    }

    // tier-mismatch: a staging job assumes a production role.
    let mut r = base(
        "acme/infra",
        "refs/heads/main",
        Some("staging"),
        DAY + 10 * HOUR + 5 * MIN,
    );
    r.role = "terraform-plan-prod";
    r.workflow = Some("acme/infra/.github/workflows/plan.yml@refs/heads/main");
    s.github_run(r);
    // untrusted-repository: a repository outside the role's list.
    s.github_run(base(
        "acme/sandbox-experiments",
        "refs/heads/main",
        Some("production"),
        DAY + 11 * HOUR + 2 * MIN,
    ));
    // unexpected-ref: production environment, unreviewed branch.
    s.github_run(base(
        "acme/web",
        "refs/heads/hotfix/skip-review",
        Some("production"),
        DAY + 11 * HOUR + 40 * MIN,
    ));
    // unexpected-environment: a job without the production environment.
    s.github_run(base(
        "acme/payments",
        "refs/heads/main",
        None,
        DAY + 12 * HOUR + 10 * MIN,
    ));
    // unexpected-workflow: a debug workflow in a trusted repository.
    let mut r = base(
        "acme/payments",
        "refs/heads/main",
        Some("production"),
        DAY + 12 * HOUR + 50 * MIN,
    );
    r.workflow = Some("acme/payments/.github/workflows/debug-shell.yml@refs/heads/main");
    s.github_run(r);
    // pull-request-assumption: a PR run reaches the staging deployer.
    let mut r = base(
        "acme/web",
        "refs/pull/42/merge",
        None,
        DAY + 13 * HOUR + 5 * MIN,
    );
    r.event = "pull_request";
    r.account = STAGE;
    r.role = "ci-staging-deployer";
    r.calls = 4;
    s.github_run(r);
    // audience-mismatch: a token for a custom audience.
    let mut r = base(
        "acme/web",
        "refs/heads/main",
        Some("staging"),
        DAY + 14 * HOUR + 35 * MIN,
    );
    r.account = STAGE;
    r.role = "ci-staging-deployer";
    r.aud = "https://github.com/acme";
    r.calls = 3;
    s.github_run(r);
    // unmatched-assumption: an exchange no collected token accounts for.
    let mut r = base(
        "acme/web",
        "refs/heads/main",
        Some("staging"),
        DAY + 15 * HOUR + 15 * MIN,
    );
    r.account = STAGE;
    r.role = "ci-staging-deployer";
    r.claims = false;
    r.calls = 3;
    s.github_run(r);

    // credential-ip-drift: the key is also used from an address off the runner.
    let (ex, _) = s.github_run(base(
        "acme/payments",
        "refs/heads/main",
        Some("production"),
        DAY + 14 * HOUR + 2 * MIN,
    ));
    let drift_apis = [
        api("s3", "ListBuckets", true),
        api("secretsmanager", "GetSecretValue", true),
        api("s3", "GetObject", true),
    ];
    s.calls(
        &ex,
        ex.time + 3 * MIN,
        3,
        40 * SEC,
        "185.220.101.34",
        &drift_apis,
    );
    // credential-use-after-job: the key keeps working long after the run.
    let (ex, ip) = s.github_run(base(
        "acme/web",
        "refs/heads/main",
        Some("production"),
        DAY + 16 * HOUR + 40 * MIN,
    ));
    s.calls(
        &ex,
        ex.time + 40 * MIN,
        4,
        2 * MIN,
        &ip,
        &[
            api("s3", "GetObject", true),
            api("ssm", "GetParameter", true),
        ],
    );
    // sensitive-action: a CI session writes IAM and tries to stop the trail.
    let mut r = base(
        "acme/infra",
        "refs/heads/main",
        Some("production"),
        DAY + 17 * HOUR + 20 * MIN,
    );
    r.role = "terraform-plan-prod";
    r.workflow = Some("acme/infra/.github/workflows/plan.yml@refs/heads/main");
    r.calls = 5;
    let (ex, ip) = s.github_run(r);
    s.calls(
        &ex,
        ex.time + 2 * MIN,
        1,
        1,
        &ip,
        &[api("iam", "CreateAccessKey", false)],
    );
    let mut denied = call(
        &mut s.rng,
        ex.time + 3 * MIN,
        PROD,
        "us-east-1",
        ex.identity(),
        &ip,
        CLI_UA,
        &api("cloudtrail", "StopLogging", false),
    );
    denied.error = Some(("AccessDenied".into(), "User: arn:aws:sts::111111111111:assumed-role/terraform-plan-prod/GitHubActions is not authorized to perform: cloudtrail:StopLogging".into()));
    s.events.push(denied);

    // token-reuse: the same token traded again from another address.
    let start = DAY + 18 * HOUR + 30 * MIN;
    let (ex, _) = s.github_run(base(
        "acme/payments",
        "refs/heads/main",
        Some("production"),
        start,
    ));
    let mut replay = Exchange {
        time: ex.time + 2 * MIN + 35 * SEC,
        ip: "203.0.113.66".into(),
        ua: "python-requests/2.32.3 Boto3/1.35.76 Python/3.12.7 Linux/6.1.0 Botocore/1.35.76"
            .into(),
        key: s.rng.key(),
        id: s.rng.uuid(),
        session_name: "replay".into(),
        ..ex
    };
    replay.error = None;
    let ev = replay.event(&mut s.rng);
    s.events.push(ev);
    s.calls(
        &replay,
        replay.time + 20,
        3,
        30,
        "203.0.113.66",
        &[
            api("s3", "ListBuckets", true),
            api("sts", "GetCallerIdentity", true),
        ],
    );

    // assume-failure-burst: a fork's pull request tries the production role.
    for i in 0..6 {
        let mut ex = Exchange {
            time: DAY + 13 * HOUR + 30 * MIN + i * 40,
            account: PROD.into(),
            region: "us-east-1".into(),
            issuer_host: GH_ISSUER.into(),
            aud: "sts.amazonaws.com".into(),
            sub: "repo:acme-forks/payments:pull_request".into(),
            role: "deploy-prod".into(),
            session_name: format!("GitHubActions-{}", 9_200_000_000u64 + i as u64),
            duration: None,
            ip: "198.51.100.23".into(),
            ua: GITHUB_UA.into(),
            key: String::new(),
            id: s.rng.uuid(),
            error: Some((
                "AccessDenied".into(),
                "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
            )),
        };
        ex.session_name.push_str("-1");
        let ev = ex.event(&mut s.rng);
        s.events.push(ev);
    }
    // A lone failure is not a burst.
    let lone = Exchange {
        time: DAY + 9 * HOUR + 3 * MIN,
        account: STAGE.into(),
        region: "us-east-1".into(),
        issuer_host: GH_ISSUER.into(),
        aud: "sts.amazonaws.com".into(),
        sub: "repo:acme/web:ref:refs/heads/renovate/lodash".into(),
        role: "ci-staging-deployer".into(),
        session_name: "GitHubActions".into(),
        duration: None,
        ip: "20.42.7.9".into(),
        ua: GITHUB_UA.into(),
        key: String::new(),
        id: s.rng.uuid(),
        error: Some((
            "AccessDenied".into(),
            "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
        )),
    };
    let ev = lone.event(&mut s.rng);
    s.events.push(ev);

    // GitLab (JWTs, signed): benign staging deploys, and one excessive-duration.
    let gitlab_key = Ed25519KeyPair::from_seed_unchecked(&[7u8; 32]).unwrap();
    for i in 0..6 {
        let t = DAY + 8 * HOUR + 15 * MIN + i * 83 * MIN;
        let pipeline = 1_480_000 + i as u64 * 17;
        let tok = gitlab_claims(
            &mut s.rng,
            "https://gitlab.com",
            "acme-group/billing",
            "main",
            "staging",
            "staging",
            pipeline,
            t - 3,
        );
        let sub = tok.claims["sub"].as_str().unwrap().to_string();
        let duration = if i == 4 { Some(43_200) } else { Some(3600) };
        let ip = format!("34.74.{}.{}", s.rng.below(256), 1 + s.rng.below(254));
        let ex = s.oidc(
            STAGE,
            "gitlab.com",
            "sts.amazonaws.com",
            &sub,
            "gitlab-deploy-staging",
            &format!("gitlab-{pipeline}"),
            t,
            &ip,
            "Boto3/1.35.76 md/Botocore#1.35.76 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.7",
            duration,
        );
        s.calls(&ex, t + 30, 5, 45, &ip, DEPLOY_APIS);
        s.gitlab_tokens.push(tok.claims);
    }

    // Buildkite, HCP Terraform and CircleCI in the development account.
    for i in 0..3 {
        let t = DAY + 10 * HOUR + i * 3 * HOUR;
        let iat = t - 2;
        let sub = "organization:acme:pipeline:mobile-app:ref:refs/heads/main:commit:9f3182061f1e2cca4702c368cbc039b7dc9d4485:step:build";
        s.other_claims.push(serde_json::json!({
            "iss": "https://agent.buildkite.com", "sub": sub, "aud": "sts.amazonaws.com", "iat": iat, "nbf": iat, "exp": iat + 300,
            "organization_slug": "acme", "pipeline_slug": "mobile-app", "build_number": 812 + i, "build_branch": "main",
            "build_commit": "9f3182061f1e2cca4702c368cbc039b7dc9d4485", "step_key": "build", "job_id": s.rng.uuid(),
            "agent_id": s.rng.uuid(), "build_source": "webhook", "runner_environment": "buildkite-hosted"
        }));
        let ip = format!("52.23.{}.{}", s.rng.below(256), 1 + s.rng.below(254));
        let session = format!("buildkite-job-{}", s.rng.uuid());
        let ex = s.oidc(
            STAGE,
            "agent.buildkite.com",
            "sts.amazonaws.com",
            sub,
            "buildkite-build-dev",
            &session,
            t,
            &ip,
            "aws-cli/2.22.4",
            None,
        );
        s.calls(&ex, t + 20, 4, 30, &ip, DEPLOY_APIS);
    }
    for i in 0..2 {
        let t = DAY + 11 * HOUR + 30 * MIN + i * 4 * HOUR;
        let iat = t - 2;
        let sub = "organization:acme:project:Default Project:workspace:network-dev:run_phase:apply";
        let run = format!("run-{}", s.rng.upper(16));
        s.other_claims.push(serde_json::json!({
            "jti": s.rng.uuid(), "iss": "https://app.terraform.io", "aud": "aws.workload.identity", "iat": iat, "nbf": iat - 5, "exp": iat + 300,
            "sub": sub, "terraform_organization_id": "org-GRNbCjYNpBB6NEH9", "terraform_organization_name": "acme",
            "terraform_project_id": "prj-vegSA59s1XPwMr2t", "terraform_project_name": "Default Project",
            "terraform_workspace_id": "ws-mbsd5E3Ktt5Rg2Xm", "terraform_workspace_name": "network-dev",
            "terraform_full_workspace": "organization:acme:project:Default Project:workspace:network-dev",
            "terraform_run_id": run, "terraform_run_phase": "apply"
        }));
        let ex = s.oidc(
            STAGE,
            "app.terraform.io",
            "aws.workload.identity",
            sub,
            "tfc-workspace-dev",
            &format!("terraform-{run}"),
            t,
            "52.86.200.106",
            TF_UA,
            None,
        );
        s.calls(
            &ex,
            t + 15,
            6,
            20,
            "52.86.200.106",
            &[
                api("ec2", "DescribeVpcs", true),
                api("ec2", "CreateTags", false),
                api("ec2", "DescribeSubnets", true),
            ],
        );
    }
    {
        let t = DAY + 15 * HOUR + 45 * MIN;
        let iat = t - 1;
        let org = "6b2f3a48-0f3e-4c35-9d8a-3a8e2e9b1c21";
        let sub = format!("org/{org}/project/d1a7e3c2-5b4f-4e8a-9c6d-2f1e0a9b8c7d/user/3e2d1c0b-a9f8-4e7d-8c6b-5a4f3e2d1c0b/vcs-origin/github.com/acme/integration-tests/vcs-ref/refs/heads/main");
        s.other_claims.push(serde_json::json!({
            "iss": format!("https://oidc.circleci.com/org/{org}"), "sub": sub, "aud": org, "iat": iat, "exp": iat + 3600,
            "oidc.circleci.com/project-id": "d1a7e3c2-5b4f-4e8a-9c6d-2f1e0a9b8c7d",
            "oidc.circleci.com/vcs-origin": "github.com/acme/integration-tests", "oidc.circleci.com/vcs-ref": "refs/heads/main",
            "oidc.circleci.com/context-ids": ["c0ffee00-1234-4cde-8f00-aabbccddeeff"], "oidc.circleci.com/ssh-rerun": false
        }));
        let ex = s.oidc(
            STAGE,
            &format!("oidc.circleci.com/org/{org}"),
            org,
            &sub,
            "circleci-test-runner",
            "circleci-integration",
            t,
            "3.89.4.77",
            "aws-cli/2.22.4",
            None,
        );
        s.calls(
            &ex,
            t + 10,
            5,
            15,
            "3.89.4.77",
            &[
                api("dynamodb", "PutItem", false),
                api("dynamodb", "Query", true),
            ],
        );
    }
    // untrusted-issuer: a contractor's self-managed GitLab still trusted by
    // the sandbox account.
    let ex = s.oidc(
        STAGE,
        "gitlab.contractor-example.io",
        "sts.amazonaws.com",
        "project_path:contractor/tools:ref_type:branch:ref:main",
        "sandbox-dev",
        "contractor-sync",
        DAY + 19 * HOUR + 12 * MIN,
        "45.83.64.10",
        "Boto3/1.35.76",
        None,
    );
    s.calls(
        &ex,
        ex.time + 30,
        3,
        60,
        "45.83.64.10",
        &[api("s3", "ListBuckets", true), api("s3", "GetObject", true)],
    );
    // An EKS workload: not CI, judged on its subject alone.
    let ex = s.oidc(
        PROD,
        "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
        "sts.amazonaws.com",
        "system:serviceaccount:checkout:api",
        "checkout-irsa",
        "botocore-session-1747231200",
        DAY + 6 * HOUR,
        "10.20.3.44",
        "aws-sdk-java/2.29.2 Linux/6.1.112 OpenJDK_64-Bit_Server_VM/21.0.5",
        None,
    );
    s.calls(&ex, ex.time + 60, 8, 300, "10.20.3.44", BACKGROUND_APIS);

    s.background(2600);
    let other = other_sources(&mut s);
    let (deploy_at, runner) = deploy_with_old_key.expect("the fifth deploy ran");
    static_key_scenarios(&mut s.events, deploy_at, &runner);

    // ---- write everything
    let _ = fs::remove_dir_all(out.join("AWSLogs"));
    let _ = fs::remove_dir_all(out.join("claims"));
    let _ = fs::remove_dir_all(out.join("ci"));
    let _ = fs::remove_dir_all(out.join("keys"));
    let files = write_trail(out, ORG, s.events.clone(), HOUR, &mut s.rng);
    // Digest and Insight files sit beside the trail in S3; rolecall skips them.
    let digest_dir = out.join(format!(
        "AWSLogs/{ORG}/{PROD}/CloudTrail-Digest/us-east-1/2025/05/14"
    ));
    gz(
        &digest_dir.join(format!(
            "{PROD}_CloudTrail-Digest_us-east-1_acme-org-trail_us-east-1_20250514T120000Z.json.gz"
        )),
        &format!(
            r#"{{"awsAccountId":"{PROD}","digestStartTime":"2025-05-14T11:00:00Z","digestEndTime":"2025-05-14T12:00:00Z","digestS3Bucket":"acme-cloudtrail","digestPublicKeyFingerprint":"6e4a4a3b1c1d","digestSignatureAlgorithm":"SHA256withRSA","logFiles":[]}}"#
        ),
    );
    let insight_dir = out.join(format!(
        "AWSLogs/{ORG}/{PROD}/CloudTrail-Insight/us-east-1/2025/05/14"
    ));
    gz(
        &insight_dir.join(format!(
            "{PROD}_CloudTrail-Insight_us-east-1_20250514T1300Z_abcdefgh.json.gz"
        )),
        &format!(
            r#"{{"Records":[{{"eventVersion":"1.08","eventTime":"2025-05-14T13:00:00Z","awsRegion":"us-east-1","eventID":"{}","eventType":"AwsCloudTrailInsight","recipientAccountId":"{PROD}","sharedEventID":"{}","insightDetails":{{"state":"Start","eventSource":"sts.amazonaws.com","eventName":"AssumeRoleWithWebIdentity","insightType":"ApiErrorRateInsight"}},"eventCategory":"Insight"}}]}}"#,
            s.rng.uuid(),
            s.rng.uuid()
        ),
    );

    fs::create_dir_all(out.join("claims")).unwrap();
    let mut gh = String::new();
    for c in &s.github_claims {
        gh.push_str(&c.to_string());
        gh.push('\n');
    }
    fs::write(out.join("claims/github-actions.ndjson"), gh).unwrap();
    let mut gl = String::new();
    for c in &s.gitlab_tokens {
        gl.push_str(&jwt(&gitlab_key, "gitlab-sample-key", c));
        gl.push('\n');
    }
    fs::write(out.join("claims/gitlab-id-tokens.jwt"), gl).unwrap();
    fs::write(
        out.join("claims/other-providers.json"),
        serde_json::to_string_pretty(&s.other_claims).unwrap() + "\n",
    )
    .unwrap();
    fs::create_dir_all(out.join("keys")).unwrap();
    let jwks = serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": "gitlab-sample-key",
        "x": URL_SAFE_NO_PAD.encode(gitlab_key.public_key().as_ref())}]});
    fs::write(
        out.join("keys/gitlab-jwks.json"),
        serde_json::to_string_pretty(&jwks).unwrap() + "\n",
    )
    .unwrap();
    fs::create_dir_all(out.join("ci")).unwrap();
    fs::write(out.join("ci/workflow_job.ndjson"), s.jobs.join("\n") + "\n").unwrap();
    fs::write(out.join("ci/github-meta.json"), github_meta(&runner)).unwrap();
    let _ = fs::remove_dir_all(out.join("iam"));
    fs::create_dir_all(out.join("iam")).unwrap();
    fs::write(out.join("iam/credential-report.csv"), CREDENTIAL_REPORT).unwrap();
    let _ = fs::remove_dir_all(out.join("gcp"));
    let _ = fs::remove_dir_all(out.join("azure"));
    let _ = fs::remove_dir_all(out.join("vault"));
    for (path, body) in &other {
        let p = out.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }
    eprintln!(
        "wrote {} events in {files} trail files, {} GitHub claim sets, {} GitLab JWTs, {} other claim sets, {} workflow_job deliveries to {}",
        s.events.len(),
        s.github_claims.len(),
        s.gitlab_tokens.len(),
        s.other_claims.len(),
        s.jobs.len(),
        out.display()
    );
}

// ---------------------------------------------------------------- static keys

/// The static-key half of the sample, drawn from a generator of its own so
/// that the rest of the corpus stays as it was: `ci-deployer`'s key, which
/// the policy says `deploy-prod` replaced on 2025-05-01, used by Terraform
/// inside the fifth production deploy (same runner, during its session).
/// The background's IAM users (an office address, the AWS CLI) are the
/// ordinary use that must raise nothing above info.
fn static_key_scenarios(events: &mut Vec<Event>, deploy_at: i64, runner: &str) {
    let mut rng = Rng(0x0057_a71c);
    let identity = || Identity::IamUser {
        account: PROD.into(),
        name: "ci-deployer".into(),
        key: user_key(PROD, "ci-deployer"),
    };
    let terraform = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.5 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/s3#1.67.1";
    let apis = [
        api("sts", "GetCallerIdentity", true),
        api("s3", "ListBuckets", true),
        api("s3", "PutObject", false),
        api("s3", "GetObject", true),
    ];
    for i in 0..6 {
        let a = &apis[(i as usize).min(apis.len() - 1)];
        let e = call(
            &mut rng,
            deploy_at + 60 + i * 40,
            PROD,
            "us-east-1",
            identity(),
            runner,
            terraform,
            a,
        );
        events.push(e);
    }
}

/// GitHub's meta API as `curl https://api.github.com/meta` gives it, cut
/// down: a few runner ranges, among them the deploy runner's /16.
fn github_meta(runner: &str) -> String {
    let mut octets = runner.split('.');
    let (a, b) = (octets.next().unwrap(), octets.next().unwrap());
    serde_json::to_string_pretty(&serde_json::json!({
        "verifiable_password_authentication": false,
        "hooks": ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20"],
        "web": ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "20.201.28.151/32"],
        "actions": ["4.148.0.0/16", "4.149.0.0/18", "13.64.0.0/16", "13.65.0.0/16", format!("{a}.{b}.0.0/16"), "52.224.0.0/16", "2603:1030:800::/48"],
        "actions_macos": ["13.105.117.0/31", "13.105.49.0/31"],
    }))
    .unwrap()
        + "\n"
}

/// The production account's credential report as `aws iam
/// get-credential-report` decodes to, generated after the sample day.
const CREDENTIAL_REPORT: &str = "\
user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111111111111:root,2019-03-01T09:00:00+00:00,not_supported,2025-04-02T08:12:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
platform-admin,arn:aws:iam::111111111111:user/platform-admin,2021-06-01T10:00:00+00:00,true,2025-05-13T16:40:00+00:00,2025-03-20T10:00:00+00:00,N/A,true,true,2025-03-20T10:05:00+00:00,2025-05-14T23:10:00+00:00,us-east-1,sts,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
break-glass,arn:aws:iam::111111111111:user/break-glass,2020-02-11T09:30:00+00:00,true,no_information,2025-04-01T09:00:00+00:00,N/A,true,true,2025-04-01T09:05:00+00:00,2025-05-14T22:50:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
ci-legacy-user,arn:aws:iam::111111111111:user/ci-legacy-user,2020-08-19T14:00:00+00:00,false,N/A,N/A,N/A,false,true,2023-11-02T15:20:00+00:00,2025-05-14T23:30:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
ci-deployer,arn:aws:iam::111111111111:user/ci-deployer,2021-01-05T12:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-06-01T08:00:00+00:00,2025-05-14T10:10:00+00:00,us-east-1,s3,false,2022-01-05T12:00:00+00:00,2023-07-01T03:00:00+00:00,us-east-1,s3,false,N/A,false,N/A
old-reporting-bot,arn:aws:iam::111111111111:user/old-reporting-bot,2022-03-14T11:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-08-12T07:45:00+00:00,2025-02-03T04:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
release-signer,arn:aws:iam::111111111111:user/release-signer,2025-05-10T09:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-05-10T09:01:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

// ---------------------------------------------------------------- other sources

const GCP_POOL: &str = "projects/812345678901/locations/global/workloadIdentityPools/github";
const GCP_SA: &str = "deploy-prod@acme-prod.iam.gserviceaccount.com";

fn gcp_entry(
    rng: &mut Rng,
    t: i64,
    log: &str,
    service: &str,
    method: &str,
    auth: serde_json::Value,
    ip: &str,
    resource: serde_json::Value,
    extra: serde_json::Value,
) -> String {
    let mut pp = serde_json::json!({
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog", "status": {}, "authenticationInfo": auth,
        "requestMetadata": {"callerIp": ip, "callerSuppliedUserAgent": "google-github-actions/auth google-api-go-client/0.5"},
        "serviceName": service, "methodName": method,
    });
    if let (Some(pp), Some(extra)) = (pp.as_object_mut(), extra.as_object()) {
        pp.extend(extra.clone());
    }
    serde_json::json!({
        "protoPayload": pp, "insertId": rng.hex(12), "resource": resource, "timestamp": ts(t), "severity": "INFO",
        "logName": format!("projects/acme-prod/logs/cloudaudit.googleapis.com%2F{log}"), "receiveTimestamp": ts(t + 1)
    })
    .to_string()
}

/// GCP, Entra and Vault sessions of the same day, each source with benign
/// traffic and one incident. Returns files to write (relative paths).
fn other_sources(s: &mut Sample) -> Vec<(String, String)> {
    let mut files = Vec::new();
    // ---- GCP: GitHub deploys through workload identity federation.
    let mut data_access = Vec::new();
    let mut activity = Vec::new();
    let audience = format!("https://iam.googleapis.com/{GCP_POOL}/providers/github-actions");
    for (i, env) in ["production", "production", "production", "staging"]
        .iter()
        .enumerate()
    {
        let t = DAY + 9 * HOUR + i as i64 * 2 * HOUR + 7 * MIN;
        let run_id = 9_125_500_000 + i as u64 * 11;
        let workflow = "acme/gcp-services/.github/workflows/deploy.yml@refs/heads/main";
        let tok = github_claims(
            &mut s.rng,
            "acme/gcp-services",
            "refs/heads/main",
            Some(env),
            "push",
            workflow,
            run_id,
            t - 2,
            &audience,
        );
        let sub = tok.claims["sub"].as_str().unwrap().to_string();
        s.github_claims.push(tok.claims);
        let principal = format!("principal://iam.googleapis.com/{GCP_POOL}/subject/{sub}");
        let ip = format!(
            "20.{}.{}.{}",
            60 + i,
            s.rng.below(256),
            1 + s.rng.below(254)
        );
        data_access.push(gcp_entry(
            &mut s.rng, t, "data_access", "sts.googleapis.com", "google.identity.sts.v1.SecurityTokenService.ExchangeToken",
            serde_json::json!({"principalSubject": sub}), &ip,
            serde_json::json!({"type": "audited_resource", "labels": {"project_id": "acme-prod", "service": "sts.googleapis.com", "method": "google.identity.sts.v1.SecurityTokenService.ExchangeToken"}}),
            serde_json::json!({"resourceName": format!("{GCP_POOL}/providers/github-actions"),
                "request": {"@type": "type.googleapis.com/google.identity.sts.v1.ExchangeTokenRequest", "audience": format!("//iam.googleapis.com/{GCP_POOL}/providers/github-actions"),
                    "grantType": "urn:ietf:params:oauth:grant-type:token-exchange", "requestedTokenType": "urn:ietf:params:oauth:token-type:access_token", "subjectTokenType": "urn:ietf:params:oauth:token-type:jwt"},
                "metadata": {"@type": "type.googleapis.com/google.identity.sts.v1.AuditData", "mapped_principal": principal}}),
        ));
        data_access.push(gcp_entry(
            &mut s.rng, t + 2, "data_access", "iamcredentials.googleapis.com", "GenerateAccessToken",
            serde_json::json!({"principalSubject": principal}), &ip,
            serde_json::json!({"type": "service_account", "labels": {"email_id": GCP_SA, "project_id": "acme-prod", "unique_id": "104857600000000000001"}}),
            serde_json::json!({"resourceName": "projects/-/serviceAccounts/104857600000000000001",
                "request": {"@type": "type.googleapis.com/google.iam.credentials.v1.GenerateAccessTokenRequest", "name": format!("projects/-/serviceAccounts/{GCP_SA}"), "lifetime": "3600s"}}),
        ));
        for c in 0..4 {
            let method = [
                "storage.objects.create",
                "google.cloud.run.v2.Services.UpdateService",
                "storage.objects.get",
            ][c % 3];
            let service = if method.starts_with("storage") {
                "storage.googleapis.com"
            } else {
                "run.googleapis.com"
            };
            activity.push(gcp_entry(
                &mut s.rng, t + 30 + c as i64 * 45, "activity", service, method,
                serde_json::json!({"principalEmail": GCP_SA, "serviceAccountDelegationInfo": [{"principalSubject": principal}]}), &ip,
                serde_json::json!({"type": "gcs_bucket", "labels": {"project_id": "acme-prod", "bucket_name": "acme-prod-artifacts"}}),
                serde_json::json!({"resourceName": "projects/_/buckets/acme-prod-artifacts/objects/release.tar.gz"}),
            ));
        }
        let runner = format!("GitHub Actions {}", s.rng.below(1000));
        s.jobs.push(workflow_job(
            "acme/gcp-services",
            run_id,
            run_id * 10,
            "deploy",
            "completed",
            t - 40,
            Some(t + 10 * MIN),
            &runner,
        ));
    }
    files.push((
        "gcp/cloudaudit.googleapis.com/data_access/2025/05/14/000000_235959_S0.json".to_string(),
        data_access.join("\n") + "\n",
    ));
    files.push((
        "gcp/cloudaudit.googleapis.com/activity/2025/05/14/000000_235959_S0.json".to_string(),
        activity.join("\n") + "\n",
    ));

    // ---- Entra: GitHub deploys to an Azure app; one token is replayed from elsewhere.
    let tenant = "3f6c1b2a-7d4e-4a9b-8c1d-2e5f6a7b8c9d";
    let app = "7b9e2c4d-1a3f-4e5b-9c7d-8e6f5a4b3c2d";
    let fic = "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
    let mut signins = Vec::new();
    let mut activity = Vec::new();
    for i in 0..3 {
        let t = DAY + 10 * HOUR + i * 3 * HOUR + 20 * MIN;
        let run_id = 9_125_600_000 + i as u64 * 7;
        let tok = github_claims(
            &mut s.rng,
            "acme/azure-web",
            "refs/heads/main",
            Some("production"),
            "push",
            "acme/azure-web/.github/workflows/deploy.yml@refs/heads/main",
            run_id,
            t - 2,
            "api://AzureADTokenExchange",
        );
        s.github_claims.push(tok.claims);
        let ip = format!(
            "20.{}.{}.{}",
            90 + i,
            s.rng.below(256),
            1 + s.rng.below(254)
        );
        let uti = URL_SAFE_NO_PAD.encode(s.rng.uuid());
        signins.push(serde_json::json!({
            "time": ts(t), "resourceId": format!("/tenants/{tenant}/providers/Microsoft.aadiam"), "operationName": "Sign-in activity",
            "operationVersion": "1.0", "category": "ServicePrincipalSignInLogs", "tenantId": tenant, "resultType": "0", "resultSignature": "None",
            "durationMs": 0, "callerIpAddress": ip, "correlationId": s.rng.uuid(), "Level": 4, "location": "US",
            "properties": {"id": s.rng.uuid(), "createdDateTime": ts(t), "appId": app, "ipAddress": ip, "status": {"errorCode": 0},
                "servicePrincipalName": "github-deploy-prod", "servicePrincipalId": "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a",
                "clientCredentialType": "federatedIdentityCredential", "federatedCredentialId": fic,
                "resourceDisplayName": "Windows Azure Service Management API", "resourceId": "797f4846-ba00-4fd7-ba43-dac1f8f63013",
                "uniqueTokenIdentifier": uti, "isInteractive": false, "tokenIssuerType": "AzureAD"}
        }));
        let mut calls = vec![
            (ip.clone(), "MICROSOFT.WEB/SITES/WRITE"),
            (ip.clone(), "MICROSOFT.WEB/SITES/RESTART/ACTION"),
            (ip.clone(), "MICROSOFT.RESOURCES/DEPLOYMENTS/WRITE"),
        ];
        if i == 1 {
            // The token is used again from outside GitHub's runners.
            calls.push((
                "45.142.120.33".to_string(),
                "MICROSOFT.KEYVAULT/VAULTS/SECRETS/READ",
            ));
            calls.push((
                "45.142.120.33".to_string(),
                "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
            ));
        }
        for (c, (from, op)) in calls.iter().enumerate() {
            let id = s.rng.uuid();
            activity.push(serde_json::json!({
                "time": ts(t + 40 + c as i64 * 50), "resourceId": "/SUBSCRIPTIONS/4E2F1A3B-5C6D-4E7F-8A9B-0C1D2E3F4A5B/RESOURCEGROUPS/WEB-PROD/PROVIDERS/MICROSOFT.WEB/SITES/ACME-WEB",
                "operationName": op, "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.OK",
                "callerIpAddress": from, "correlationId": id, "level": "Information",
                "identity": {"claims": {"appid": app, "uti": uti, "tid": tenant, "idtyp": "app", "iss": format!("https://sts.windows.net/{tenant}/")}},
                "properties": {"eventDataId": id, "eventCategory": "Administrative"}
            }).to_string());
        }
        let runner = format!("GitHub Actions {}", s.rng.below(1000));
        s.jobs.push(workflow_job(
            "acme/azure-web",
            run_id,
            run_id * 10,
            "deploy",
            "completed",
            t - 40,
            Some(t + 15 * MIN),
            &runner,
        ));
    }
    files.push((
        "azure/ServicePrincipalSignInLogs/PT1H.json".to_string(),
        serde_json::json!({"records": signins}).to_string() + "\n",
    ));
    files.push((
        "azure/AzureActivity/PT1H.json".to_string(),
        activity.join("\n") + "\n",
    ));
    files.push((
        "azure/federated-credentials.json".to_string(),
        serde_json::to_string_pretty(&serde_json::json!([{"audiences": ["api://AzureADTokenExchange"], "description": "GitHub production deploys",
            "id": fic, "issuer": "https://token.actions.githubusercontent.com", "name": "github-azure-web-production",
            "subject": "repo:acme/azure-web:environment:production"}])).unwrap() + "\n",
    ));

    // ---- Vault: GitLab jobs log in with their ID tokens; one disables the audit device.
    let mut audit = Vec::new();
    for i in 0..3 {
        let t = DAY + 11 * HOUR + i * 2 * HOUR + 40 * MIN;
        let accessor = format!("hmac-sha256:{}", s.rng.hex(64));
        let ip = format!("34.75.{}.{}", s.rng.below(256), 1 + s.rng.below(254));
        let req_id = s.rng.uuid();
        let request = serde_json::json!({"id": req_id, "operation": "update", "mount_type": "jwt", "mount_accessor": "auth_jwt_4d2c1b3a",
            "mount_point": "auth/jwt/", "path": "auth/jwt/login", "data": {"jwt": format!("hmac-sha256:{}", s.rng.hex(64)), "role": format!("hmac-sha256:{}", s.rng.hex(64))},
            "remote_address": ip, "namespace": {"id": "root"}});
        audit.push(serde_json::json!({"time": ts(t), "type": "request", "auth": {"token_type": "default"}, "request": request}).to_string());
        let metadata = serde_json::json!({"role": "ci-deploy-prod", "project_path": "acme-group/billing", "ref": "main", "ref_type": "branch",
            "environment": "production", "pipeline_id": (1_480_100 + i).to_string()});
        let auth = serde_json::json!({"accessor": accessor, "client_token": format!("hmac-sha256:{}", s.rng.hex(64)),
            "display_name": "jwt-project_path:acme-group/billing:ref_type:branch:ref:main", "metadata": metadata,
            "policies": ["default", "deploy-prod"], "token_policies": ["default", "deploy-prod"], "token_ttl": 1200, "token_type": "service"});
        audit.push(
            serde_json::json!({"time": ts(t), "type": "response", "auth": auth, "request": request,
            "response": {"auth": auth, "mount_type": "jwt", "mount_point": "auth/jwt/"}})
            .to_string(),
        );
        let mut reqs = vec![
            ("read", "secret/data/billing/prod/db"),
            ("read", "secret/data/billing/prod/api-keys"),
            ("update", "auth/token/renew-self"),
        ];
        if i == 2 {
            reqs.push(("delete", "sys/audit/file"));
        }
        for (c, (op, path)) in reqs.iter().enumerate() {
            audit.push(serde_json::json!({"time": ts(t + 20 + c as i64 * 30), "type": "request",
                "auth": {"accessor": accessor, "client_token": "hmac-sha256:x", "display_name": "jwt-project_path:acme-group/billing:ref_type:branch:ref:main",
                    "metadata": {"role": "ci-deploy-prod"}, "policies": ["default", "deploy-prod"], "token_type": "service"},
                "request": {"id": s.rng.uuid(), "operation": op, "mount_type": "kv", "path": path, "remote_address": ip, "namespace": {"id": "root"}}}).to_string());
        }
    }
    files.push(("vault/vault_audit.log".to_string(), audit.join("\n") + "\n"));
    files
}

// ---------------------------------------------------------------- benchmark corpus

/// Writes `records` CloudTrail records: 10 accounts, 3 regions, one file per
/// account, region and 5 minutes, about 3,500 records a file.
fn bench(out: &Path, records: usize, seed: u64) {
    let accounts: Vec<String> = (0..10)
        .map(|i| format!("{}", 300_000_000_000u64 + i * 11_111_111))
        .collect();
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let repos: Vec<String> = (0..200).map(|i| format!("acme/service-{i:03}")).collect();
    // Enough 5-minute slots that a file holds ~3,500 records.
    let files_wanted = (records / 3500).max(1);
    let slots = files_wanted.div_ceil(accounts.len() * regions.len()).max(1);
    let chunk = records.div_ceil(files_wanted);
    let start = DAY;
    let parts: Vec<(usize, usize)> = (0..files_wanted)
        .map(|i| (i * chunk, ((i + 1) * chunk).min(records)))
        .filter(|(a, b)| a < b)
        .collect();
    fs::create_dir_all(out).unwrap();
    let claims_lines: Vec<(Vec<String>, Vec<String>)> = parts
        .par_iter()
        .enumerate()
        .map(|(fi, &(lo, hi))| {
            let mut rng = Rng(seed ^ (fi as u64).wrapping_mul(0x9E37_79B9));
            let account = &accounts[fi % accounts.len()];
            let region = regions[(fi / accounts.len()) % regions.len()];
            let slot = (fi / (accounts.len() * regions.len())) % slots;
            let t0 = start + slot as i64 * 300;
            let mut events: Vec<Event> = Vec::with_capacity(hi - lo);
            let mut claims = Vec::new();
            let mut jobs = Vec::new();
            let mut n = 0;
            while n < hi - lo {
                let t = t0 + rng.below(300) as i64;
                let roll = rng.below(1000);
                if roll < 30 {
                    // A CI exchange and ~6.7 calls with its key (3% + 20%).
                    let repo = rng.pick(&repos).clone();
                    let run_id = 9_000_000_000 + rng.below(1_000_000_000);
                    let env = if rng.chance(0.5) { "production" } else { "staging" };
                    let role = if env == "production" { "deploy-prod" } else { "deploy-staging" };
                    let tok = github_claims(&mut rng, &repo, "refs/heads/main", Some(env), "push", &format!("{repo}/.github/workflows/deploy.yml@refs/heads/main"), run_id, t - 2, "sts.amazonaws.com");
                    let ip = runner_ip(&mut rng);
                    let ex = Exchange {
                        time: t,
                        account: account.clone(),
                        region: region.into(),
                        issuer_host: GH_ISSUER.into(),
                        aud: "sts.amazonaws.com".into(),
                        sub: tok.claims["sub"].as_str().unwrap().into(),
                        role: role.into(),
                        session_name: format!("GitHubActions-{run_id}-1"),
                        duration: None,
                        ip: ip.clone(),
                        ua: GITHUB_UA.into(),
                        key: rng.key(),
                        id: rng.uuid(),
                        error: if rng.chance(0.02) { Some(("AccessDenied".into(), "Not authorized".into())) } else { None },
                    };
                    events.push(ex.event(&mut rng));
                    n += 1;
                    if ex.error.is_none() {
                        claims.push(tok.claims.to_string());
                        let calls = 5 + rng.below(4) as usize;
                        // One session in 500 leaks its key.
                        let leak = rng.chance(0.002);
                        for c in 0..calls {
                            let a = rng.pick(DEPLOY_APIS);
                            let from = if leak && c == calls - 1 { "185.220.101.34".to_string() } else { ip.clone() };
                            events.push(call(&mut rng, t + 5 + c as i64 * 20, account, region, ex.identity(), &from, CLI_UA, a));
                            n += 1;
                        }
                        let runner = format!("GitHub Actions {}", rng.below(1000));
                        jobs.push(workflow_job(&repo, run_id, run_id * 10, "deploy", "completed", t - 30, Some(t + 300), &runner));
                    }
                } else if roll < 50 {
                    // Another STS call that issues a key, used twice.
                    let key = rng.key();
                    let _ = rng.upper(16);
                    let identity = Identity::IamUser { account: account.clone(), name: "platform-admin".into(), key: user_key(account, "platform-admin") };
                    let resp = format!(
                        r#"{{"credentials":{{"accessKeyId":"{key}","sessionToken":"","expiration":"{}"}},"assumedRoleUser":{{"assumedRoleId":"AROAEXAMPLE:admin","arn":"arn:aws:sts::{account}:assumed-role/OrganizationAccountAccessRole/admin"}}}}"#,
                        sts_expiration(t + 3600)
                    );
                    events.push(Event {
                        time: t,
                        account: account.clone(),
                        region: region.into(),
                        source: "sts.amazonaws.com".into(),
                        name: "AssumeRole".into(),
                        identity,
                        ip: "198.51.100.14".into(),
                        ua: "aws-cli/2.22.4".into(),
                        req: format!(r#"{{"roleArn":"arn:aws:iam::{account}:role/OrganizationAccountAccessRole","roleSessionName":"admin","durationSeconds":3600}}"#),
                        resp,
                        error: None,
                        read_only: true,
                        id: rng.uuid(),
                        resources: String::new(),
                        event_type: "AwsApiCall",
                    });
                    let used = Identity::AssumedRole { account: account.clone(), role: "OrganizationAccountAccessRole".into(), session: "admin".into(), key, federated_provider: None, created: t };
                    for c in 0..2 {
                        let a = rng.pick(BACKGROUND_APIS);
                        events.push(call(&mut rng, t + 30 + c * 10, account, region, used.clone(), "198.51.100.14", "aws-cli/2.22.4", a));
                    }
                    n += 3;
                } else {
                    let a = rng.pick(BACKGROUND_APIS);
                    let e = if rng.chance(0.5) {
                        let identity = Identity::AssumedRole {
                            account: account.clone(),
                            role: rng.pick(&["ecs-task-checkout", "lambda-payments-worker", "eks-node-group"]).to_string(),
                            session: format!("i-0{}", rng.hex(16)),
                            key: format!("ASIAB{}", rng.upper(15)),
                            federated_provider: None,
                            created: t - 600,
                        };
                        let ip = format!("10.{}.{}.{}", rng.below(256), rng.below(256), rng.below(256));
                        call(&mut rng, t, account, region, identity, &ip, "aws-sdk-go-v2/1.32.6 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/s3#1.70.0", a)
                    } else {
                        let invoked = *rng.pick(&["cloudtrail.amazonaws.com", "ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]);
                        call(&mut rng, t, account, region, Identity::Service { invoked_by: invoked.into() }, invoked, invoked, a)
                    };
                    events.push(e);
                    n += 1;
                }
            }
            events.sort_by_key(|e| e.time);
            let d = DateTime::<Utc>::from_timestamp(t0, 0).unwrap();
            let dir = out
                .join("AWSLogs")
                .join(account)
                .join("CloudTrail")
                .join(region)
                .join(d.format("%Y/%m/%d").to_string());
            let name = format!("{account}_CloudTrail_{region}_{}_{:08}{}.json.gz", d.format("%Y%m%dT%H%MZ"), fi, rng.upper(8));
            gz(&dir.join(name), &records_doc(&events));
            (claims, jobs)
        })
        .collect();
    fs::create_dir_all(out.join("claims")).unwrap();
    let mut c = String::new();
    let mut j = String::new();
    for (claims, jobs) in &claims_lines {
        for l in claims {
            c.push_str(l);
            c.push('\n');
        }
        for l in jobs {
            j.push_str(l);
            j.push('\n');
        }
    }
    fs::write(out.join("claims/github-actions.ndjson"), c).unwrap();
    fs::create_dir_all(out.join("ci")).unwrap();
    fs::write(out.join("ci/workflow_job.ndjson"), j).unwrap();
    eprintln!(
        "wrote {records} records in {} files to {}",
        parts.len(),
        out.display()
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut out: Option<PathBuf> = None;
    let mut records: Option<usize> = None;
    let mut seed = 42u64;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            "--records" => records = args.next().and_then(|v| v.replace('_', "").parse().ok()),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "-h" | "--help" => {
                eprintln!("usage: generate [--out DIR] [--records N [--seed S]]\n  without --records: rewrite the bundled sample corpus (default DIR: sample-logs)");
                return;
            }
            other => {
                eprintln!("generate: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    match records {
        None => sample(
            &out.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-logs")),
        ),
        Some(n) => bench(
            &out.unwrap_or_else(|| PathBuf::from("bench-corpus")),
            n,
            seed,
        ),
    }
}
