//! Hash values. A small hash is one packed buffer (Redis's `listpack`
//! encoding): field and value alternate, each a LEB128 length then its
//! bytes, in insertion order, scanned linearly. Past `hash-max-listpack-entries`
//! pairs or a field/value longer than `hash-max-listpack-value` it becomes a
//! `Dict` of entry blocks (field as key, value as the entry's string), which
//! gives SCAN its reverse-binary cursor. Like Redis, it never converts back.

use super::dict::Dict;
use super::entry::{Entry, NewValue, ValueRef};
use super::hash_key;
use rand::Rng;

/// The thresholds of the compact encoding, read from the config per write.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

pub enum Hash {
    Pack(Pack),
    Table(Dict),
}

/// Field/value pairs packed in one buffer whose capacity is kept exact, so a
/// small hash costs its bytes plus two length bytes per pair.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pack {
    buf: Vec<u8>,
    len: usize,
}

fn put_len(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

fn len_size(mut n: usize) -> usize {
    let mut size = 1;
    while n >= 0x80 {
        n >>= 7;
        size += 1;
    }
    size
}

/// Reads one length-prefixed string at `at`: (bytes, offset after it).
/// The buffer is only ever written by `put_len` + bytes, so a short read
/// means corruption; it ends iteration rather than panicking.
fn read_item(buf: &[u8], mut at: usize) -> Option<(&[u8], usize)> {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = *buf.get(at)?;
        at += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let item = buf.get(at..at.checked_add(n)?)?;
    Some((item, at + n))
}

/// Where one pair lies in the buffer.
struct Slot {
    start: usize,
    value_start: usize,
    end: usize,
}

impl Pack {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> PackIter<'_> {
        PackIter {
            buf: &self.buf,
            at: 0,
        }
    }

    fn find(&self, field: &[u8]) -> Option<(Slot, &[u8])> {
        let mut at = 0;
        while at < self.buf.len() {
            let (f, value_start) = read_item(&self.buf, at)?;
            let (v, end) = read_item(&self.buf, value_start)?;
            if f == field {
                let slot = Slot {
                    start: at,
                    value_start,
                    end,
                };
                return Some((slot, v));
            }
            at = end;
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|(_, v)| v)
    }

    /// Sets `field`; true if it is new. Updates keep the pair's position, as
    /// a listpack does, so iteration order is insertion order.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let mut item = Vec::with_capacity(len_size(value.len()) + value.len());
        put_len(&mut item, value.len());
        item.extend_from_slice(value);
        if let Some((slot, _)) = self.find(field) {
            let old = slot.end - slot.value_start;
            if item.len() > old {
                self.buf.reserve_exact(item.len() - old);
            }
            self.buf.splice(slot.value_start..slot.end, item);
            self.buf.shrink_to_fit();
            return false;
        }
        self.buf
            .reserve_exact(len_size(field.len()) + field.len() + item.len());
        put_len(&mut self.buf, field.len());
        self.buf.extend_from_slice(field);
        self.buf.extend_from_slice(&item);
        self.len += 1;
        true
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some((slot, _)) => {
                self.buf.drain(slot.start..slot.end);
                self.buf.shrink_to_fit();
                self.len -= 1;
                true
            }
            None => false,
        }
    }

    /// The pair at position `i` (0-based), for random picks.
    fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.iter().nth(i)
    }
}

pub struct PackIter<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (f, after) = read_item(self.buf, self.at)?;
        let (v, end) = read_item(self.buf, after)?;
        self.at = end;
        Some((f, v))
    }
}

/// The value bytes of a hashtable entry (always stored as a string).
pub fn entry_value(e: &Entry) -> &[u8] {
    match e.value() {
        ValueRef::Str(s) => s,
        _ => &[],
    }
}

fn table_entry(field: &[u8], value: &[u8]) -> Entry {
    Entry::new(field, NewValue::Str(value), None, 0)
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Pack(Pack::default())
    }
}

impl Hash {
    pub fn len(&self) -> usize {
        match self {
            Hash::Pack(p) => p.len(),
            Hash::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Pack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(p) => p.get(field),
            Hash::Table(d) => d.get(field, hash_key(field)).map(entry_value),
        }
    }

    /// Sets `field` to `value`, converting to a hashtable when the pair is
    /// too long for the packed form or the hash outgrows it (checked after
    /// updates too, as Redis does, so a lowered limit applies on next write).
    /// Returns true if the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if field.len() > limits.max_value || value.len() > limits.max_value {
            self.convert();
        }
        let added = match self {
            Hash::Pack(p) => p.set(field, value),
            Hash::Table(d) => {
                let h = hash_key(field);
                d.replace(table_entry(field, value), h).is_none()
            }
        };
        if self.len() > limits.max_entries {
            self.convert();
        }
        added
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Pack(p) => p.remove(field),
            Hash::Table(d) => d.remove(field, hash_key(field)).is_some(),
        }
    }

    /// Moves the pairs into a hashtable (no-op if already one).
    pub fn convert(&mut self) {
        let Hash::Pack(p) = self else {
            return;
        };
        let mut d = Dict::default();
        for (f, v) in p.iter() {
            d.insert_new(table_entry(f, v), hash_key(f));
        }
        *self = Hash::Table(d);
    }

    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            Hash::Pack(p) => Box::new(p.iter()),
            Hash::Table(d) => Box::new(d.iter().map(|e| (e.key(), entry_value(e)))),
        }
    }

    /// One pair chosen uniformly (None only when empty).
    pub fn random_pair(&self, rng: &mut impl Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Pack(p) if p.is_empty() => None,
            Hash::Pack(p) => p.nth(rng.gen_range(0..p.len())),
            Hash::Table(d) => d.random_entry(rng).map(|e| (e.key(), entry_value(e))),
        }
    }
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        match self {
            Hash::Pack(p) => Hash::Pack(p.clone()),
            Hash::Table(d) => {
                let mut copy = Dict::default();
                for e in d.iter() {
                    copy.insert_new(table_entry(e.key(), entry_value(e)), hash_key(e.key()));
                }
                Hash::Table(copy)
            }
        }
    }
}

/// Equal contents, whatever the encoding or order.
impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_entries: 4,
        max_value: 8,
    };

    #[test]
    fn packed_pairs_keep_insertion_order_through_updates_and_deletes() {
        let mut h = Hash::default();
        assert!(h.set(b"a", b"1", LIMITS));
        assert!(h.set(b"b", b"", LIMITS));
        assert!(h.set(b"", b"x", LIMITS));
        assert!(!h.set(b"a", b"longer", LIMITS));
        assert_eq!(h.get(b"a"), Some(&b"longer"[..]));
        assert_eq!(h.get(b""), Some(&b"x"[..]));
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(
            pairs,
            vec![(&b"a"[..], &b"longer"[..]), (&b""[..], &b"x"[..])]
        );
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn long_items_use_multi_byte_lengths() {
        let mut p = Pack::default();
        let big = vec![7u8; 300];
        p.set(&big, b"v");
        p.set(b"k", &big);
        assert_eq!(p.get(&big), Some(&b"v"[..]));
        assert_eq!(p.get(b"k"), Some(&big[..]));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn converts_past_either_limit_and_keeps_contents() {
        let mut h = Hash::default();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", LIMITS);
        }
        assert_eq!(h.encoding(), "listpack");
        let before = h.clone();
        h.set(b"f9", b"v", LIMITS);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        assert!(before.iter().all(|(f, v)| h.get(f) == Some(v)));
        let mut g = Hash::default();
        g.set(b"f", b"123456789", LIMITS);
        assert_eq!(g.encoding(), "hashtable");
        assert_eq!(g.clone(), g);
    }
}
