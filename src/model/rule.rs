//! What a rule is, for everyone who lists, judges or reports rules: the one
//! descriptor every detection has, SQL or Rust.
//!
//! A SQL detection declares it in its header (`queries/*.sql`, `--queries
//! DIR`): `-- id:`, `-- title:`, `-- severity:`, `-- description:`,
//! `-- identity:`, `-- needs:`, `-- sources:`, `-- references:`. A Rust
//! detection declares it as a `const RULE: Rule` in its file. `rolecall
//! rules` prints these, the summary's "not checked" lines name them, and
//! fingerprints are built from [`Rule::identity`]. The registry that holds
//! them all is `detect::registry`.

use std::borrow::Cow;

use serde::Serialize;

use super::Severity;

/// The sources whose sessions a rule can judge, in the order `rolecall
/// rules` lists them.
pub const SOURCES: [&str; 4] = ["aws", "gcp", "azure", "vault"];

/// Text a rule declares: borrowed for a rule compiled in, owned for one
/// read from a file.
pub type Text = Cow<'static, str>;

/// A list a rule declares.
pub type List = Cow<'static, [Text]>;

/// One source's coverage by a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub source: &'static str,
    pub applies: bool,
    /// Why not, or what it takes.
    pub note: Text,
}

impl Coverage {
    /// The coverage of every source alike.
    pub const fn all(note: &'static str) -> [Coverage; 4] {
        Coverage::each([(true, note), (true, note), (true, note), (true, note)])
    }

    /// Each source's coverage, in [`SOURCES`] order.
    pub const fn each(notes: [(bool, &'static str); 4]) -> [Coverage; 4] {
        let [a, g, z, v] = notes;
        [
            Coverage {
                source: SOURCES[0],
                applies: a.0,
                note: Cow::Borrowed(a.1),
            },
            Coverage {
                source: SOURCES[1],
                applies: g.0,
                note: Cow::Borrowed(g.1),
            },
            Coverage {
                source: SOURCES[2],
                applies: z.0,
                note: Cow::Borrowed(z.1),
            },
            Coverage {
                source: SOURCES[3],
                applies: v.0,
                note: Cow::Borrowed(v.1),
            },
        ]
    }
}

/// One detection, as `rolecall rules` lists it. The serialized fields
/// are `rolecall rules --format json`'s, a public contract.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: Text,
    pub severity: Severity,
    pub title: Text,
    pub description: Text,
    pub references: List,
    /// Where the detection lives: `queries/ID.sql`, a Rust file, or a user
    /// query's path.
    pub source: Text,
    /// What the rule needs beyond the audit log to judge at all.
    pub needs: Text,
    /// Whether the rule can judge each source's sessions, and why not.
    pub sources: [Coverage; 4],
    /// The finding fields that identify one finding across runs, for its
    /// fingerprint.
    #[serde(skip)]
    pub identity: List,
    /// What the rule judges from: a run's sessions, earlier runs (only
    /// `rolecall report --state` runs it), or trust configuration.
    #[serde(skip)]
    pub kind: RuleKind,
}

/// What a rule judges from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// The sessions and events of one run.
    Run,
    /// This run against earlier ones (`rolecall report --state`).
    History,
    /// Trust policies and identity providers given as input.
    Trust,
}

impl Rule {
    /// The identity as borrowed names.
    pub fn identity(&self) -> impl Iterator<Item = &str> {
        self.identity.iter().map(|s| s.as_ref())
    }
}

/// `&["a", "b"]` as a [`List`], in a `const`.
#[macro_export]
macro_rules! rule_list {
    ($($s:expr),* $(,)?) => {
        ::std::borrow::Cow::Borrowed(&[$(::std::borrow::Cow::Borrowed($s)),*])
    };
}
