//! Sorted sets, in Redis's two encodings. Small sets are one packed buffer
//! of (score, member) entries in order (Redis's `listpack`): a varint-coded
//! score (integers in one to three bytes, other doubles in nine), a length
//! varint and the member bytes, scanned linearly. Past the configured
//! thresholds the set becomes a `skiplist`: Redis's skiplist with spans
//! (rank, range and insertion in O(log n)), its nodes in one slab with their
//! levels inline (each level caching the next node's score), plus a member ->
//! node table (a `Dict` of entry blocks), which also gives ZSCAN Redis's
//! cursor guarantee. Like Redis, a set never converts back.
//!
//! Range lookups follow Redis's own algorithms (first/last element in range,
//! then a walk), so even a lex range over members that are not in lex order
//! (mixed scores, where Redis leaves the result unspecified) answers as Redis
//! does for the listpack encoding.

use super::dict::Dict;
use super::entry::{Entry, NewValue, ValueRef};
use super::hash_key;
use rand::Rng;
use std::cmp::Ordering;

/// The conversion thresholds (zset-max-listpack-entries/-value).
#[derive(Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

pub struct ZSet {
    repr: Repr,
}

enum Repr {
    Pack(Pack),
    Skip(Box<Skip>),
}

/// A score or lex interval as the range commands give it.
pub enum Range<'a> {
    Score {
        min: f64,
        minex: bool,
        max: f64,
        maxex: bool,
    },
    Lex {
        min: LexBound<'a>,
        max: LexBound<'a>,
    },
}

#[derive(Clone, Copy)]
pub enum LexBound<'a> {
    NegInf,
    PosInf,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

impl LexBound<'_> {
    /// Redis's sdscmplex between two bounds' strings (infinities included).
    fn cmp_bound(&self, other: &LexBound) -> Ordering {
        use LexBound::*;
        let rank = |b: &LexBound| match b {
            NegInf => 0,
            PosInf => 2,
            _ => 1,
        };
        match (self, other) {
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }

    fn exclusive(&self) -> bool {
        matches!(self, LexBound::Excl(_))
    }
}

impl Range<'_> {
    pub fn gte_min(&self, member: &[u8], score: f64) -> bool {
        match self {
            Range::Score { min, minex, .. } => {
                if *minex {
                    score > *min
                } else {
                    score >= *min
                }
            }
            Range::Lex { min, .. } => match min {
                LexBound::NegInf => true,
                LexBound::PosInf => false,
                LexBound::Incl(m) => member >= *m,
                LexBound::Excl(m) => member > *m,
            },
        }
    }

    pub fn lte_max(&self, member: &[u8], score: f64) -> bool {
        match self {
            Range::Score { max, maxex, .. } => {
                if *maxex {
                    score < *max
                } else {
                    score <= *max
                }
            }
            Range::Lex { max, .. } => match max {
                LexBound::NegInf => false,
                LexBound::PosInf => true,
                LexBound::Incl(m) => member <= *m,
                LexBound::Excl(m) => member < *m,
            },
        }
    }

    /// True when no value can be in the range (min above max, or equal
    /// with an exclusive end).
    fn is_empty(&self) -> bool {
        match self {
            Range::Score {
                min,
                minex,
                max,
                maxex,
            } => min > max || (min == max && (*minex || *maxex)),
            Range::Lex { min, max } => match min.cmp_bound(max) {
                Ordering::Greater => true,
                Ordering::Equal => min.exclusive() || max.exclusive(),
                Ordering::Less => false,
            },
        }
    }
}

/// Sort order of (score, member) pairs.
#[inline]
fn before(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl ZSet {
    /// An empty set; it starts packed and converts as members are added.
    pub fn new() -> ZSet {
        ZSet {
            repr: Repr::Pack(Pack::default()),
        }
    }

    /// A set of `items`, already in order and distinct, encoded as Redis
    /// encodes a computed result (ZUNIONSTORE, ZRANGESTORE).
    pub fn from_sorted<'a>(
        items: impl ExactSizeIterator<Item = (&'a [u8], f64)> + Clone,
        limits: Limits,
    ) -> ZSet {
        let fits =
            items.len() <= limits.entries && items.clone().all(|(m, _)| m.len() <= limits.value);
        let mut z = ZSet::new();
        if fits {
            let mut p = Pack::default();
            for (m, s) in items {
                p.push(m, s);
            }
            p.buf.shrink_to_fit();
            z.repr = Repr::Pack(p);
        } else {
            let mut sk = Skip::new();
            for (m, s) in items {
                sk.insert(m, s);
            }
            z.repr = Repr::Skip(Box::new(sk));
        }
        z
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len,
            Repr::Skip(s) => s.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Skip(_) => "skiplist",
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|f| f.score),
            Repr::Skip(s) => s.score(member),
        }
    }

    /// Adds a member that is not present, converting to a skiplist first
    /// when the packed form would pass the limits (as Redis's zsetAdd).
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) {
        if let Repr::Pack(p) = &self.repr {
            if p.len + 1 > limits.entries || member.len() > limits.value {
                self.convert();
            }
        }
        match &mut self.repr {
            Repr::Pack(p) => p.insert(member, score),
            Repr::Skip(s) => s.insert(member, score),
        }
    }

    /// Changes the score of a present member.
    pub fn update(&mut self, member: &[u8], new: f64) {
        match &mut self.repr {
            Repr::Pack(p) => {
                p.remove(member);
                p.insert(member, new);
            }
            Repr::Skip(s) => s.update(member, new),
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => p.remove(member),
            Repr::Skip(s) => s.remove(member),
        }
    }

    fn convert(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut sk = Skip::new();
            for (m, s) in p.iter() {
                sk.insert(m, s);
            }
            self.repr = Repr::Skip(Box::new(sk));
        }
    }

    /// 0-based ascending rank of a member.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|f| f.index),
            Repr::Skip(s) => s.rank(member),
        }
    }

    /// The element at an ascending rank.
    pub fn at(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Pack(p) => p.iter().nth(rank),
            Repr::Skip(s) => s.by_rank(rank).map(|n| s.elem(n)),
        }
    }

    /// Elements in ascending order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        match &self.repr {
            Repr::Pack(p) => Box::new(p.iter()),
            Repr::Skip(s) => Box::new(s.walk_from(s.first(), false)),
        }
    }

    /// Calls `f` on the elements from ascending rank `start` towards the
    /// end (or the start when `rev`) until it returns false.
    pub fn walk<'a>(&'a self, start: usize, rev: bool, mut f: impl FnMut(&'a [u8], f64) -> bool) {
        match &self.repr {
            Repr::Pack(p) => {
                if rev {
                    let items: Vec<(&[u8], f64)> = p.iter().take(start + 1).collect();
                    for &(m, s) in items.iter().rev() {
                        if !f(m, s) {
                            return;
                        }
                    }
                } else {
                    for (m, s) in p.iter().skip(start) {
                        if !f(m, s) {
                            return;
                        }
                    }
                }
            }
            Repr::Skip(s) => {
                let Some(n) = s.by_rank(start) else { return };
                for (m, sc) in s.walk_from(n, rev) {
                    if !f(m, sc) {
                        return;
                    }
                }
            }
        }
    }

    /// Redis's first/last-element checks before a range search.
    fn may_hold(&self, r: &Range) -> bool {
        if r.is_empty() {
            return false;
        }
        let (Some((fm, fs)), Some((lm, ls))) = (self.at(0), self.last()) else {
            return false;
        };
        r.gte_min(lm, ls) && r.lte_max(fm, fs)
    }

    fn last(&self) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Pack(p) => p.iter().last(),
            Repr::Skip(s) => (s.tail != NIL).then(|| s.elem(s.tail)),
        }
    }

    /// Rank of the first element in range (zzlFirstInRange/zslFirstInRange).
    pub fn first_in_range(&self, r: &Range) -> Option<usize> {
        if !self.may_hold(r) {
            return None;
        }
        let i = match &self.repr {
            Repr::Pack(p) => p.iter().position(|(m, s)| r.gte_min(m, s)).unwrap_or(p.len),
            Repr::Skip(s) => s.count_prefix(|m, sc| !r.gte_min(m, sc)),
        };
        let (m, s) = self.at(i)?;
        r.lte_max(m, s).then_some(i)
    }

    /// Rank of the last element in range (zzlLastInRange/zslLastInRange).
    pub fn last_in_range(&self, r: &Range) -> Option<usize> {
        if !self.may_hold(r) {
            return None;
        }
        let n = match &self.repr {
            Repr::Pack(p) => p
                .iter()
                .enumerate()
                .filter(|(_, (m, s))| r.lte_max(m, *s))
                .last()
                .map_or(0, |(i, _)| i + 1),
            Repr::Skip(s) => s.count_prefix(|m, sc| r.lte_max(m, sc)),
        };
        let i = n.checked_sub(1)?;
        let (m, s) = self.at(i)?;
        r.gte_min(m, s).then_some(i)
    }

    /// ZCOUNT/ZLEXCOUNT: a walk in the packed form, rank arithmetic in the
    /// skiplist (O(log n)).
    pub fn count_in_range(&self, r: &Range) -> usize {
        let Some(first) = self.first_in_range(r) else {
            return 0;
        };
        match &self.repr {
            Repr::Pack(_) => {
                let mut n = 0;
                self.walk(first, false, |m, s| {
                    let inside = r.lte_max(m, s);
                    n += inside as usize;
                    inside
                });
                n
            }
            Repr::Skip(s) => {
                let len = s.len;
                let mut count = len - first;
                if let Some(last) = self.last_in_range(r) {
                    count = count.saturating_sub(len - 1 - last);
                }
                count
            }
        }
    }

    /// Removes the elements of ascending ranks `start..end`; returns how many.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Pack(p) => p.remove_ranks(start, end),
            Repr::Skip(s) => s.remove_ranks(start, end),
        }
        end - start
    }

    /// One ZSCAN step: the packed form answers everything at once (cursor 0),
    /// the skiplist walks its member table like SCAN. Returns the next cursor.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        match &self.repr {
            Repr::Pack(p) => {
                for (m, s) in p.iter() {
                    f(m, s);
                }
                0
            }
            Repr::Skip(s) => {
                let mut cursor = cursor;
                let mut found = 0;
                let mut budget = count.saturating_mul(10);
                loop {
                    cursor = s.dict.scan_bucket(cursor, |e| {
                        found += 1;
                        f(e.key(), s.hdr(node_of(e)).score);
                    });
                    budget = budget.saturating_sub(1);
                    if cursor == 0 || budget == 0 || found >= count {
                        return cursor;
                    }
                }
            }
        }
    }

    /// A uniformly random element.
    pub fn random(&self, rng: &mut impl Rng) -> Option<(&[u8], f64)> {
        if self.is_empty() {
            return None;
        }
        self.at(rng.gen_range(0..self.len()))
    }
}

impl Clone for ZSet {
    fn clone(&self) -> Self {
        match &self.repr {
            Repr::Pack(p) => ZSet {
                repr: Repr::Pack(p.clone()),
            },
            Repr::Skip(s) => {
                let mut sk = Skip::new();
                for (m, sc) in s.walk_from(s.first(), false) {
                    sk.insert(m, sc);
                }
                ZSet {
                    repr: Repr::Skip(Box::new(sk)),
                }
            }
        }
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
    }
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s)))
            .finish()
    }
}

// ---- packed encoding ----

#[derive(Clone, Default)]
struct Pack {
    buf: Vec<u8>,
    len: usize,
}

struct Found {
    start: usize,
    end: usize,
    index: usize,
    score: f64,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&b) = buf.get(*at) {
        *at += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 || shift >= 63 {
            break;
        }
        shift += 7;
    }
    v
}

/// Integral scores below 2^52 are stored as an even varint (zigzag << 1);
/// anything else as the varint 1 followed by the 8 bytes of the double.
/// -0 becomes 0, as a listpack stores it (the skiplist keeps -0).
fn put_score(out: &mut Vec<u8>, s: f64) {
    let i = s as i64;
    if i as f64 == s && i.unsigned_abs() < 1 << 52 {
        let z = ((i << 1) ^ (i >> 63)) as u64;
        put_varint(out, z << 1);
    } else {
        out.push(1);
        out.extend_from_slice(&s.to_le_bytes());
    }
}

fn get_score(buf: &[u8], at: &mut usize) -> f64 {
    let v = get_varint(buf, at);
    if v == 1 {
        let mut b = [0u8; 8];
        if let Some(src) = buf.get(*at..*at + 8) {
            b.copy_from_slice(src);
        }
        *at += 8;
        return f64::from_le_bytes(b);
    }
    let z = v >> 1;
    ((z >> 1) as i64 ^ -((z & 1) as i64)) as f64
}

struct PackIter<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (&'a [u8], f64);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        let score = get_score(self.buf, &mut self.at);
        let len = get_varint(self.buf, &mut self.at) as usize;
        let start = self.at.min(self.buf.len());
        let end = (start + len).min(self.buf.len());
        self.at = start + len;
        Some((&self.buf[start..end], score))
    }
}

impl Pack {
    fn iter(&self) -> PackIter<'_> {
        PackIter {
            buf: &self.buf,
            at: 0,
        }
    }

    fn find(&self, member: &[u8]) -> Option<Found> {
        let mut it = self.iter();
        let mut index = 0;
        loop {
            let start = it.at;
            let (m, score) = it.next()?;
            if m == member {
                return Some(Found {
                    start,
                    end: it.at,
                    index,
                    score,
                });
            }
            index += 1;
        }
    }

    fn encode(member: &[u8], score: f64) -> Vec<u8> {
        let mut e = Vec::with_capacity(member.len() + 12);
        put_score(&mut e, score);
        put_varint(&mut e, member.len() as u64);
        e.extend_from_slice(member);
        e
    }

    fn push(&mut self, member: &[u8], score: f64) {
        put_score(&mut self.buf, score);
        put_varint(&mut self.buf, member.len() as u64);
        self.buf.extend_from_slice(member);
        self.len += 1;
    }

    fn insert(&mut self, member: &[u8], score: f64) {
        let mut it = self.iter();
        let mut pos = self.buf.len();
        loop {
            let start = it.at;
            match it.next() {
                Some((m, s)) if before(s, m, score, member) => {}
                Some(_) => {
                    pos = start;
                    break;
                }
                None => break,
            }
        }
        let e = Pack::encode(member, score);
        // Grow exactly: a packed set's memory is its bytes, like a listpack.
        self.buf.reserve_exact(e.len());
        self.buf.splice(pos..pos, e);
        self.len += 1;
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let Some(f) = self.find(member) else {
            return false;
        };
        self.buf.drain(f.start..f.end);
        self.len -= 1;
        true
    }

    fn remove_ranks(&mut self, start: usize, end: usize) {
        let mut it = self.iter();
        let (mut from, mut to) = (self.buf.len(), self.buf.len());
        for i in 0..=end {
            if i == start {
                from = it.at;
            }
            if i == end {
                to = it.at;
                break;
            }
            if it.next().is_none() {
                break;
            }
        }
        self.buf.drain(from..to);
        self.len -= end - start;
    }
}

// ---- skiplist encoding ----

const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

/// One 16-byte cell of the node slab. A node is `2 + height` consecutive
/// slots: its header (`link` = backward node, `n` = height, `score` = its
/// score), its member cell (see `MemberCell`), then one slot per level
/// (`link` = forward node, `n` = span, `score` = the forward node's score).
/// With the levels inline and the next node's score cached in each level, a
/// step of the descent reads one cache line, and on a score tie the next
/// node's member is one more pointer away (two misses, as in Redis).
#[derive(Clone, Copy)]
struct Slot {
    link: u32,
    n: u32,
    score: f64,
}

const EMPTY: Slot = Slot {
    link: NIL,
    n: 0,
    score: 0.0,
};

/// Slots before a node's first level.
const LEVELS_AT: usize = 2;

/// A node's member bytes, owned by the skiplist: a `Box<[u8]>` turned into
/// its raw parts and kept in the node's second slot (pointer halves in
/// `link`/`n`, length in the bits of `score`). Keeping the bytes one
/// pointer from the node instead of behind a member table saves a cache
/// miss on every score tie of a descent.
struct MemberCell;

impl MemberCell {
    fn pack(bytes: Box<[u8]>) -> Slot {
        let len = bytes.len() as u64;
        let ptr = Box::into_raw(bytes) as *mut u8 as usize as u64;
        Slot {
            link: ptr as u32,
            n: (ptr >> 32) as u32,
            score: f64::from_bits(len),
        }
    }

    fn parts(s: Slot) -> (*mut u8, usize) {
        let ptr = (u64::from(s.n) << 32 | u64::from(s.link)) as usize;
        (ptr as *mut u8, s.score.to_bits() as usize)
    }

    /// The cell of a node that owns no bytes (the head, freed nodes).
    fn vacant() -> Slot {
        Self::pack(Box::default())
    }
}

struct Skip {
    /// Nodes by the index of their header slot; the list's head is at HEAD
    /// with MAX_LEVEL levels. Freed nodes are reused by nodes of the same
    /// height (`free[height - 1]`). Every node's member cell holds a live
    /// `MemberCell`: its bytes for a linked or unlinked node, an empty box
    /// for the head and for freed nodes.
    slots: Vec<Slot>,
    free: Vec<Vec<u32>>,
    level: usize,
    tail: u32,
    len: usize,
    dict: Dict,
}

/// Where a moving node is unlinked from and linked to (`Skip::move_paths`).
struct MovePaths {
    /// The last node before it at each level.
    from: [u32; MAX_LEVEL],
    /// The last node before its new place at each level once it is out.
    to: [u32; MAX_LEVEL],
    /// The ranks of `to`'s nodes once it is out.
    to_rank: [u32; MAX_LEVEL],
}

/// The node a member's table entry points to (only nodes are stored).
fn node_of(e: &Entry) -> u32 {
    match e.value() {
        ValueRef::Int(x) => x as u32,
        _ => HEAD,
    }
}

fn random_level(rng: &mut impl Rng) -> usize {
    let mut level = 1;
    while level < MAX_LEVEL && rng.gen::<u32>() & 0xFFFF < (0.25 * 65536.0) as u32 {
        level += 1;
    }
    level
}

impl Skip {
    fn new() -> Skip {
        let mut slots = vec![EMPTY; LEVELS_AT + MAX_LEVEL];
        slots[HEAD as usize].n = MAX_LEVEL as u32;
        slots[HEAD as usize + 1] = MemberCell::vacant();
        Skip {
            slots,
            free: Vec::new(),
            level: 1,
            tail: NIL,
            len: 0,
            dict: Dict::default(),
        }
    }

    #[inline]
    fn hdr(&self, x: u32) -> Slot {
        self.slots[x as usize]
    }

    #[inline]
    fn lv(&self, x: u32, i: usize) -> Slot {
        self.slots[x as usize + LEVELS_AT + i]
    }

    #[inline]
    fn lv_mut(&mut self, x: u32, i: usize) -> &mut Slot {
        &mut self.slots[x as usize + LEVELS_AT + i]
    }

    #[inline]
    fn member(&self, x: u32) -> &[u8] {
        let (ptr, len) = MemberCell::parts(self.slots[x as usize + 1]);
        // SAFETY: every node's member cell holds the raw parts of a live
        // `Box<[u8]>` owned by this skiplist (see `Skip::slots`); the box is
        // only taken back through `&mut self`, so it outlives this borrow.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }

    fn height(&self, x: u32) -> usize {
        self.hdr(x).n as usize
    }

    /// Takes back the box of node `x`'s member, leaving an empty one.
    fn take_member(&mut self, x: u32) -> Box<[u8]> {
        let cell = std::mem::replace(&mut self.slots[x as usize + 1], MemberCell::vacant());
        let (ptr, len) = MemberCell::parts(cell);
        // SAFETY: the cell held the raw parts of a live `Box<[u8]>` (see
        // `Skip::slots`), and it was replaced above, so the box is rebuilt
        // exactly once.
        unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) }
    }

    fn elem(&self, x: u32) -> (&[u8], f64) {
        (self.member(x), self.hdr(x).score)
    }

    /// Whether the node level `l` leads to sorts before (score, member).
    #[inline]
    fn leads_before(&self, l: Slot, score: f64, member: &[u8]) -> bool {
        l.link != NIL && (l.score < score || (l.score == score && self.member(l.link) < member))
    }

    fn first(&self) -> u32 {
        self.lv(HEAD, 0).link
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        let e = self.dict.get(member, hash_key(member))?;
        Some(self.hdr(node_of(e)).score)
    }

    fn walk_from(&self, start: u32, rev: bool) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        let mut cur = start;
        std::iter::from_fn(move || {
            if cur == NIL {
                return None;
            }
            let x = cur;
            cur = if rev {
                self.hdr(x).link
            } else {
                self.lv(x, 0).link
            };
            Some(self.elem(x))
        })
    }

    /// A new unlinked node.
    fn alloc(&mut self, bytes: Box<[u8]>, score: f64, height: usize) -> u32 {
        let hdr = Slot {
            link: NIL,
            n: height as u32,
            score,
        };
        let x = match self.free.get_mut(height - 1).and_then(Vec::pop) {
            Some(x) => {
                self.slots[x as usize] = hdr;
                x
            }
            None => {
                crate::alloc::reserve_huge(&mut self.slots, LEVELS_AT + height);
                let x = self.slots.len();
                self.slots.push(hdr);
                self.slots.push(MemberCell::vacant());
                self.slots.resize(x + LEVELS_AT + height, EMPTY);
                x as u32
            }
        };
        // The cell being replaced is vacant: its empty box owns no memory.
        self.slots[x as usize + 1] = MemberCell::pack(bytes);
        x
    }

    /// Frees an unlinked node; returns its member bytes.
    fn release(&mut self, x: u32) -> Box<[u8]> {
        let height = self.height(x);
        let bytes = self.take_member(x);
        if self.free.len() < height {
            self.free.resize_with(height, Vec::new);
        }
        self.free[height - 1].push(x);
        bytes
    }

    fn insert(&mut self, member: &[u8], score: f64) {
        let x = self.alloc(member.into(), score, random_level(&mut rand::thread_rng()));
        self.dict.insert_new(
            Entry::new(member, NewValue::Int(i64::from(x)), None, 0),
            hash_key(member),
        );
        self.link(x);
    }

    /// zslInsert: links node `x` after every node that sorts before it.
    fn link(&mut self, x: u32) {
        let (score, member) = (self.hdr(x).score, self.member(x));
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut p = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.lv(p, i);
                if !self.leads_before(l, score, member) {
                    break;
                }
                rank[i] += l.n;
                p = l.link;
            }
            update[i] = p;
        }
        self.link_at(x, update, rank);
    }

    /// Links node `x` after `update[i]` at each of its levels, `rank[i]`
    /// being the rank of `update[i]` (the head's is 0).
    fn link_at(&mut self, x: u32, mut update: [u32; MAX_LEVEL], mut rank: [u32; MAX_LEVEL]) {
        let (score, height) = (self.hdr(x).score, self.height(x));
        if height > self.level {
            for i in self.level..height {
                rank[i] = 0;
                update[i] = HEAD;
                self.lv_mut(HEAD, i).n = self.len as u32;
            }
            self.level = height;
        }
        for (i, &u) in update.iter().enumerate().take(height) {
            let ul = self.lv(u, i);
            *self.lv_mut(x, i) = Slot {
                link: ul.link,
                n: ul.n - (rank[0] - rank[i]),
                score: ul.score,
            };
            *self.lv_mut(u, i) = Slot {
                link: x,
                n: rank[0] - rank[i] + 1,
                score,
            };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(height) {
            self.lv_mut(u, i).n += 1;
        }
        self.slots[x as usize].link = if update[0] == HEAD { NIL } else { update[0] };
        let next = self.lv(x, 0).link;
        if next != NIL {
            self.slots[next as usize].link = x;
        } else {
            self.tail = x;
        }
        self.len += 1;
    }

    /// The last node of every level before node `x`; knowing `x` spares
    /// comparing its member at each of its levels.
    fn path_to(&self, x: u32, member: &[u8]) -> [u32; MAX_LEVEL] {
        let score = self.hdr(x).score;
        let mut update = [HEAD; MAX_LEVEL];
        let mut p = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(p, i);
                if l.link == x || !self.leads_before(l, score, member) {
                    break;
                }
                p = l.link;
            }
            update[i] = p;
        }
        update
    }

    /// zslDeleteNode: takes node `x` out of the list (it stays allocated).
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.lv(u, i);
            if ul.link == x {
                let xl = self.lv(x, i);
                *self.lv_mut(u, i) = Slot {
                    link: xl.link,
                    n: ul.n + xl.n - 1,
                    score: xl.score,
                };
            } else {
                self.lv_mut(u, i).n -= 1;
            }
        }
        let (next, back) = (self.lv(x, 0).link, self.hdr(x).link);
        if next != NIL {
            self.slots[next as usize].link = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.lv(HEAD, self.level - 1).link == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// The node of a member, from its table entry.
    fn node(&self, member: &[u8]) -> Option<u32> {
        self.dict.get(member, hash_key(member)).map(node_of)
    }

    /// zslUpdateScore: the node stays in place when its neighbours still
    /// bracket the new score, else it is relinked.
    fn update(&mut self, member: &[u8], new: f64) {
        let Some(x) = self.node(member) else {
            return;
        };
        let paths = self.move_paths(x, member, new);
        let (back, next) = (self.hdr(x).link, self.lv(x, 0));
        let stays = (back == NIL || before(self.hdr(back).score, self.member(back), new, member))
            && (next.link == NIL || before(new, member, next.score, self.member(next.link)));
        if stays {
            self.slots[x as usize].score = new;
            for (i, &u) in paths.from.iter().enumerate().take(self.height(x)) {
                self.lv_mut(u, i).score = new;
            }
        } else {
            self.unlink(x, &paths.from);
            self.slots[x as usize].score = new;
            self.link_at(x, paths.to, paths.to_rank);
        }
    }

    /// For moving node `x` to score `new`, one descent finds both the path
    /// to `x` (as `path_to`) and where `x` goes once unlinked (as `link`,
    /// reading `x`'s links as if it were gone). Stepping both cursors in the
    /// same loop lets the CPU overlap their cache misses: two descents for
    /// about the latency of one (Redis's zslUpdateScore runs them in turn).
    fn move_paths(&self, x: u32, member: &[u8], new: f64) -> MovePaths {
        let old = self.hdr(x).score;
        let mut paths = MovePaths {
            from: [HEAD; MAX_LEVEL],
            to: [HEAD; MAX_LEVEL],
            to_rank: [0; MAX_LEVEL],
        };
        let (mut from, mut to) = (HEAD, HEAD);
        let (mut from_rank, mut to_rank) = (0u32, 0u32);
        for i in (0..self.level).rev() {
            let (mut from_done, mut to_done) = (false, false);
            while !(from_done && to_done) {
                if !from_done {
                    let l = self.lv(from, i);
                    if l.link != x && self.leads_before(l, old, member) {
                        from_rank += l.n;
                        from = l.link;
                    } else {
                        from_done = true;
                    }
                }
                if !to_done {
                    let mut l = self.lv(to, i);
                    if l.link == x {
                        let xl = self.lv(x, i);
                        l = Slot {
                            link: xl.link,
                            n: l.n + xl.n,
                            score: xl.score,
                        };
                    }
                    if self.leads_before(l, new, member) {
                        to_rank += l.n;
                        to = l.link;
                    } else {
                        to_done = true;
                    }
                }
            }
            paths.from[i] = from;
            paths.to[i] = to;
            paths.to_rank[i] = to_rank;
        }
        // Ranks were counted with `x` in the list; nodes after it move up one.
        let x_rank = from_rank + 1;
        for r in &mut paths.to_rank[..self.level] {
            if *r > x_rank {
                *r -= 1;
            }
        }
        paths
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let Some(e) = self.dict.remove(member, hash_key(member)) else {
            return false;
        };
        let x = node_of(&e);
        let update = self.path_to(x, member);
        self.unlink(x, &update);
        self.release(x);
        true
    }

    /// Number of leading elements for which `pred` holds, found by the
    /// skiplist descent (pred must hold for a prefix of the order).
    fn count_prefix(&self, pred: impl Fn(&[u8], f64) -> bool) -> usize {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.link == NIL || !pred(self.member(l.link), l.score) {
                    break;
                }
                rank += l.n as usize;
                x = l.link;
            }
        }
        rank
    }

    fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        let n = self.count_prefix(|m, s| s < score || (s == score && m <= member));
        n.checked_sub(1)
    }

    /// The node at a 0-based rank.
    fn by_rank(&self, rank: usize) -> Option<u32> {
        if rank >= self.len {
            return None;
        }
        let target = rank + 1;
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.link != NIL && traversed + l.n as usize <= target {
                    traversed += l.n as usize;
                    x = l.link;
                } else {
                    break;
                }
            }
            if traversed == target {
                return Some(x);
            }
        }
        None
    }

    fn remove_ranks(&mut self, start: usize, end: usize) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.link != NIL && traversed + (l.n as usize) <= start {
                    traversed += l.n as usize;
                    x = l.link;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let mut x = self.lv(x, 0).link;
        for _ in start..end {
            if x == NIL {
                break;
            }
            let next = self.lv(x, 0).link;
            self.unlink(x, &update);
            let member = self.release(x);
            self.dict.remove(&member, hash_key(&member));
            x = next;
        }
    }
}

impl Drop for Skip {
    fn drop(&mut self) {
        let mut x = self.first();
        while x != NIL {
            let next = self.lv(x, 0).link;
            drop(self.take_member(x));
            x = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        entries: 128,
        value: 64,
    };
    const TINY: Limits = Limits {
        entries: 0,
        value: 64,
    };

    /// Every level's span and cached forward score agree with the list.
    fn check_links(s: &Skip) {
        let mut rank = std::collections::HashMap::from([(HEAD, 0u32)]);
        let (mut x, mut r) = (s.first(), 1);
        while x != NIL {
            rank.insert(x, r);
            (x, r) = (s.lv(x, 0).link, r + 1);
        }
        for i in 0..s.level {
            let mut x = HEAD;
            loop {
                let l = s.lv(x, i);
                if l.link == NIL {
                    break;
                }
                assert_eq!(l.score.to_bits(), s.hdr(l.link).score.to_bits());
                assert_eq!(rank[&x] + l.n, rank[&l.link]);
                x = l.link;
            }
        }
    }

    fn check(z: &ZSet, model: &std::collections::BTreeMap<Vec<u8>, f64>) {
        let mut sorted: Vec<(Vec<u8>, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
        sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        if let Repr::Skip(s) = &z.repr {
            check_links(s);
        }
        let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(got, sorted);
        assert_eq!(z.len(), sorted.len());
        for (i, (m, s)) in sorted.iter().enumerate() {
            assert_eq!(z.rank(m), Some(i));
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.at(i).map(|(m, _)| m.to_vec()), Some(m.clone()));
        }
    }

    #[test]
    fn both_encodings_keep_order_rank_and_scores() {
        for limits in [SMALL, TINY] {
            let mut z = ZSet::new();
            let mut model = std::collections::BTreeMap::new();
            let mut rng = rand::thread_rng();
            for step in 0..3000 {
                let m = format!("m{}", rng.gen_range(0..200)).into_bytes();
                let s = [0.0, 1.0, -1.5, 1e300, -3.0, 7.0, 0.1][rng.gen_range(0..7)];
                match (z.score(&m), rng.gen_range(0..3)) {
                    (None, _) => {
                        z.insert(&m, s, limits);
                        model.insert(m, s);
                    }
                    (Some(_), 0) => {
                        z.update(&m, s);
                        model.insert(m, s);
                    }
                    (Some(_), _) => {
                        assert!(z.remove(&m));
                        model.remove(&m);
                    }
                }
                if step % 500 == 0 {
                    check(&z, &model);
                }
            }
            check(&z, &model);
            let n = z.len();
            assert_eq!(z.remove_ranks(1, 4), 3);
            assert_eq!(z.len(), n - 3);
        }
    }

    #[test]
    fn skiplist_score_updates_in_place_and_relinked() {
        let mut z = ZSet::new();
        let mut model = std::collections::BTreeMap::new();
        for i in 0..300u32 {
            let m = format!("m{i:03}").into_bytes();
            z.insert(&m, f64::from(i * 10), TINY);
            model.insert(m, f64::from(i * 10));
        }
        let mut rng = rand::thread_rng();
        for step in 0..6000 {
            let i = rng.gen_range(0..300);
            let m = format!("m{i:03}").into_bytes();
            let old = model[&m];
            // A nudge that mostly keeps the node between its neighbours, a
            // jump anywhere, or a jump onto a few crowded scores (ties).
            let new = match rng.gen_range(0..10) {
                0..=5 => old + 1.0,
                6..=7 => f64::from(rng.gen_range(0..4000)),
                _ => f64::from(rng.gen_range(0..4)) * 1000.0,
            };
            z.update(&m, new);
            model.insert(m, new);
            if step % 500 == 0 {
                check(&z, &model);
            }
        }
        check(&z, &model);
    }

    /// Members live in boxes the skiplist owns through raw parts: dropping
    /// a set, removing members and reusing freed nodes must free each box
    /// exactly once. Leaked boxes would show in the allocator's count (other
    /// tests run alongside, hence the margin: a leak here is ~40 MB).
    #[test]
    fn skiplist_frees_every_member() {
        let member = |i: usize| format!("{i:0200}").into_bytes();
        let before = crate::alloc::used_memory();
        for _ in 0..10 {
            let mut z = ZSet::new();
            for i in 0..20_000 {
                z.insert(&member(i), (i % 7) as f64, TINY);
            }
            for i in (0..20_000).step_by(2) {
                assert!(z.remove(&member(i)));
            }
            for i in (0..20_000).step_by(2) {
                z.insert(&member(i), 1.0, TINY);
            }
            assert_eq!(z.remove_ranks(0, 5_000), 5_000);
            let copy = z.clone();
            assert_eq!(copy, z);
        }
        let grown = crate::alloc::used_memory().saturating_sub(before);
        assert!(grown < 16 << 20, "{grown} bytes still allocated");
    }

    #[test]
    fn packed_scores_round_trip() {
        for s in [
            0.0,
            1.0,
            -1.0,
            1.5,
            4503599627370496.0,
            -1e300,
            f64::INFINITY,
            0.1,
        ] {
            let mut b = Vec::new();
            put_score(&mut b, s);
            let mut at = 0;
            assert_eq!(get_score(&b, &mut at).to_bits(), s.to_bits());
            assert_eq!(at, b.len());
        }
    }

    #[test]
    fn converts_past_the_limits() {
        let mut z = ZSet::new();
        z.insert(
            b"a",
            1.0,
            Limits {
                entries: 1,
                value: 64,
            },
        );
        assert_eq!(z.encoding(), "listpack");
        z.insert(
            b"b",
            2.0,
            Limits {
                entries: 1,
                value: 64,
            },
        );
        assert_eq!(z.encoding(), "skiplist");
        let r = Range::Score {
            min: 1.0,
            minex: true,
            max: f64::INFINITY,
            maxex: false,
        };
        assert_eq!(z.first_in_range(&r), Some(1));
        assert_eq!(z.count_in_range(&r), 1);
    }
}
