//! The set type, with Redis 7.0's two encodings: an `intset` (a sorted
//! packed array of integers, 2, 4 or 8 bytes each, widened on demand) while
//! every member is an integer and there are at most `set-max-intset-entries`
//! of them, then a `hashtable` (a `Dict` of member entries). A set never
//! converts back, as in Redis.

use super::dict::Dict;
use super::entry::{Entry, NewValue};
use super::hash_key;
use crate::util::parse_i64;
use rand::seq::SliceRandom;
use rand::Rng;

/// A member as stored: intset members are integers, the others bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Member<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Member<'_> {
    pub fn to_owned(self) -> OwnedMember {
        match self {
            Member::Int(n) => OwnedMember::Int(n),
            Member::Str(s) => OwnedMember::Str(s.into()),
        }
    }

    /// The member's bytes; integers are printed into `buf`.
    pub fn bytes<'b>(&'b self, buf: &'b mut itoa::Buffer) -> &'b [u8] {
        match self {
            Member::Int(n) => buf.format(*n).as_bytes(),
            Member::Str(s) => s,
        }
    }
}

/// A member copied out of a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedMember {
    Int(i64),
    Str(Box<[u8]>),
}

impl OwnedMember {
    pub fn as_member(&self) -> Member<'_> {
        match self {
            OwnedMember::Int(n) => Member::Int(*n),
            OwnedMember::Str(s) => Member::Str(s),
        }
    }
}

/// Sorted integers packed at the narrowest width that holds them all
/// (Redis's intset: same widths, same upgrade rule). One allocation sized
/// exactly: the width in the first byte, then the values, little-endian.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntSet {
    data: Vec<u8>,
}

fn width_for(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

impl IntSet {
    fn width(&self) -> usize {
        self.data.first().map_or(0, |&w| w as usize)
    }

    fn values(&self) -> &[u8] {
        self.data.get(1..).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.values().len().checked_div(self.width()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> i64 {
        let w = self.width();
        let mut b = [0u8; 8];
        b[..w].copy_from_slice(&self.values()[i * w..(i + 1) * w]);
        // Sign-extend from the stored width.
        let shift = 64 - 8 * w as u32;
        (i64::from_le_bytes(b) << shift) >> shift
    }

    fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        width_for(v) <= self.width() && self.search(v).is_ok()
    }

    /// Inserts `v`; false if it was already there.
    pub fn insert(&mut self, v: i64) -> bool {
        let need = width_for(v);
        if need > self.width() {
            let old: Vec<i64> = self.iter().collect();
            let mut data = Vec::with_capacity(1 + (old.len() + 1) * need);
            data.push(need as u8);
            for n in old {
                data.extend_from_slice(&n.to_le_bytes()[..need]);
            }
            self.data = data;
        }
        let Err(at) = self.search(v) else {
            return false;
        };
        let w = self.width();
        // Grow by exactly one value, as Redis's intset does: small sets
        // are many, so no slack capacity.
        self.data.reserve_exact(w);
        let bytes = v.to_le_bytes();
        let at = 1 + at * w;
        self.data.splice(at..at, bytes[..w].iter().copied());
        true
    }

    pub fn remove(&mut self, v: i64) -> bool {
        if !self.contains(v) {
            return false;
        }
        let Ok(at) = self.search(v) else {
            return false;
        };
        let w = self.width();
        let at = 1 + at * w;
        self.data.drain(at..at + w);
        if self.data.capacity() > 2 * self.data.len() {
            self.data.shrink_to_fit();
        }
        true
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// The hashtable is boxed so that a set (and so every boxed `Value`) stays
/// the size of the intset's one vector.
pub enum Set {
    Ints(IntSet),
    Table(Box<Dict>),
}

fn member_entry(m: &[u8]) -> Entry {
    Entry::new(m, NewValue::Str(b""), None, 0)
}

impl Set {
    /// An empty set in the encoding Redis starts with for `first`
    /// (setTypeCreate): an intset if it is an integer.
    pub fn for_member(first: &[u8]) -> Set {
        if parse_i64(first).is_some() {
            Set::Ints(IntSet::default())
        } else {
            Set::Table(Box::default())
        }
    }

    /// An empty intset, which is how Redis starts the result of SUNIONSTORE,
    /// SINTERSTORE, SDIFFSTORE (and of SUNION/SDIFF before replying).
    pub fn new_ints() -> Set {
        Set::Ints(IntSet::default())
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Ints(s) => s.len(),
            Set::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Ints(s) => parse_i64(m).is_some_and(|n| s.contains(n)),
            Set::Table(d) => d.get(m, hash_key(m)).is_some(),
        }
    }

    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (self, m) {
            (Set::Ints(s), Member::Int(n)) => s.contains(n),
            (_, m) => self.contains(m.bytes(&mut itoa::Buffer::new())),
        }
    }

    fn convert_to_table(&mut self) {
        if let Set::Ints(s) = self {
            let mut d = Dict::default();
            let mut buf = itoa::Buffer::new();
            for n in s.iter() {
                let m = buf.format(n).as_bytes();
                d.insert_new(member_entry(m), hash_key(m));
            }
            *self = Set::Table(Box::new(d));
        }
    }

    /// Adds `m`; false if it was already a member. Converts to a hashtable
    /// for a non-integer member or past `max_intset` entries (Redis's
    /// setTypeAdd).
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        if let Set::Ints(s) = self {
            match parse_i64(m) {
                Some(n) => {
                    if !s.insert(n) {
                        return false;
                    }
                    if s.len() > max_intset {
                        self.convert_to_table();
                    }
                    return true;
                }
                None => self.convert_to_table(),
            }
        }
        match self {
            Set::Table(d) => {
                let h = hash_key(m);
                if d.get(m, h).is_some() {
                    return false;
                }
                d.insert_new(member_entry(m), h);
                true
            }
            Set::Ints(_) => false,
        }
    }

    pub fn add_member(&mut self, m: Member<'_>, max_intset: usize) -> bool {
        self.add(m.bytes(&mut itoa::Buffer::new()), max_intset)
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Ints(s) => parse_i64(m).is_some_and(|n| s.remove(n)),
            Set::Table(d) => d.remove(m, hash_key(m)).is_some(),
        }
    }

    pub fn remove_member(&mut self, m: Member<'_>) -> bool {
        match (&mut *self, m) {
            (Set::Ints(s), Member::Int(n)) => s.remove(n),
            (_, m) => self.remove(m.bytes(&mut itoa::Buffer::new())),
        }
    }

    /// Members in storage order: ascending for an intset, as Redis.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Member<'_>> + '_> {
        match self {
            Set::Ints(s) => Box::new(s.iter().map(Member::Int)),
            Set::Table(d) => Box::new(d.iter().map(|e| Member::Str(e.key()))),
        }
    }

    pub fn random(&self, rng: &mut impl Rng) -> Option<Member<'_>> {
        match self {
            Set::Ints(s) if s.is_empty() => None,
            Set::Ints(s) => Some(Member::Int(s.get(rng.gen_range(0..s.len())))),
            Set::Table(d) => d.random_entry(rng).map(|e| Member::Str(e.key())),
        }
    }

    pub fn pop_random(&mut self, rng: &mut impl Rng) -> Option<OwnedMember> {
        let m = self.random(rng)?.to_owned();
        self.remove_member(m.as_member());
        Some(m)
    }

    /// `count` distinct random members (count < len).
    pub fn random_distinct(&self, count: usize, rng: &mut impl Rng) -> Vec<Member<'_>> {
        match self {
            Set::Ints(s) => rand::seq::index::sample(rng, s.len(), count)
                .into_iter()
                .map(|i| Member::Int(s.get(i)))
                .collect(),
            // Many of the members: shuffle a copy of the whole set.
            Set::Table(d) if count.saturating_mul(3) > d.len() => {
                let mut all: Vec<Member<'_>> = self.iter().collect();
                let (picked, _) = all.partial_shuffle(rng, count);
                picked.to_vec()
            }
            // Few: draw until enough distinct ones came up.
            Set::Table(d) => {
                let mut seen = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let Some(e) = d.random_entry(rng) else { break };
                    if seen.insert(e.key()) {
                        out.push(Member::Str(e.key()));
                    }
                }
                out
            }
        }
    }

    /// The hashtable, for SSCAN's cursor walk (an intset has none: SSCAN
    /// returns it whole with cursor 0, as Redis does).
    pub fn table(&self) -> Option<&Dict> {
        match self {
            Set::Table(d) => Some(d),
            Set::Ints(_) => None,
        }
    }
}

impl Clone for Set {
    fn clone(&self) -> Set {
        match self {
            Set::Ints(s) => Set::Ints(s.clone()),
            Set::Table(d) => {
                let mut copy = Dict::default();
                for e in d.iter() {
                    copy.insert_new(member_entry(e.key()), hash_key(e.key()));
                }
                Set::Table(Box::new(copy))
            }
        }
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains_member(m))
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = itoa::Buffer::new();
        let mut list = f.debug_set();
        for m in self.iter() {
            list.entry(&String::from_utf8_lossy(m.bytes(&mut buf)));
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_stays_sorted_and_widens() {
        let mut s = IntSet::default();
        for v in [5, -3, 100, 5, 70000, -5_000_000_000, 0] {
            s.insert(v);
        }
        let all: Vec<i64> = s.iter().collect();
        assert_eq!(all, vec![-5_000_000_000, -3, 0, 5, 100, 70000]);
        assert!(s.contains(70000) && !s.contains(6));
        assert!(s.remove(-3) && !s.remove(-3));
        assert_eq!(s.len(), 5);
        assert!(s.insert(i64::MIN) && s.insert(i64::MAX));
        assert_eq!(s.get(0), i64::MIN);
        assert_eq!(s.get(s.len() - 1), i64::MAX);
    }

    #[test]
    fn a_set_is_one_vector_wide() {
        assert!(std::mem::size_of::<Set>() <= 24);
    }

    #[test]
    fn converts_on_strings_and_size() {
        let mut s = Set::for_member(b"1");
        assert!(s.add(b"1", 3) && !s.add(b"1", 3));
        assert!(s.add(b"2", 3) && s.add(b"3", 3));
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"4", 3));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"4") && s.contains(b"1"));
        let mut t = Set::for_member(b"x");
        assert_eq!(t.encoding(), "hashtable");
        t.add(b"x", 512);
        let mut u = Set::new_ints();
        u.add(b"7", 512);
        u.add(b"07", 512);
        assert_eq!(u.encoding(), "hashtable");
        assert!(u.contains(b"7") && u.contains(b"07") && !u.contains(b"x"));
        assert_eq!(u.clone(), u);
    }

    #[test]
    fn random_distinct_members_are_distinct() {
        let mut rng = rand::thread_rng();
        for first in [&b"1"[..], b"a"] {
            let mut s = Set::for_member(first);
            for i in 0..100 {
                s.add(format!("{}", i).as_bytes(), 512);
            }
            for count in [1, 10, 40, 99] {
                let picked = s.random_distinct(count, &mut rng);
                let uniq: std::collections::HashSet<_> = picked.iter().collect();
                assert_eq!(uniq.len(), count);
            }
        }
    }
}
