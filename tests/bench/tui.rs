//! How long a keystroke takes in the dashboard with 100,000 sessions:
//! `update(Action)` plus a full draw into a 200x50 `TestBackend` (what the
//! terminal then receives is the diff, which is smaller). Run with
//!
//!     cargo bench --bench tui                 # 100,000 sessions
//!     SESSIONS=300000 cargo bench --bench tui
//!
//! The corpus is generated into a temporary directory: one CloudTrail
//! NDJSON file with an exchange per session and three calls each (one in
//! fifty from a second address), and a claim set for every other token,
//! across 40 roles in two accounts. The engine runs once; the table lists
//! each keystroke's median, 99th percentile and worst time.

use std::io::Write;
use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rolecall::tui::action::{Action, Tab};
use rolecall::tui::app::App;
use rolecall::tui::data::Data;
use rolecall::tui::view;
use serde_json::json;

const T0: i64 = 1_747_180_800;

fn ts(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn write_corpus(dir: &std::path::Path, sessions: usize) {
    let mut trail =
        std::io::BufWriter::new(std::fs::File::create(dir.join("trail.ndjson")).unwrap());
    let mut claims =
        std::io::BufWriter::new(std::fs::File::create(dir.join("claims.ndjson")).unwrap());
    let issuer = "token.actions.githubusercontent.com";
    for i in 0..sessions {
        let account = if i % 3 == 0 {
            "222222222222"
        } else {
            "111111111111"
        };
        let role_name = format!(
            "deploy-{}-{}",
            if i % 4 == 0 { "staging" } else { "prod" },
            i % 20
        );
        let role = format!("arn:aws:iam::{account}:role/{role_name}");
        let repo = format!("acme/service-{}", i % 500);
        let env = if i % 4 == 0 { "staging" } else { "production" };
        let sub = format!("repo:{repo}:environment:{env}");
        let key = format!("ASIA{i:016}");
        let at = T0 + (i as i64) * 25;
        let ip = format!("20.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        let provider = format!("arn:aws:iam::{account}:oidc-provider/{issuer}");
        let exchange = json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "WebIdentityUser", "principalId": format!("{provider}:sts.amazonaws.com:{sub}"), "userName": sub, "identityProvider": provider},
            "eventTime": ts(at), "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity",
            "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": "aws-sdk-nodejs/2.1 configure-aws-credentials-for-github-actions",
            "requestParameters": {"roleArn": role, "roleSessionName": format!("GitHubActions-{i}-1")},
            "responseElements": {
                "credentials": {"accessKeyId": key, "sessionToken": "", "expiration": ts(at + 3600)},
                "subjectFromWebIdentityToken": sub, "provider": provider, "audience": "sts.amazonaws.com",
                "assumedRoleUser": {"arn": format!("arn:aws:sts::{account}:assumed-role/{role_name}/GitHubActions")}
            },
            "eventID": format!("00000000-0000-4000-8000-{i:012}"), "readOnly": true, "eventType": "AwsApiCall", "recipientAccountId": account
        });
        writeln!(trail, "{exchange}").unwrap();
        for c in 0..3 {
            let from = if i % 50 == 0 && c == 2 {
                "198.51.100.7".to_string()
            } else {
                ip.clone()
            };
            let action = ["PutObject", "GetObject", "ListBucket"][c as usize];
            let call = json!({
                "eventVersion": "1.08",
                "userIdentity": {"type": "AssumedRole", "principalId": "AROAX:GitHubActions",
                    "arn": format!("arn:aws:sts::{account}:assumed-role/{role_name}/GitHubActions"),
                    "accountId": account, "accessKeyId": key,
                    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role}}},
                "eventTime": ts(at + 5 + c * 5), "eventSource": "s3.amazonaws.com", "eventName": action,
                "awsRegion": "us-east-1", "sourceIPAddress": from, "userAgent": "aws-cli/2.15",
                "requestParameters": null, "responseElements": null,
                "eventID": format!("00000000-0000-4000-9000-{:012}", i * 3 + c as usize), "readOnly": false, "eventType": "AwsApiCall", "recipientAccountId": account
            });
            writeln!(trail, "{call}").unwrap();
        }
        if i % 2 == 0 {
            let claim = json!({
                "iss": format!("https://{issuer}"), "sub": sub, "aud": "sts.amazonaws.com", "jti": format!("jti-{i}"),
                "iat": at - 2, "exp": at + 298, "repository": repo, "ref": "refs/heads/main", "ref_type": "branch",
                "environment": env, "event_name": "push",
                "job_workflow_ref": format!("{repo}/.github/workflows/deploy.yml@refs/heads/main"),
                "run_id": format!("{}", 9_000_000 + i), "run_attempt": "1", "actor": "octocat", "runner_environment": "github-hosted"
            });
            writeln!(claims, "{claim}").unwrap();
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Times `actions` keystrokes, each followed by a full draw.
fn measure(
    name: &str,
    app: &mut App,
    terminal: &mut Terminal<TestBackend>,
    actions: &mut dyn FnMut(usize) -> Vec<Action>,
    n: usize,
) {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        for a in actions(i) {
            app.update(a);
        }
        terminal.draw(|f| view::draw(f, app)).unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{name:<34} {n:>6} {:>10.3} {:>10.3} {:>10.3}",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
}

fn typed(text: &str, start: Action) -> Vec<Action> {
    let mut v = vec![start];
    v.extend(text.chars().map(Action::Input));
    v.push(Action::InputSubmit);
    v
}

fn main() {
    let sessions: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    write_corpus(dir.path(), sessions);
    eprintln!("corpus written in {:.1} s", t.elapsed().as_secs_f64());

    let cfg = rolecall::pipeline::Config {
        sources: vec![dir.path().to_string_lossy().to_string()],
        policy: Default::default(),
        ingest: Default::default(),
        rules: None,
        queries: rolecall::detect::sql::builtin_queries(),
        allow_partial: false,
        ..Default::default()
    };
    let t = Instant::now();
    let outcome = rolecall::pipeline::run(&cfg).unwrap();
    let engine = t.elapsed();
    let t = Instant::now();
    let data = Data::build(outcome.report, outcome.tables.get("sessions"));
    let build = t.elapsed();
    println!(
        "{} sessions, {} findings, {} events; engine {:.2} s, dashboard data {:.0} ms",
        data.sessions.len(),
        data.findings.len(),
        data.report.events.len(),
        engine.as_secs_f64(),
        build.as_secs_f64() * 1e3
    );
    assert!(
        data.sessions.len() >= sessions,
        "every exchange is a session"
    );

    let (w, h) = (200, 50);
    let mut app = App::with_data(data, w, h, true);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    app.update(Action::Show(Tab::Sessions));
    println!(
        "{:<34} {:>6} {:>10} {:>10} {:>10}",
        "keystroke (update + draw)", "runs", "median ms", "p99 ms", "max ms"
    );
    measure(
        "↓ move",
        &mut app,
        &mut terminal,
        &mut |_| vec![Action::Down],
        2000,
    );
    measure(
        "PgDn",
        &mut app,
        &mut terminal,
        &mut |_| vec![Action::PageDown],
        500,
    );
    measure(
        "End / Home",
        &mut app,
        &mut terminal,
        &mut |i| {
            vec![if i % 2 == 0 {
                Action::End
            } else {
                Action::Home
            }]
        },
        200,
    );
    measure(
        "/ search, Enter (every row)",
        &mut app,
        &mut terminal,
        &mut |i| typed(&format!("service-{}", i % 500), Action::StartSearch),
        50,
    );
    measure(
        "n next match",
        &mut app,
        &mut terminal,
        &mut |_| vec![Action::NextMatch],
        200,
    );
    // Each run sorts three times: by the next column, reversed, and back.
    measure(
        "s sort by the next column, S, S",
        &mut app,
        &mut terminal,
        &mut |_| vec![Action::CycleSort, Action::ReverseSort, Action::ReverseSort],
        33,
    );
    measure(
        "f filter role:staging",
        &mut app,
        &mut terminal,
        &mut |i| {
            let mut v = vec![Action::StartFilter];
            v.extend((0..40).map(|_| Action::InputBackspace));
            v.extend(
                typed(if i % 2 == 0 { "role:staging" } else { "" }, Action::Tick)
                    .into_iter()
                    .skip(1),
            );
            v
        },
        30,
    );
    measure(
        "Enter session detail, Esc",
        &mut app,
        &mut terminal,
        &mut |i| {
            vec![if i % 2 == 0 {
                Action::Enter
            } else {
                Action::Back
            }]
        },
        200,
    );
    app.update(Action::Show(Tab::Findings));
    measure(
        "findings: ↓ move",
        &mut app,
        &mut terminal,
        &mut |_| vec![Action::Down],
        1000,
    );
    app.update(Action::Show(Tab::Roles));
    measure(
        "roles: ↓ move",
        &mut app,
        &mut terminal,
        &mut |_| vec![Action::Down],
        200,
    );
    app.update(Action::Show(Tab::Timeline));
    measure(
        "timeline: → bucket",
        &mut app,
        &mut terminal,
        &mut |_| vec![Action::Right],
        200,
    );
    measure(
        "timeline: zoom out / in",
        &mut app,
        &mut terminal,
        &mut |i| {
            vec![if i % 2 == 0 {
                Action::ZoomOut
            } else {
                Action::ZoomIn
            }]
        },
        100,
    );
}
