//! String interning for the event store.
//!
//! A month of CloudTrail repeats the same few thousand accounts, regions,
//! services, actions, roles, user agents and addresses millions of times.
//! Each distinct string is stored once in an arena and rows hold a 4-byte
//! [`Sym`]. Every ingest worker owns its own interner (no locks in the hot
//! path); [`Interner::absorb`] merges one into another and returns the id
//! remapping, which costs one lookup per distinct string, not per row.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

/// An interned string id. `Sym::NONE` (0) stands for "absent".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sym(pub u32);

impl Sym {
    pub const NONE: Sym = Sym(0);

    pub fn is_none(self) -> bool {
        self.0 == 0
    }

    pub fn is_some(self) -> bool {
        self.0 != 0
    }
}

/// Append-only string arena with deduplication.
fn spread(h: u32) -> u64 {
    (h as u64) << 32 | h as u64
}

#[derive(Clone)]
pub struct Interner {
    bytes: String,
    /// `ends[i]` is the end offset of string `i`; string 0 is the empty
    /// placeholder behind `Sym::NONE`.
    ends: Vec<usize>,
    /// `(id, hash)`: the hash kept beside the id, so that growing the
    /// table never re-reads the strings (measured: rehashing was 6% of a
    /// scan's CPU, mostly cache misses on the string bytes).
    table: HashTable<(u32, u32)>,
    hasher: FixedState,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            bytes: String::new(),
            ends: vec![0],
            table: HashTable::new(),
            hasher: FixedState::with_seed(0x5eed_0fc0_ffee),
        }
    }
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("strings", &(self.ends.len() - 1))
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl Interner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct strings (not counting the absent placeholder).
    pub fn len(&self) -> usize {
        self.ends.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the arena, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 8 + self.table.capacity() * 8
    }

    fn slice(&self, id: u32) -> &str {
        let i = id as usize;
        &self.bytes[self.ends[i - 1]..self.ends[i]]
    }

    /// The string behind `sym`; the empty string for `Sym::NONE`.
    pub fn get(&self, sym: Sym) -> &str {
        if sym.is_none() {
            ""
        } else {
            self.slice(sym.0)
        }
    }

    /// The string behind `sym`, or `None` for `Sym::NONE`.
    pub fn opt(&self, sym: Sym) -> Option<&str> {
        if sym.is_none() {
            None
        } else {
            Some(self.slice(sym.0))
        }
    }

    /// Gives back the room kept for growth.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.table.shrink_to_fit(|&(_, h)| spread(h));
    }

    /// Looks a string up without inserting it.
    pub fn find(&self, s: &str) -> Option<Sym> {
        let (hash, _) = self.hash(s);
        self.table
            .find(hash, |&(id, _)| self.slice(id) == s)
            .map(|&(id, _)| Sym(id))
    }

    /// The table's hash of `s`: 32 bits, spread over 64 so that both the
    /// bucket index (low bits) and the control byte (top bits) use them.
    fn hash(&self, s: &str) -> (u64, u32) {
        let h = self.hasher.hash_one(s) as u32;
        (spread(h), h)
    }

    /// Interns `s`. The empty string is interned like any other value: an
    /// empty field is not the same as an absent one.
    pub fn intern(&mut self, s: &str) -> Sym {
        let (_, h32) = self.hash(s);
        self.intern_hashed(s, h32)
    }

    /// Interns `s` whose 32-bit hash is already known.
    fn intern_hashed(&mut self, s: &str, h32: u32) -> Sym {
        let hash = spread(h32);
        let Interner {
            bytes, ends, table, ..
        } = self;
        let found = table.find(hash, |&(id, h)| {
            let i = id as usize;
            h == h32 && &bytes[ends[i - 1]..ends[i]] == s
        });
        if let Some(&(id, _)) = found {
            return Sym(id);
        }
        bytes.push_str(s);
        ends.push(bytes.len());
        let id = (ends.len() - 1) as u32;
        table.insert_unique(hash, (id, h32), |&(_, h)| spread(h));
        Sym(id)
    }

    /// Interns an optional string; `None` maps to `Sym::NONE`.
    pub fn intern_opt(&mut self, s: Option<&str>) -> Sym {
        match s {
            Some(s) => self.intern(s),
            None => Sym::NONE,
        }
    }

    /// Moves every string of `other` into `self` and returns the table that
    /// maps `other`'s ids to `self`'s (index 0 maps to `Sym::NONE`).
    pub fn absorb(&mut self, other: &Interner) -> Vec<Sym> {
        // Both tables hash alike, so `other`'s stored hashes are reused
        // rather than computed again; ids are still taken in `other`'s
        // order, so the result does not depend on its table's layout.
        let mut hashes = vec![0u32; other.ends.len()];
        for &(id, h) in other.table.iter() {
            hashes[id as usize] = h;
        }
        let mut map = Vec::with_capacity(other.ends.len());
        map.push(Sym::NONE);
        for id in 1..other.ends.len() as u32 {
            map.push(self.intern_hashed(other.slice(id), hashes[id as usize]));
        }
        map
    }
}

/// A column of mostly distinct strings (event ids) stored back to back.
#[derive(Debug, Clone, Default)]
pub struct StrColumn {
    bytes: String,
    ends: Vec<usize>,
}

impl StrColumn {
    pub fn push(&mut self, s: &str) {
        self.bytes.push_str(s);
        self.ends.push(self.bytes.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    pub fn append(&mut self, other: &StrColumn) {
        let base = self.bytes.len();
        self.bytes.push_str(&other.bytes);
        self.ends.extend(other.ends.iter().map(|e| e + base));
    }

    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 8
    }

    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_deduplicates_and_keeps_empty_distinct_from_absent() {
        let mut i = Interner::new();
        let a = i.intern("us-east-1");
        let b = i.intern("eu-west-1");
        assert_eq!(i.intern("us-east-1"), a);
        assert_ne!(a, b);
        let empty = i.intern("");
        assert!(empty.is_some());
        assert_eq!(i.get(empty), "");
        assert_eq!(i.opt(Sym::NONE), None);
        assert_eq!(i.get(b), "eu-west-1");
        assert_eq!(i.find("eu-west-1"), Some(b));
        assert_eq!(i.find("ap-south-1"), None);
    }

    #[test]
    fn absorb_remaps_ids() {
        let mut global = Interner::new();
        global.intern("x");
        let mut local = Interner::new();
        let y = local.intern("y");
        let x = local.intern("x");
        let map = global.absorb(&local);
        assert_eq!(global.get(map[y.0 as usize]), "y");
        assert_eq!(global.get(map[x.0 as usize]), "x");
        assert_eq!(global.len(), 2);
    }

    #[test]
    fn str_column_appends() {
        let mut a = StrColumn::default();
        a.push("e1");
        let mut b = StrColumn::default();
        b.push("e2");
        b.push("");
        a.append(&b);
        assert_eq!(a.iter().collect::<Vec<_>>(), vec!["e1", "e2", ""]);
    }
}
