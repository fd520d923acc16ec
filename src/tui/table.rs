//! The four tables (findings, sessions, roles, keys) behind one model: a filter,
//! a sort column, and an `order` of row indices that views page through.
//! Only the visible slice of `order` is ever drawn, so 100,000 rows cost a
//! sort on filter or sort changes, not on every keystroke.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::data::{cmp_time, short_time, Data, FindingRow, KeyViewRow, RoleRow, SessionRow};
use crate::model::time::{parse_date, parse_timestamp, Micros};
use crate::model::Severity;

/// A table column: header and width bounds.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub min: u16,
    pub max: u16,
}

const fn col(name: &'static str, min: u16, max: u16) -> Column {
    Column { name, min, max }
}

/// What `f` narrows a table to. Parsed from `sev:high+ rule:drift
/// role:prod account:1111 has:findings time:START..END free text`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub text: Vec<String>,
    /// A severity, and whether more severe ones count too (`high+`).
    pub severity: Option<(Severity, bool)>,
    pub rule: Option<String>,
    pub role: Option<String>,
    pub account: Option<String>,
    pub window: Option<(Micros, Micros)>,
    pub has_findings: bool,
    /// As typed, for the header.
    pub raw: String,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.raw.trim().is_empty()
    }

    pub fn parse(s: &str) -> Result<Filter, String> {
        let mut f = Filter {
            raw: s.trim().to_string(),
            ..Default::default()
        };
        for token in s.split_whitespace() {
            match token.split_once(':') {
                Some(("sev" | "severity", v)) => {
                    let (name, at_least) = match v.strip_suffix('+') {
                        Some(n) => (n, true),
                        None => (v, false),
                    };
                    f.severity = Some((name.parse()?, at_least));
                }
                Some(("rule", v)) => f.rule = Some(v.to_lowercase()),
                Some(("role", v)) => f.role = Some(v.to_lowercase()),
                Some(("account", v)) => f.account = Some(v.to_lowercase()),
                Some(("has", "findings")) => f.has_findings = true,
                Some(("time", v)) => {
                    let (a, b) = v.split_once("..").ok_or("time:START..END")?;
                    let t = |x: &str| {
                        parse_timestamp(x)
                            .or_else(|| parse_date(x))
                            .ok_or(format!("`{x}` is not a time"))
                    };
                    f.window = Some((t(a)?, t(b)?));
                }
                Some((k, _)) if ["sev", "rule", "role", "account", "has", "time"].contains(&k) => {
                    return Err(format!("cannot read `{token}`"))
                }
                _ => f.text.push(token.to_lowercase()),
            }
        }
        Ok(f)
    }
}

/// A table's rows, as the views and the model see them.
pub trait Source: Sync {
    fn columns(&self) -> &'static [Column];
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn cell(&self, row: usize, col: usize) -> String;
    /// The cell as sorting compares it: borrowed where the row holds the
    /// text, so a sort of 100,000 rows does not allocate per comparison.
    fn text(&self, row: usize, col: usize) -> Cow<'_, str> {
        Cow::Owned(self.cell(row, col))
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering;
    fn matches(&self, row: usize, f: &Filter) -> bool;
    fn haystack(&self, row: usize) -> &str;
    /// The severity that colours the row, if any.
    fn severity(&self, row: usize) -> Option<Severity>;
}

fn text_match(hay: &str, f: &Filter) -> bool {
    f.text.iter().all(|t| hay.contains(t.as_str()))
}

fn sev_match(s: Option<Severity>, f: &Filter) -> bool {
    match (f.severity, s) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((want, true)), Some(s)) => s >= want,
        (Some((want, false)), Some(s)) => s == want,
    }
}

fn in_window(t: Option<Micros>, f: &Filter) -> bool {
    match (f.window, t) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((a, b)), Some(t)) => t >= a && t < b,
    }
}

fn contains(field: &str, want: &Option<String>) -> bool {
    want.as_ref()
        .is_none_or(|w| field.to_lowercase().contains(w.as_str()))
}

pub struct Findings<'a>(pub &'a [FindingRow]);
pub struct Sessions<'a>(pub &'a [SessionRow]);
pub struct Roles<'a>(pub &'a [RoleRow]);
pub struct Keys<'a>(pub &'a [KeyViewRow]);

pub const FINDING_COLUMNS: &[Column] = &[
    col("SEVERITY", 9, 9),
    col("TIME", 19, 19),
    col("RULE", 24, 24),
    col("ROLE", 12, 40),
    col("REPOSITORY", 11, 32),
    col("REF", 8, 30),
    col("ENV", 10, 14),
    col("SOURCE IP", 15, 39),
];

impl Source for Findings<'_> {
    fn columns(&self) -> &'static [Column] {
        FINDING_COLUMNS
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn cell(&self, row: usize, col: usize) -> String {
        let r = &self.0[row];
        match col {
            0 => r.severity.as_str().to_string(),
            1 => short_time(r.time),
            2 => r.rule.clone(),
            3 => r.role.clone(),
            4 => r.repository.clone(),
            5 => r.git_ref.clone(),
            6 => r.environment.clone(),
            _ => r.source_ip.clone(),
        }
    }
    fn text(&self, row: usize, col: usize) -> Cow<'_, str> {
        let r = &self.0[row];
        Cow::Borrowed(match col {
            2 => &r.rule,
            3 => &r.role,
            4 => &r.repository,
            5 => &r.git_ref,
            6 => &r.environment,
            7 => &r.source_ip,
            _ => return Cow::Owned(self.cell(row, col)),
        })
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (x, y) = (&self.0[a], &self.0[b]);
        match col {
            // Most severe first, then by time: the natural reading order.
            0 => y.severity.cmp(&x.severity).then(cmp_time(x.time, y.time)),
            1 => cmp_time(x.time, y.time),
            _ => self
                .text(a, col)
                .cmp(&self.text(b, col))
                .then(cmp_time(x.time, y.time)),
        }
    }
    fn matches(&self, row: usize, f: &Filter) -> bool {
        let r = &self.0[row];
        sev_match(Some(r.severity), f)
            && contains(&r.rule, &f.rule)
            && contains(&r.role, &f.role)
            && contains(&r.account, &f.account)
            && in_window(r.time, f)
            && text_match(&r.haystack, f)
    }
    fn haystack(&self, row: usize) -> &str {
        &self.0[row].haystack
    }
    fn severity(&self, row: usize) -> Option<Severity> {
        Some(self.0[row].severity)
    }
}

// The columns an investigator reads first come first: when the terminal is
// narrow, trailing columns are the ones dropped.
pub const SESSION_COLUMNS: &[Column] = &[
    col("TIME", 19, 19),
    col("ROLE", 16, 48),
    col("SUBJECT", 16, 60),
    col("MATCH", 7, 9),
    col("RUN", 6, 12),
    col("CALLS", 6, 6),
    col("IPS", 4, 4),
    col("FINDINGS", 9, 9),
    col("ISSUER", 10, 40),
    col("FIRST USE", 19, 19),
    col("LAST USE", 19, 19),
];

/// The sessions column coloured by the session's worst finding.
pub const SESSION_FINDINGS_COLUMN: usize = 7;

impl Source for Sessions<'_> {
    fn columns(&self) -> &'static [Column] {
        SESSION_COLUMNS
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn cell(&self, row: usize, col: usize) -> String {
        let r = &self.0[row];
        match col {
            0 => short_time(r.time),
            1 => r.role.clone(),
            2 => r.subject.clone(),
            3 => r.matched.as_str().to_string(),
            4 => r.run_id.clone(),
            5 => r.calls.to_string(),
            6 => r.distinct_ips.to_string(),
            7 => r.findings.to_string(),
            8 => r.issuer.trim_start_matches("https://").to_string(),
            9 => short_time(r.first_use),
            _ => short_time(r.last_use),
        }
    }
    fn text(&self, row: usize, col: usize) -> Cow<'_, str> {
        let r = &self.0[row];
        Cow::Borrowed(match col {
            1 => &r.role,
            2 => &r.subject,
            3 => r.matched.as_str(),
            4 => &r.run_id,
            8 => r.issuer.trim_start_matches("https://"),
            _ => return Cow::Owned(self.cell(row, col)),
        })
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (x, y) = (&self.0[a], &self.0[b]);
        match col {
            0 => cmp_time(x.time, y.time),
            5 => y.calls.cmp(&x.calls),
            6 => y.distinct_ips.cmp(&x.distinct_ips),
            7 => y.worst.cmp(&x.worst).then(y.findings.cmp(&x.findings)),
            9 => cmp_time(x.first_use, y.first_use),
            10 => cmp_time(x.last_use, y.last_use),
            _ => self.text(a, col).cmp(&self.text(b, col)),
        }
        .then(cmp_time(x.time, y.time))
    }
    fn matches(&self, row: usize, f: &Filter) -> bool {
        let r = &self.0[row];
        (!f.has_findings || r.findings > 0)
            && (f.severity.is_none() || sev_match(r.worst, f))
            && contains(&r.role, &f.role)
            && contains(&r.account, &f.account)
            && in_window(r.time, f)
            && text_match(&r.haystack, f)
    }
    fn haystack(&self, row: usize) -> &str {
        &self.0[row].haystack
    }
    fn severity(&self, row: usize) -> Option<Severity> {
        self.0[row].worst
    }
}

pub const ROLE_COLUMNS: &[Column] = &[
    col("ROLE", 16, 60),
    col("TIER", 11, 11),
    col("EXCHANGES", 10, 10),
    col("FAILED", 7, 7),
    col("FINDINGS", 9, 9),
    col("REPOSITORIES", 12, 40),
    col("REFS", 8, 40),
    col("ENVIRONMENTS", 12, 30),
    col("WORKFLOWS", 9, 60),
];

impl Source for Roles<'_> {
    fn columns(&self) -> &'static [Column] {
        ROLE_COLUMNS
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn cell(&self, row: usize, col: usize) -> String {
        let r = &self.0[row];
        match col {
            0 => r.role.clone(),
            1 => r.tier.clone(),
            2 => r.exchanges.to_string(),
            3 => r.failures.to_string(),
            4 => r.findings.to_string(),
            5 => r.repositories.join(", "),
            6 => r.refs.join(", "),
            7 => r.environments.join(", "),
            _ => r.workflows.join(", "),
        }
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (x, y) = (&self.0[a], &self.0[b]);
        match col {
            2 => y.exchanges.cmp(&x.exchanges),
            3 => y.failures.cmp(&x.failures),
            4 => y.findings.cmp(&x.findings),
            _ => self.cell(a, col).cmp(&self.cell(b, col)),
        }
        .then(x.role.cmp(&y.role))
    }
    fn matches(&self, row: usize, f: &Filter) -> bool {
        let r = &self.0[row];
        (!f.has_findings || r.findings > 0)
            && contains(&r.role, &f.role)
            && contains(&r.account, &f.account)
            && text_match(&r.haystack, f)
    }
    fn haystack(&self, row: usize) -> &str {
        &self.0[row].haystack
    }
    fn severity(&self, _: usize) -> Option<Severity> {
        None
    }
}

pub const KEY_COLUMNS: &[Column] = &[
    col("VERDICT", 16, 32),
    col("USER", 10, 32),
    col("KEY", 20, 32),
    col("ACCOUNT", 12, 12),
    col("STATUS", 8, 8),
    col("LAST USED", 19, 19),
    col("CALLS", 6, 8),
    col("IPS", 4, 4),
    col("CI LINKS", 8, 40),
    col("IDLE DAYS", 9, 9),
    col("AGE DAYS", 8, 8),
];

fn days(d: Option<i64>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

impl Source for Keys<'_> {
    fn columns(&self) -> &'static [Column] {
        KEY_COLUMNS
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn cell(&self, row: usize, col: usize) -> String {
        let r = &self.0[row];
        match col {
            0 => r.verdict.as_str().to_string(),
            1 => r.user.clone(),
            2 => r.key.clone(),
            3 => r.account.clone(),
            4 => r.active.clone(),
            5 => short_time(r.last_used),
            6 => r.calls.to_string(),
            7 => r.addresses.to_string(),
            8 => r.links.clone(),
            9 => days(r.idle_days),
            _ => days(r.age_days),
        }
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (x, y) = (&self.0[a], &self.0[b]);
        match col {
            // What blocks a migration first, then the latest use.
            0 => x
                .verdict
                .cmp(&y.verdict)
                .then(cmp_time(y.last_used, x.last_used)),
            5 => cmp_time(x.last_used, y.last_used),
            6 => y.calls.cmp(&x.calls),
            7 => y.addresses.cmp(&x.addresses),
            9 => y.idle_days.cmp(&x.idle_days),
            10 => y.age_days.cmp(&x.age_days),
            _ => self.cell(a, col).cmp(&self.cell(b, col)),
        }
        .then(x.key.cmp(&y.key))
    }
    fn matches(&self, row: usize, f: &Filter) -> bool {
        let r = &self.0[row];
        (!f.has_findings || r.worst.is_some())
            && (f.severity.is_none() || sev_match(r.worst, f))
            && contains(&r.account, &f.account)
            && in_window(r.last_used, f)
            && text_match(&r.haystack, f)
    }
    fn haystack(&self, row: usize) -> &str {
        &self.0[row].haystack
    }
    fn severity(&self, row: usize) -> Option<Severity> {
        self.0[row].worst
    }
}

/// Which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Findings,
    Sessions,
    Roles,
    Keys,
}

impl TableKind {
    pub const ALL: [TableKind; 4] = [
        TableKind::Findings,
        TableKind::Sessions,
        TableKind::Roles,
        TableKind::Keys,
    ];
}

/// The rows of one table in `data`.
pub fn source(data: &Data, kind: TableKind) -> Box<dyn Source + '_> {
    match kind {
        TableKind::Findings => Box::new(Findings(&data.findings)),
        TableKind::Sessions => Box::new(Sessions(&data.sessions)),
        TableKind::Roles => Box::new(Roles(&data.roles)),
        TableKind::Keys => Box::new(Keys(&data.keys)),
    }
}

/// Each column's sort order as a rank per row (`ranks[col][row]`), computed
/// once when the data arrives (one sort per column, columns in parallel), so
/// that a sort keystroke on 100,000 rows orders integers instead of calling
/// `compare` 1.7 million times. Rows that compare equal share a rank.
pub fn ranks(src: &dyn Source) -> Vec<Vec<u32>> {
    use rayon::prelude::*;
    (0..src.columns().len())
        .into_par_iter()
        .map(|col| {
            let mut rows: Vec<usize> = (0..src.len()).collect();
            rows.sort_by(|&a, &b| src.compare(a, b, col));
            let mut rank = vec![0u32; src.len()];
            let mut current = 0u32;
            for (i, &r) in rows.iter().enumerate() {
                if i > 0 && src.compare(rows[i - 1], r, col) != Ordering::Equal {
                    current = i as u32;
                }
                rank[r] = current;
            }
            rank
        })
        .collect()
}

/// A table's position: what is shown, in which order, and where the
/// cursor is.
#[derive(Debug, Clone, Default)]
pub struct TableView {
    pub order: Vec<usize>,
    pub selected: usize,
    pub offset: usize,
    pub sort: usize,
    pub descending: bool,
    pub filter: Filter,
}

impl TableView {
    /// Recomputes `order` after a filter or sort change, keeping the cursor
    /// on the same row when it is still shown.
    /// `ranks` are the table's [`ranks`]; without them (or for a column
    /// they lack) rows are compared directly.
    pub fn refresh(&mut self, src: &dyn Source, ranks: &[Vec<u32>]) {
        let keep = self.selected_row();
        let mut order: Vec<usize> = (0..src.len())
            .filter(|&r| src.matches(r, &self.filter))
            .collect();
        let (col, desc) = (self.sort, self.descending);
        match ranks.get(col).filter(|r| r.len() == src.len()) {
            // Ties keep row order both ways, as a stable sort would.
            Some(rank) if desc => order.sort_unstable_by_key(|&r| (std::cmp::Reverse(rank[r]), r)),
            Some(rank) => order.sort_unstable_by_key(|&r| (rank[r], r)),
            None => order.sort_by(|&a, &b| {
                let o = src.compare(a, b, col);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            }),
        }
        self.order = order;
        self.selected = keep
            .and_then(|k| self.order.iter().position(|&r| r == k))
            .unwrap_or(0);
        self.offset = self.offset.min(self.selected);
    }

    pub fn selected_row(&self) -> Option<usize> {
        self.order.get(self.selected).copied()
    }

    /// Moves the cursor, clamped to the rows.
    pub fn move_to(&mut self, position: isize) {
        let last = self.order.len().saturating_sub(1) as isize;
        self.selected = position.clamp(0, last.max(0)) as usize;
    }

    pub fn move_by(&mut self, delta: isize) {
        self.move_to(self.selected as isize + delta);
    }

    /// Keeps the cursor inside a window of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }

    /// Positions (in `order`) of rows whose text contains `needle`.
    pub fn search(&self, src: &dyn Source, needle: &str) -> Vec<usize> {
        let needle = needle.to_lowercase();
        self.order
            .iter()
            .enumerate()
            .filter(|(_, &r)| src.haystack(r).contains(&needle))
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = Filter::parse("sev:high+ rule:drift role:Prod account:1111 has:findings ASIA key")
            .unwrap();
        assert_eq!(f.severity, Some((Severity::High, true)));
        assert_eq!(f.rule.as_deref(), Some("drift"));
        assert_eq!(f.role.as_deref(), Some("prod"));
        assert!(f.has_findings);
        assert_eq!(f.text, vec!["asia", "key"]);
        let f = Filter::parse("time:2025-05-14T10:00:00Z..2025-05-14T11:00:00Z").unwrap();
        assert!(f.window.is_some());
        assert!(Filter::parse("sev:urgent").is_err());
        assert!(Filter::parse("time:yesterday").is_err());
        assert!(Filter::parse("").unwrap().is_empty());
    }

    #[test]
    fn views_scroll_and_clamp() {
        let mut v = TableView {
            order: (0..100).collect(),
            ..Default::default()
        };
        v.move_by(50);
        v.scroll_into_view(10);
        assert_eq!((v.selected, v.offset), (50, 41));
        v.move_by(-1000);
        v.scroll_into_view(10);
        assert_eq!((v.selected, v.offset), (0, 0));
        v.move_to(1000);
        assert_eq!(v.selected, 99);
        let empty = TableView::default();
        assert_eq!(empty.selected_row(), None);
    }
}
