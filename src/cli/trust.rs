//! `rolecall trust`: per federated role, what its trust policy admits,
//! which subjects used it, whether the policy would still admit them, and
//! the breadth nobody used; with `--suggest DIR`, a tightened policy per
//! role (`ROLE.json` for `aws iam update-assume-role-policy`, `ROLE.tf`
//! for Terraform).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};

use super::{finish_write, open_output, print_input_errors, Exit, InputArgs};
use crate::model::time::format_time;
use crate::text::file_name::write_in;
use crate::text::terminal;
use crate::trust::evaluate::Outcome;
use crate::trust::suggest::{file_stem, suggest, terraform};
use crate::trust::usage::{role_usage, RoleUsage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrustFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct TrustArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<TrustFormat>,

    /// Write the output to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write a tightened trust policy per role to DIR: ACCOUNT-ROLE.json
    /// (for aws iam update-assume-role-policy) and ACCOUNT-ROLE.tf (an
    /// aws_iam_role with the policy in jsonencode). Existing files of those
    /// names are replaced.
    #[arg(long, value_name = "DIR")]
    pub suggest: Option<PathBuf>,
}

/// Writes the table view.
pub fn write_table(out: &mut dyn Write, roles: &[RoleUsage]) -> std::io::Result<()> {
    if roles.is_empty() {
        writeln!(out, "no federated role trust policy in the input")?;
        return Ok(());
    }
    for (i, r) in roles.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let bare = if r.bare {
            "  (bare document, named after its file)"
        } else {
            ""
        };
        writeln!(out, "{}{bare}", terminal(&r.role))?;
        writeln!(out, "  policy    {}", terminal(&r.source))?;
        for a in &r.admits {
            writeln!(
                out,
                "  admits    {} via {} [{}]",
                a.issuer,
                terminal(&a.principal),
                a.statement
            )?;
            for s in &a.subjects {
                writeln!(out, "            sub       {}", terminal(s))?;
            }
            if a.subjects.is_empty() {
                writeln!(out, "            sub       (no condition)")?;
            }
            let aud = if a.audiences.is_empty() {
                "(no condition)".to_string()
            } else {
                a.audiences.join(", ")
            };
            writeln!(out, "            aud       {}", terminal(&aud))?;
            for c in &a.other_conditions {
                writeln!(out, "            also      {}", terminal(c))?;
            }
            if !a.breadth.is_empty() {
                writeln!(out, "            reaches   {}", a.breadth.join("; "))?;
            }
        }
        let exchanges: usize = r.observed.iter().map(|o| o.exchanges).sum();
        writeln!(
            out,
            "  observed  {exchanges} exchange{} from {} subject{}",
            if exchanges == 1 { "" } else { "s" },
            r.observed.len(),
            if r.observed.len() == 1 { "" } else { "s" }
        )?;
        for o in &r.observed {
            let mark = match o.verdict.outcome {
                Outcome::Allowed => "admitted",
                Outcome::Denied => "refused ",
                Outcome::Unknown => "unknown ",
            };
            let counts = match (o.succeeded, o.failed) {
                (s, 0) => format!("{s} ok"),
                (0, f) => format!("{f} failed"),
                (s, f) => format!("{s} ok, {f} failed"),
            };
            let when = o.last.map(format_time).unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "            {mark}  {}  ({counts}, last {when}, judged on {})",
                terminal(&o.subject),
                o.evidence
            )?;
            if o.verdict.outcome != Outcome::Allowed {
                writeln!(out, "                      {}", terminal(&o.verdict.reason))?;
            }
        }
        if r.unused.is_empty() {
            writeln!(out, "  unused    nothing")?;
        }
        for (j, u) in r.unused.iter().enumerate() {
            let label = if j == 0 { "unused  " } else { "        " };
            writeln!(out, "  {label}  {}", terminal(u))?;
        }
    }
    Ok(())
}

/// The usage of every federated role in a finished run.
pub fn usages(
    outcome: &crate::pipeline::Outcome,
) -> Vec<(RoleUsage, crate::model::policy_doc::PolicyDocument)> {
    let report = &outcome.report;
    let file = |i: u32| report.file_name(i).to_string();
    outcome
        .trust
        .by_role()
        .into_iter()
        .filter(|h| crate::trust::analyze::is_federated(&h.current().document))
        .map(|h| {
            (
                role_usage(
                    &h,
                    &report.assumptions,
                    &report.matches,
                    &report.claims,
                    &file,
                ),
                h.current().document.clone(),
            )
        })
        .collect()
}

pub fn run(args: &TrustArgs) -> Result<Exit> {
    let cfg = args.input.config(&[])?;
    let outcome = crate::pipeline::run(&cfg)?;
    print_input_errors(&outcome.report.summary);
    let roles = usages(&outcome);
    let (mut out, tty) = open_output(args.output.as_ref())?;
    let format = args.format.unwrap_or(if tty {
        TrustFormat::Table
    } else {
        TrustFormat::Json
    });
    let views: Vec<RoleUsage> = roles.iter().map(|(u, _)| u.clone()).collect();
    let written = match format {
        TrustFormat::Table => write_table(&mut out, &views),
        TrustFormat::Json => serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"version": 1, "roles": views}),
        )
        .map_err(std::io::Error::other)
        .and_then(|()| writeln!(out)),
    };
    finish_write(written, &mut out)?;
    if let Some(dir) = &args.suggest {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut stems = std::collections::HashSet::new();
        for (usage, doc) in &roles {
            let Some(s) = suggest(usage, doc) else {
                eprintln!(
                    "rolecall: {}: no successful exchange in the input, nothing to tighten to",
                    terminal(&usage.role)
                );
                continue;
            };
            // Names come from the input: one safe component each, and two
            // roles that end up with the same one get a number.
            let mut stem = file_stem(&usage.role, usage.account.as_deref());
            let base = stem.clone();
            let mut n = 1;
            while !stems.insert(stem.clone()) {
                n += 1;
                stem = format!("{base}-{n}");
            }
            let text = serde_json::to_string_pretty(&s.policy)? + "\n";
            let json_path = write_in(dir, &format!("{stem}.json"), text.as_bytes())
                .with_context(|| format!("cannot write {stem}.json in {}", dir.display()))?;
            let subjects: usize = usage.observed.iter().filter(|o| o.succeeded > 0).count();
            let mut header = format!(
                "{}: tightened by rolecall to the {subjects} subject(s) that exchanged tokens in the input.\nReview before applying: anything not observed will be refused.",
                usage.role
            );
            for n in &s.notes {
                header.push_str(&format!("\nNote: {n}"));
            }
            let tf_path = write_in(
                dir,
                &format!("{stem}.tf"),
                terraform(&s, &header).as_bytes(),
            )
            .with_context(|| format!("cannot write {stem}.tf in {}", dir.display()))?;
            eprintln!(
                "rolecall: {}: wrote {} and {}",
                terminal(&usage.role),
                json_path.display(),
                tf_path.display()
            );
            for n in &s.notes {
                eprintln!("rolecall:   note: {}", terminal(n));
            }
        }
    }
    Ok(Exit::Clean)
}
