//! Streams. Entries live in nodes keyed by their first ("master") ID, like
//! Redis's radix tree of listpacks, and each node tracks the exact byte size
//! its listpack would have in Redis: XADD starts a new node on the same
//! `stream-node-max-bytes`/`-entries` boundaries, so approximate trimming
//! (`~`, which only drops whole nodes) removes exactly what Redis removes.
//! An entry is one small blob: its values only, when its fields are the
//! node's master fields (the common case), else its field/value pairs.
//! Deleted entries leave no data behind, only their count and bytes.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        *self == StreamId::MIN
    }

    /// The next ID, None past the last one (Redis's streamIncrID).
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, None before 0-0 (streamDecrID).
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// "<ms>-<seq>".
    pub fn to_bytes(self) -> Vec<u8> {
        format!("{}-{}", self.ms, self.seq).into_bytes()
    }
}

/// Node size limits (`stream-node-max-bytes`, `stream-node-max-entries`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

/// Redis's STREAM_LISTPACK_MAX_SIZE.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

// ---- listpack sizes, as Redis's listpack.c encodes elements ----

fn lp_backlen(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn lp_int(v: i64) -> usize {
    let l = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    };
    l + lp_backlen(l)
}

fn lp_str(s: &[u8]) -> usize {
    if let Some(v) = crate::util::parse_i64(s) {
        return lp_int(v);
    }
    let l = match s.len() {
        0..=63 => 1 + s.len(),
        64..=4095 => 2 + s.len(),
        _ => 5 + s.len(),
    };
    l + lp_backlen(l)
}

/// Header (total bytes, element count) and end byte.
const LP_OVERHEAD: usize = 7;

// ---- entry blobs: varint lengths, then bytes ----

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], at: &mut usize) -> usize {
    let mut v = 0usize;
    let mut shift = 0;
    while let Some(&c) = b.get(*at) {
        *at += 1;
        v |= ((c & 0x7f) as usize) << shift;
        if c & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    v
}

fn get_bytes<'a>(b: &'a [u8], at: &mut usize) -> &'a [u8] {
    let n = get_varint(b, at);
    let end = (*at + n).min(b.len());
    let s = &b[*at..end];
    *at = end;
    s
}

/// Blob tag: the entry's fields are the node's master fields.
const SAME_FIELDS: u8 = 0;
const OWN_FIELDS: u8 = 1;

#[derive(Clone, Debug, PartialEq)]
struct Item {
    id: StreamId,
    data: Box<[u8]>,
}

#[derive(Clone, Debug, PartialEq)]
struct Node {
    /// The master entry's field names, one blob.
    master: Box<[u8]>,
    master_count: usize,
    /// Live entries, ascending.
    items: Vec<Item>,
    /// Entries deleted but still in the listpack (tombstones).
    deleted: usize,
    /// Listpack bytes besides the header and the live/deleted counters.
    body_bytes: usize,
    /// The last ID in the listpack, tombstones included.
    last: StreamId,
}

impl Node {
    fn lp_bytes(&self) -> usize {
        LP_OVERHEAD
            + lp_int(self.items.len() as i64)
            + lp_int(self.deleted as i64)
            + self.body_bytes
    }

    fn master_fields(&self) -> impl Iterator<Item = &[u8]> {
        let mut at = 0;
        (0..self.master_count).map(move |_| get_bytes(&self.master, &mut at))
    }
}

/// One entry's field/value pairs.
pub struct Fields<'a> {
    data: &'a [u8],
    at: usize,
    master: Option<(&'a [u8], usize)>,
    left: usize,
}

impl<'a> Fields<'a> {
    pub fn len(&self) -> usize {
        self.left
    }

    pub fn is_empty(&self) -> bool {
        self.left == 0
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = match &mut self.master {
            Some((m, at)) => get_bytes(m, at),
            None => get_bytes(self.data, &mut self.at),
        };
        let value = get_bytes(self.data, &mut self.at);
        Some((field, value))
    }
}

fn fields_of<'a>(node: &'a Node, item: &'a Item) -> Fields<'a> {
    let data = &item.data[..];
    let mut at = 1;
    if data.first() == Some(&SAME_FIELDS) {
        Fields {
            data,
            at,
            master: Some((&node.master, 0)),
            left: node.master_count,
        }
    } else {
        let left = get_varint(data, &mut at);
        Fields {
            data,
            at,
            master: None,
            left,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    pub length: u64,
    pub last_id: StreamId,
    /// The first live entry's ID as Redis records it (recorded-first-entry-id).
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// A consumer group's "entries read" counter when unknown (SCG_INVALID_ENTRIES_READ).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// A delivered, not yet acknowledged entry (Redis's NACK).
#[derive(Clone, Debug, PartialEq)]
pub struct Nack {
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Consumer {
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The consumer, created (seen now) if missing; its seen time refreshed.
    pub fn consumer(&mut self, name: &[u8], now: i64) -> &mut Consumer {
        let c = self.consumers.entry(name.to_vec()).or_insert(Consumer {
            seen_time: now,
            pel: BTreeSet::new(),
        });
        c.seen_time = now;
        c
    }

    /// Gives the pending entry `id` to `consumer` (moving it from its
    /// previous owner), creating it if needed.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], time: i64) -> &mut Nack {
        if let Some(old) = self.pel.get(&id).map(|n| n.consumer.clone()) {
            if old != consumer {
                if let Some(c) = self.consumers.get_mut(&old) {
                    c.pel.remove(&id);
                }
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
        let n = self.pel.entry(id).or_insert(Nack {
            delivery_time: time,
            delivery_count: 0,
            consumer: consumer.to_vec(),
        });
        n.consumer = consumer.to_vec();
        n
    }

    /// Removes a pending entry from the group and its consumer.
    pub fn unpend(&mut self, id: StreamId) -> bool {
        let Some(n) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&n.consumer) {
            c.pel.remove(&id);
        }
        true
    }
}

/// How XADD/XTRIM trim.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

impl Stream {
    /// Appends an entry with `id`, which the caller checked is above
    /// `last_id`. `pairs` alternates fields and values.
    pub fn append(&mut self, id: StreamId, pairs: &[&[u8]], limits: Limits) {
        let numfields = pairs.len() / 2;
        let totelelen: usize = pairs.iter().map(|p| p.len()).sum();
        let max_bytes = match limits.max_bytes {
            0 => LISTPACK_MAX_SIZE,
            b => b.min(LISTPACK_MAX_SIZE),
        };
        let fits = self.nodes.last_key_value().is_some_and(|(_, n)| {
            n.lp_bytes() + totelelen < max_bytes
                && (limits.max_entries == 0 || n.items.len() + n.deleted < limits.max_entries)
        });
        if !fits {
            let mut master = Vec::new();
            let mut body = lp_int(numfields as i64) + lp_int(0);
            for f in pairs.iter().step_by(2) {
                put_varint(&mut master, f.len());
                master.extend_from_slice(f);
                body += lp_str(f);
            }
            self.nodes.insert(
                id,
                Node {
                    master: master.into_boxed_slice(),
                    master_count: numfields,
                    items: Vec::new(),
                    deleted: 0,
                    body_bytes: body,
                    last: id,
                },
            );
        }
        let Some((&master_id, node)) = self.nodes.iter_mut().next_back() else {
            return;
        };
        let same = node.master_count == numfields
            && node
                .master_fields()
                .zip(pairs.iter().step_by(2))
                .all(|(m, f)| m == *f);
        let mut data = Vec::with_capacity(1 + totelelen + pairs.len());
        let mut bytes = lp_int(if same { 2 } else { 0 })
            + lp_int(id.ms.wrapping_sub(master_id.ms) as i64)
            + lp_int(id.seq.wrapping_sub(master_id.seq) as i64);
        let lp_count = if same {
            data.push(SAME_FIELDS);
            for v in pairs.iter().skip(1).step_by(2) {
                put_varint(&mut data, v.len());
                data.extend_from_slice(v);
                bytes += lp_str(v);
            }
            numfields + 3
        } else {
            data.push(OWN_FIELDS);
            put_varint(&mut data, numfields);
            bytes += lp_int(numfields as i64);
            for p in pairs {
                put_varint(&mut data, p.len());
                data.extend_from_slice(p);
                bytes += lp_str(p);
            }
            numfields * 2 + 4
        };
        bytes += lp_int(lp_count as i64);
        node.body_bytes += bytes;
        node.last = id;
        node.items.push(Item {
            id,
            data: data.into_boxed_slice(),
        });
        if self.length == 0 {
            self.first_id = id;
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
    }

    /// The entries with IDs in `start..=end`, ascending or descending, at
    /// most `count` of them (0 = all).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (StreamId, Fields<'_>)> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        let from = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        let nodes = self.nodes.range(from..=end);
        let in_range = move |it: &&Item| it.id >= start && it.id <= end;
        if rev {
            Box::new(nodes.rev().flat_map(move |(_, n)| {
                n.items
                    .iter()
                    .rev()
                    .filter(in_range)
                    .map(move |it| (it.id, fields_of(n, it)))
            }))
        } else {
            Box::new(nodes.flat_map(move |(_, n)| {
                n.items
                    .iter()
                    .filter(in_range)
                    .map(move |it| (it.id, fields_of(n, it)))
            }))
        }
    }

    /// The entry with `id`, if it exists.
    pub fn get(&self, id: StreamId) -> Option<Fields<'_>> {
        let (_, n) = self.nodes.range(..=id).next_back()?;
        let i = n.items.binary_search_by(|it| it.id.cmp(&id)).ok()?;
        Some(fields_of(n, &n.items[i]))
    }

    /// The first or last live ID.
    pub fn edge_id(&self, first: bool) -> Option<StreamId> {
        if first {
            self.nodes
                .values()
                .find_map(|n| n.items.first())
                .map(|i| i.id)
        } else {
            self.nodes
                .values()
                .rev()
                .find_map(|n| n.items.last())
                .map(|i| i.id)
        }
    }

    /// Deletes one entry (XDEL); false if there is none with `id`.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&key, n)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Ok(i) = n.items.binary_search_by(|it| it.id.cmp(&id)) else {
            return false;
        };
        if n.items.len() == 1 {
            self.nodes.remove(&key);
        } else {
            n.items.remove(i);
            n.deleted += 1;
        }
        self.length -= 1;
        true
    }

    /// Redis's streamTrim: drops whole nodes from the head, then (unless
    /// `approx`) marks entries of the next node deleted. `limit` (0 = none)
    /// caps the entries removed. Returns how many were.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut removed = 0u64;
        while let Some(mut entry) = self.nodes.first_entry() {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let node = entry.get_mut();
            let live = node.items.len() as u64;
            if limit != 0 && removed + live > limit {
                break;
            }
            let whole = match how {
                Trim::MaxLen(max) => self.length - live >= max,
                Trim::MinId(min) => node.last < min,
            };
            if whole {
                entry.remove();
                self.length -= live;
                removed += live;
                continue;
            }
            if approx {
                break;
            }
            let cut = match how {
                Trim::MaxLen(max) => (self.length - max) as usize,
                Trim::MinId(min) => node.items.partition_point(|it| it.id < min),
            };
            node.items.drain(..cut);
            node.deleted += cut;
            self.length -= cut as u64;
            removed += cut as u64;
            break;
        }
        if removed > 0 {
            self.first_id = self.edge_id(true).unwrap_or(StreamId::MIN);
        }
        removed
    }

    /// Redis's streamRangeHasTombstones from `start` to the end.
    pub fn has_tombstones_after(&self, start: StreamId) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() || self.first_id > self.max_deleted {
            return false;
        }
        start <= self.max_deleted
    }

    /// Redis's streamEstimateDistanceFromFirstEverEntry: the logical read
    /// counter of `id`, or INVALID_ENTRIES_READ when it cannot be known.
    pub fn entries_before(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        let added = self.entries_added as i64;
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return added - self.length as i64;
            } else if id == self.first_id {
                return added - self.length as i64 + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (XINFO GROUPS), None when unknown.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        let added = self.entries_added as i64;
        if g.entries_read != INVALID_ENTRIES_READ && !self.has_tombstones_after(g.last_id) {
            return Some(added - g.entries_read);
        }
        match self.entries_before(g.last_id) {
            INVALID_ENTRIES_READ => None,
            read => Some(added - read),
        }
    }

    /// A group delivered `id` past its last ID: advance its last ID and
    /// read counter as Redis does.
    pub fn advance_group(&self, g: &mut Group, id: StreamId) {
        if id <= g.last_id {
            return;
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.has_tombstones_after(id) {
            g.entries_read += 1;
        } else if self.entries_added > 0 {
            g.entries_read = self.entries_before(id);
        }
        g.last_id = id;
    }

    /// Radix tree keys (nodes), as XINFO STREAM reports them.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node count of Redis's radix tree over the 16-byte big-endian node
    /// keys (XINFO STREAM radix-tree-nodes): one compressed node per run of
    /// single-child levels, one node per branching point and per key.
    pub fn rax_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self
            .nodes
            .keys()
            .map(|id| {
                let mut k = [0u8; 16];
                k[..8].copy_from_slice(&id.ms.to_be_bytes());
                k[8..].copy_from_slice(&id.seq.to_be_bytes());
                k
            })
            .collect();
        if keys.is_empty() {
            return 1;
        }
        rax_count(&keys, 0)
    }
}

/// Nodes of the rax subtree holding `keys` (sorted, distinct, sharing their
/// first `depth` bytes) from a node boundary at `depth`.
fn rax_count(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth == 16 {
        return 1;
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    if first[depth] == last[depth] {
        // Single child: a compressed node down to where the keys diverge.
        let lcp = (depth..16).find(|&i| first[i] != last[i]).unwrap_or(16);
        return 1 + rax_count(keys, lcp);
    }
    let mut n = 1;
    let mut i = 0;
    while i < keys.len() {
        let c = keys[i][depth];
        let j = i + keys[i..].partition_point(|k| k[depth] == c);
        n += rax_count(&keys[i..j], depth + 1);
        i = j;
    }
    n
}

/// Parses "<ms>-<seq>", "<ms>" (seq = `missing_seq`), and unless `strict`
/// "-" and "+" (Redis's streamGenericParseIDOrReply). With `seq_star`,
/// "<ms>-*" parses to (ms, None).
pub fn parse_id(
    s: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_star: bool,
) -> Option<(StreamId, bool)> {
    if s.len() > 127 {
        return None;
    }
    // C string semantics: the argument ends at its first NUL.
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    match s {
        b"-" if !strict => return Some((StreamId::MIN, true)),
        b"+" if !strict => return Some((StreamId::MAX, true)),
        _ => {}
    }
    let (ms, seq) = match s.iter().position(|&c| c == b'-') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let ms = parse_u64(ms)?;
    match seq {
        None => Some((StreamId::new(ms, missing_seq), true)),
        Some(b"*") if seq_star => Some((StreamId::new(ms, 0), false)),
        Some(seq) => Some((StreamId::new(ms, parse_u64(seq)?), true)),
    }
}

/// Redis's string2ull: a canonical non-negative integer, else C's
/// strtoull on the whole (non-empty) string, which also takes leading
/// spaces, a sign (`-` wraps) and leading zeros.
fn parse_u64(s: &[u8]) -> Option<u64> {
    match crate::util::parse_i64(s) {
        Some(v) => u64::try_from(v).ok(),
        None if s.is_empty() => None,
        None => crate::util::parse_cursor(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }

    #[test]
    fn append_range_delete() {
        let mut s = Stream::default();
        for i in 1..=250u64 {
            s.append(StreamId::new(i, 0), &[b"f", b"v"], limits());
        }
        assert_eq!(s.node_count(), 3);
        assert_eq!(
            s.range(StreamId::new(100, 0), StreamId::MAX, false).count(),
            151
        );
        let (id, mut f) = s.range(StreamId::MIN, StreamId::MAX, true).next().unwrap();
        assert_eq!(id, StreamId::new(250, 0));
        assert_eq!(f.next(), Some((&b"f"[..], &b"v"[..])));
        assert!(s.delete(StreamId::new(5, 0)));
        assert!(!s.delete(StreamId::new(5, 0)));
        assert_eq!(s.length, 249);
        assert_eq!(s.trim(Trim::MaxLen(200), true, 0), 0);
        assert_eq!(s.trim(Trim::MaxLen(150), true, 0), 99);
        assert_eq!(s.trim(Trim::MaxLen(120), false, 0), 30);
        assert_eq!(s.edge_id(true), Some(StreamId::new(131, 0)));
    }

    #[test]
    fn ids() {
        assert_eq!(
            parse_id(b"1-2", 0, true, false),
            Some((StreamId::new(1, 2), true))
        );
        assert_eq!(
            parse_id(b"5", 9, true, false),
            Some((StreamId::new(5, 9), true))
        );
        assert_eq!(parse_id(b"+", 0, true, false), None);
        assert_eq!(
            parse_id(b"5-*", 0, true, true),
            Some((StreamId::new(5, 0), false))
        );
        assert_eq!(parse_id(b"5-*", 0, true, false), None);
        assert_eq!(parse_id(b"1-x", 0, true, false), None);
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
    }

    #[test]
    fn rax_nodes_of_one_key() {
        let mut s = Stream::default();
        s.append(StreamId::new(1, 1), &[b"a", b"1"], limits());
        assert_eq!(s.rax_nodes(), 2);
    }
}
