//! The event store: every cloud audit event, flattened into compact columns.
//!
//! Rows keep what the joins and detections need, not the record: repeated
//! strings are interned ([`Sym`]), event ids sit back to back in one buffer,
//! booleans share a flag byte. At 10 million events this is about 120 bytes a
//! row. The raw record stays in its file; `file` and `record` point back to it.

use super::interner::{Interner, StrColumn, Sym};
use super::time::Micros;

/// `time` value of an event that carried no usable `eventTime`.
pub const NO_TIME: Micros = i64::MIN;

pub const FLAG_READ_ONLY_KNOWN: u8 = 1;
pub const FLAG_READ_ONLY: u8 = 2;
/// The call was made by an AWS service on the principal's behalf
/// (`invokedBy`, or a service name / `AWS Internal` as source address).
pub const FLAG_VIA_SERVICE: u8 = 4;

/// One event as the parser sees it, borrowing from the record.
#[derive(Debug, Default, Clone)]
pub struct EventRow<'a> {
    pub time: Option<Micros>,
    pub cloud: &'a str,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub service: Option<&'a str>,
    pub action: Option<&'a str>,
    pub principal_type: Option<&'a str>,
    pub principal_arn: Option<&'a str>,
    /// The role behind an assumed-role session (`sessionIssuer.arn`).
    pub role_arn: Option<&'a str>,
    pub access_key: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub error_code: Option<&'a str>,
    /// `webIdFederationData.federatedProvider` of the calling session.
    pub federated_provider: Option<&'a str>,
    /// The access key id this event issued (STS calls that return keys).
    pub issued_key: Option<&'a str>,
    /// What the call acted on, where the source says so plainly (GCP
    /// resourceName, Azure resourceId, Vault path).
    pub resource: Option<&'a str>,
    pub event_id: Option<&'a str>,
    pub read_only: Option<bool>,
    pub via_service: bool,
    pub file: u32,
    pub record: u32,
    /// 1-based line for line-delimited files, 0 otherwise.
    pub line: u32,
}

/// Columnar storage for events. All `Sym` columns share `strings`.
#[derive(Debug, Default, Clone)]
pub struct EventStore {
    pub strings: Interner,
    pub time: Vec<Micros>,
    pub cloud: Vec<Sym>,
    pub account: Vec<Sym>,
    pub region: Vec<Sym>,
    pub service: Vec<Sym>,
    pub action: Vec<Sym>,
    pub principal_type: Vec<Sym>,
    pub principal_arn: Vec<Sym>,
    pub role_arn: Vec<Sym>,
    pub access_key: Vec<Sym>,
    pub source_ip: Vec<Sym>,
    pub user_agent: Vec<Sym>,
    pub error_code: Vec<Sym>,
    pub federated_provider: Vec<Sym>,
    pub issued_key: Vec<Sym>,
    pub resource: Vec<Sym>,
    pub event_id: StrColumn,
    pub flags: Vec<u8>,
    pub file: Vec<u32>,
    pub record: Vec<u32>,
    pub line: Vec<u32>,
}

macro_rules! sym_columns {
    ($m:ident) => {
        $m!(
            cloud,
            account,
            region,
            service,
            action,
            principal_type,
            principal_arn,
            role_arn,
            access_key,
            source_ip,
            user_agent,
            error_code,
            federated_provider,
            issued_key,
            resource
        )
    };
}

impl EventStore {
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Appends one event and returns its index.
    pub fn push(&mut self, row: &EventRow<'_>) -> usize {
        let s = &mut self.strings;
        self.time.push(row.time.unwrap_or(NO_TIME));
        self.cloud.push(s.intern(row.cloud));
        self.account.push(s.intern_opt(row.account));
        self.region.push(s.intern_opt(row.region));
        self.service.push(s.intern_opt(row.service));
        self.action.push(s.intern_opt(row.action));
        self.principal_type.push(s.intern_opt(row.principal_type));
        self.principal_arn.push(s.intern_opt(row.principal_arn));
        self.role_arn.push(s.intern_opt(row.role_arn));
        self.access_key.push(s.intern_opt(row.access_key));
        self.source_ip.push(s.intern_opt(row.source_ip));
        self.user_agent.push(s.intern_opt(row.user_agent));
        self.error_code.push(s.intern_opt(row.error_code));
        self.federated_provider
            .push(s.intern_opt(row.federated_provider));
        self.issued_key.push(s.intern_opt(row.issued_key));
        self.resource.push(s.intern_opt(row.resource));
        self.event_id.push(row.event_id.unwrap_or(""));
        let mut flags = 0;
        if let Some(ro) = row.read_only {
            flags |= FLAG_READ_ONLY_KNOWN;
            if ro {
                flags |= FLAG_READ_ONLY;
            }
        }
        if row.via_service {
            flags |= FLAG_VIA_SERVICE;
        }
        self.flags.push(flags);
        self.file.push(row.file);
        self.record.push(row.record);
        self.line.push(row.line);
        self.time.len() - 1
    }

    /// Moves `other`'s rows to the end of `self`, remapping its strings.
    pub fn append(&mut self, other: EventStore) {
        let map = self.strings.absorb(&other.strings);
        let remap = |v: &Vec<Sym>| v.iter().map(|s| map[s.0 as usize]).collect::<Vec<_>>();
        macro_rules! extend {
            ($($c:ident),*) => { $( let mapped = remap(&other.$c); self.$c.extend(mapped); )* };
        }
        sym_columns!(extend);
        self.time.extend(other.time);
        self.event_id.append(&other.event_id);
        self.flags.extend(other.flags);
        self.file.extend(other.file);
        self.record.extend(other.record);
        self.line.extend(other.line);
    }

    /// Row `i`, borrowing its strings from the store.
    pub fn row(&self, i: usize) -> EventRow<'_> {
        let s = |col: &Vec<Sym>| self.str(col[i]);
        EventRow {
            time: self.time_of(i),
            cloud: self.strings.get(self.cloud[i]),
            account: s(&self.account),
            region: s(&self.region),
            service: s(&self.service),
            action: s(&self.action),
            principal_type: s(&self.principal_type),
            principal_arn: s(&self.principal_arn),
            role_arn: s(&self.role_arn),
            access_key: s(&self.access_key),
            source_ip: s(&self.source_ip),
            user_agent: s(&self.user_agent),
            error_code: s(&self.error_code),
            federated_provider: s(&self.federated_provider),
            issued_key: s(&self.issued_key),
            resource: s(&self.resource),
            event_id: self.event_id_of(i),
            read_only: self.read_only_of(i),
            via_service: self.via_service(i),
            file: self.file[i],
            record: self.record[i],
            line: self.line[i],
        }
    }

    /// A new store with only the rows `keep` marks, in order, and strings
    /// that only dropped rows used gone too. Returns it with each old
    /// index's new one (`usize::MAX` for dropped rows).
    pub fn retain(&self, keep: &[bool]) -> (EventStore, Vec<usize>) {
        let mut out = EventStore::default();
        let mut map = vec![usize::MAX; self.len()];
        // Each string kept is interned once, then found by its old id; ids
        // are given in the order `push` would give them (row by row, column
        // by column).
        let mut renamed = vec![Sym::NONE; self.strings.len() + 1];
        let strings = &self.strings;
        let mut rename = |into: &mut Interner, old: Sym| {
            if old.is_none() {
                return Sym::NONE;
            }
            let new = &mut renamed[old.0 as usize];
            if new.is_none() {
                *new = into.intern(strings.get(old));
            }
            *new
        };
        for (i, slot) in map.iter_mut().enumerate() {
            if !keep[i] {
                continue;
            }
            *slot = out.len();
            out.time.push(self.time[i]);
            macro_rules! copy {
                ($($c:ident),*) => { $( let sym = rename(&mut out.strings, self.$c[i]); out.$c.push(sym); )* };
            }
            sym_columns!(copy);
            out.event_id.push(self.event_id.get(i));
            out.flags.push(self.flags[i]);
            out.file.push(self.file[i]);
            out.record.push(self.record[i]);
            out.line.push(self.line[i]);
        }
        (out, map)
    }

    /// Row `i`'s place in time order: by time, then where it was read
    /// (file, line, record), so that rows of one instant keep their order.
    pub fn time_order(&self, i: usize) -> (Micros, u32, u32, u32) {
        (self.time[i], self.file[i], self.line[i], self.record[i])
    }

    pub fn str(&self, sym: Sym) -> Option<&str> {
        self.strings.opt(sym)
    }

    pub fn time_of(&self, i: usize) -> Option<Micros> {
        let t = self.time[i];
        (t != NO_TIME).then_some(t)
    }

    pub fn event_id_of(&self, i: usize) -> Option<&str> {
        let id = self.event_id.get(i);
        (!id.is_empty()).then_some(id)
    }

    pub fn read_only_of(&self, i: usize) -> Option<bool> {
        let f = self.flags[i];
        (f & FLAG_READ_ONLY_KNOWN != 0).then_some(f & FLAG_READ_ONLY != 0)
    }

    pub fn via_service(&self, i: usize) -> bool {
        self.flags[i] & FLAG_VIA_SERVICE != 0
    }

    /// Approximate heap bytes, for the memory figures in the summary.
    /// Gives back the room kept for growth, for a store that is held
    /// rather than added to.
    pub fn shrink_to_fit(&mut self) {
        self.strings.shrink_to_fit();
        self.event_id.shrink_to_fit();
        self.time.shrink_to_fit();
        self.flags.shrink_to_fit();
        self.file.shrink_to_fit();
        self.record.shrink_to_fit();
        self.line.shrink_to_fit();
        macro_rules! shrink {
            ($($c:ident),*) => { $( self.$c.shrink_to_fit(); )* };
        }
        sym_columns!(shrink);
    }

    pub fn heap_bytes(&self) -> usize {
        let mut n = self.strings.heap_bytes() + self.event_id.heap_bytes();
        n += self.time.capacity() * 8 + self.flags.capacity();
        n += (self.file.capacity() + self.record.capacity() + self.line.capacity()) * 4;
        macro_rules! cap {
            ($($c:ident),*) => { $( n += self.$c.capacity() * 4; )* };
        }
        sym_columns!(cap);
        n
    }
}

/// Calls held until the input's exchanges are known (see
/// `ingest::Batch::settle_held`): most are other roles' calls and are
/// dropped then. Their values that are nearly always distinct (key, session
/// ARN, address) sit back to back, not interned: a string table entry per
/// value would cost more, in time and room, than the value, for a row that
/// is likely thrown away. The rest is interned as in the store.
#[derive(Debug, Default, Clone)]
pub struct HeldCalls {
    /// The rows without their distinct values.
    rest: EventStore,
    access_key: StrColumn,
    principal_arn: StrColumn,
    source_ip: StrColumn,
}

impl HeldCalls {
    pub fn len(&self) -> usize {
        self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Holds one call. The three distinct values are absent or not empty
    /// (CloudTrail's reader treats empty ones as absent), so an empty
    /// string stands for absent.
    pub fn push(&mut self, row: &EventRow<'_>) {
        self.rest.push(&EventRow {
            access_key: None,
            principal_arn: None,
            source_ip: None,
            ..row.clone()
        });
        self.access_key.push(row.access_key.unwrap_or(""));
        self.principal_arn.push(row.principal_arn.unwrap_or(""));
        self.source_ip.push(row.source_ip.unwrap_or(""));
    }

    /// The key of call `i`.
    pub fn access_key(&self, i: usize) -> Option<&str> {
        let key = self.access_key.get(i);
        (!key.is_empty()).then_some(key)
    }

    /// Call `i` as it was pushed.
    pub fn row(&self, i: usize) -> EventRow<'_> {
        fn present(s: &str) -> Option<&str> {
            (!s.is_empty()).then_some(s)
        }
        EventRow {
            access_key: present(self.access_key.get(i)),
            principal_arn: present(self.principal_arn.get(i)),
            source_ip: present(self.source_ip.get(i)),
            ..self.rest.row(i)
        }
    }

    /// Gives back the room kept for growth: held calls wait for the whole
    /// input.
    pub fn shrink_to_fit(&mut self) {
        self.rest.shrink_to_fit();
        self.access_key.shrink_to_fit();
        self.principal_arn.shrink_to_fit();
        self.source_ip.shrink_to_fit();
    }

    pub fn heap_bytes(&self) -> usize {
        self.rest.heap_bytes()
            + self.access_key.heap_bytes()
            + self.principal_arn.heap_bytes()
            + self.source_ip.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_calls_give_back_each_row_as_pushed() {
        let rows = [
            EventRow {
                time: Some(7),
                cloud: "aws",
                account: Some("111111111111"),
                action: Some("GetObject"),
                access_key: Some("ASIAONE"),
                principal_arn: Some("arn:aws:sts::1:assumed-role/r/s"),
                source_ip: Some("10.0.0.1"),
                user_agent: Some(""),
                event_id: Some("e1"),
                read_only: Some(true),
                file: 3,
                record: 4,
                line: 5,
                ..EventRow::default()
            },
            EventRow {
                cloud: "aws",
                access_key: Some("ASIATWO"),
                via_service: true,
                ..EventRow::default()
            },
        ];
        let mut held = HeldCalls::default();
        for r in &rows {
            held.push(r);
        }
        held.shrink_to_fit();
        assert_eq!(held.len(), 2);
        assert_eq!(held.access_key(1), Some("ASIATWO"));
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(format!("{:?}", held.row(i)), format!("{r:?}"));
        }
    }

    #[test]
    fn retain_keeps_marked_rows_with_their_values_and_drops_their_strings() {
        let mut ev = EventStore::default();
        for (i, key) in ["ASIAKEEP", "ASIADROP", "ASIAKEEP2"].iter().enumerate() {
            ev.push(&EventRow {
                time: Some(i as i64),
                cloud: "aws",
                access_key: Some(key),
                event_id: Some(key),
                read_only: Some(true),
                file: 1,
                record: i as u32,
                line: 7,
                ..Default::default()
            });
        }
        let (kept, map) = ev.retain(&[true, false, true]);
        assert_eq!(map, vec![0, usize::MAX, 1]);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept.str(kept.access_key[1]), Some("ASIAKEEP2"));
        assert_eq!(kept.event_id_of(1), Some("ASIAKEEP2"));
        assert_eq!(
            (kept.record[1], kept.line[1], kept.read_only_of(1)),
            (2, 7, Some(true))
        );
        assert!(kept.strings.find("ASIADROP").is_none());
    }

    #[test]
    fn push_and_append_keep_values() {
        let mut a = EventStore::default();
        a.push(&EventRow {
            cloud: "aws",
            action: Some("GetObject"),
            source_ip: Some("1.2.3.4"),
            event_id: Some("e1"),
            read_only: Some(true),
            time: Some(5),
            ..Default::default()
        });
        let mut b = EventStore::default();
        b.push(&EventRow {
            cloud: "aws",
            action: Some("PutObject"),
            source_ip: Some("1.2.3.4"),
            via_service: true,
            ..Default::default()
        });
        a.append(b);
        assert_eq!(a.len(), 2);
        assert_eq!(a.str(a.action[1]), Some("PutObject"));
        assert_eq!(a.source_ip[0], a.source_ip[1]);
        assert_eq!(a.read_only_of(0), Some(true));
        assert_eq!(a.read_only_of(1), None);
        assert!(a.via_service(1));
        assert_eq!(a.time_of(1), None);
        assert_eq!(a.event_id_of(0), Some("e1"));
        assert_eq!(a.event_id_of(1), None);
        assert_eq!(a.str(a.cloud[1]), Some("aws"));
    }
}
