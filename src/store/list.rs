//! Lists, stored like Redis's quicklist: a deque of nodes, each node one
//! packed buffer of entries, so an element costs its bytes plus two to six
//! bytes of framing instead of an allocation of its own.
//!
//! An entry is `len` as LEB128, the bytes, then `len` as LEB128 again with its
//! bytes in reverse order (like listpack's backlen): a node can be walked in
//! both directions, so popping or reading at either end never scans a node.
//! Nodes are capped by `list-max-listpack-size` (read by the caller at the
//! time of each write), which bounds the memmove of an insertion or a pop at
//! the front of a node.

use std::collections::VecDeque;

/// Redis's cap on a node's bytes when the fill is a count of entries.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// How full a node may get: `list-max-listpack-size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Positive setting: at most this many entries (and 8 KB) per node.
    Entries(usize),
    /// Negative setting: at most this many bytes per node.
    Bytes(usize),
}

impl Fill {
    /// From the config value: -1..-5 are 4 KB..64 KB (below -5 counts as
    /// -5), positive values are entry counts.
    pub fn from_config(v: i64) -> Fill {
        if v >= 0 {
            Fill::Entries(v as usize)
        } else {
            let level = (-(v.max(-5)) - 1) as u32;
            Fill::Bytes(4096 << level)
        }
    }

    /// Whether `node` may take one more entry of `add` encoded bytes. A node
    /// always takes its first entry, however large.
    fn allows(self, node: &Node, add: usize) -> bool {
        let size = node.buf.len() + add;
        match self {
            Fill::Entries(n) => (node.count as usize) < n && size <= SIZE_SAFETY_LIMIT,
            Fill::Bytes(b) => size <= b,
        }
    }

    /// The buffer to give a node started at an end of a long list that has
    /// just filled one: pushes there will most likely fill it too, so it
    /// is allocated whole rather than grown (and copied) through every size
    /// class on the way.
    fn node_capacity(self) -> usize {
        match self {
            Fill::Entries(_) => 0,
            Fill::Bytes(b) => b,
        }
    }

    fn exceeded_by(self, node: &Node) -> bool {
        match self {
            Fill::Entries(n) => {
                node.count as usize > n.max(1) || node.buf.len() > SIZE_SAFETY_LIMIT
            }
            Fill::Bytes(b) => node.buf.len() > b,
        }
    }
}

impl Default for Fill {
    fn default() -> Fill {
        Fill::from_config(-2)
    }
}

#[derive(Clone, Default)]
struct Node {
    buf: Vec<u8>,
    count: u32,
}

fn leb_len(mut n: usize) -> usize {
    let mut k = 1;
    while n >= 0x80 {
        n >>= 7;
        k += 1;
    }
    k
}

/// The LEB128 bytes of `n` (at most 10) and how many there are.
fn leb(mut n: usize) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut k = 0;
    loop {
        let b = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out[k] = b;
            return (out, k + 1);
        }
        out[k] = b | 0x80;
        k += 1;
    }
}

fn encoded_len(data: &[u8]) -> usize {
    2 * leb_len(data.len()) + data.len()
}

/// Replaces the bytes `at` of a node's buffer with `data` framed as an
/// entry: one memmove of what follows, then the bytes written in place
/// (`Vec::splice` went through an iterator byte by byte).
fn put_framed(buf: &mut Vec<u8>, at: std::ops::Range<usize>, data: &[u8]) {
    let (head, k) = leb(data.len());
    let size = 2 * k + data.len();
    let (start, end, old_len) = (at.start, at.end, buf.len());
    let replaced = end - start;
    if size > replaced {
        buf.resize(old_len + size - replaced, 0);
        buf.copy_within(end..old_len, start + size);
    } else if size < replaced {
        buf.copy_within(end..old_len, start + size);
        buf.truncate(old_len - (replaced - size));
    }
    let entry = &mut buf[start..start + size];
    let (len_bytes, rest) = entry.split_at_mut(k);
    let (bytes, back_len) = rest.split_at_mut(data.len());
    len_bytes.copy_from_slice(&head[..k]);
    bytes.copy_from_slice(data);
    back_len.copy_from_slice(&head[..k]);
    back_len.reverse();
}

/// The entry starting at `off`: (data start, data end, next entry's offset).
#[inline]
fn read_forward(buf: &[u8], off: usize) -> (usize, usize, usize) {
    let mut len = 0usize;
    let mut shift = 0;
    let mut at = off;
    loop {
        let b = buf[at];
        at += 1;
        len |= ((b & 0x7F) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let k = at - off;
    (at, at + len, at + len + k)
}

/// The entry ending at `end`: (entry start, data start, data end).
#[inline]
fn read_backward(buf: &[u8], end: usize) -> (usize, usize, usize) {
    let mut len = 0usize;
    let mut shift = 0;
    let mut at = end;
    loop {
        at -= 1;
        let b = buf[at];
        len |= ((b & 0x7F) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let k = end - at;
    let data_start = at - len;
    (data_start - k, data_start, at)
}

impl Node {
    fn with_capacity(data: &[u8], capacity: usize) -> Node {
        let mut buf = Vec::with_capacity(encoded_len(data).max(capacity));
        put_framed(&mut buf, 0..0, data);
        Node { buf, count: 1 }
    }

    /// Byte offset of the entry at `idx` (or the end for `idx == count`),
    /// walking from the nearer end.
    fn offset_of(&self, idx: usize) -> usize {
        let count = self.count as usize;
        if idx <= count / 2 {
            let mut off = 0;
            for _ in 0..idx {
                off = read_forward(&self.buf, off).2;
            }
            off
        } else {
            let mut end = self.buf.len();
            for _ in idx..count {
                end = read_backward(&self.buf, end).0;
            }
            end
        }
    }
}

/// A list of byte strings; see the module comment for the layout.
#[derive(Clone, Default)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of nodes (DEBUG, tests).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Heap bytes used, for memory accounting.
    pub fn allocated(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>()
    }

    /// The node a push at either end starts when the end node is full.
    /// Only long lists (queues) start nodes whole: in a short list a new
    /// node may well stay nearly empty, and whole nodes would double it.
    fn next_node(&self, data: &[u8], fill: Fill) -> Node {
        const LONG_LIST_NODES: usize = 8;
        let capacity = if self.nodes.len() < LONG_LIST_NODES {
            0
        } else {
            fill.node_capacity()
        };
        Node::with_capacity(data, capacity)
    }

    pub fn push_back(&mut self, data: &[u8], fill: Fill) {
        let add = encoded_len(data);
        match self.nodes.back_mut() {
            Some(n) if fill.allows(n, add) => {
                let end = n.buf.len();
                put_framed(&mut n.buf, end..end, data);
                n.count += 1;
            }
            full => {
                // A node is done growing once it is full: drop the slack of
                // its amortised growth.
                if let Some(n) = full {
                    n.buf.shrink_to_fit();
                }
                let node = self.next_node(data, fill);
                self.nodes.push_back(node);
            }
        }
        self.len += 1;
    }

    pub fn push_front(&mut self, data: &[u8], fill: Fill) {
        let add = encoded_len(data);
        match self.nodes.front_mut() {
            Some(n) if fill.allows(n, add) => {
                put_framed(&mut n.buf, 0..0, data);
                n.count += 1;
            }
            full => {
                if let Some(n) = full {
                    n.buf.shrink_to_fit();
                }
                let node = self.next_node(data, fill);
                self.nodes.push_front(node);
            }
        }
        self.len += 1;
    }

    pub fn front(&self) -> Option<&[u8]> {
        let n = self.nodes.front()?;
        let (s, e, _) = read_forward(&n.buf, 0);
        Some(&n.buf[s..e])
    }

    pub fn back(&self) -> Option<&[u8]> {
        let n = self.nodes.back()?;
        let (_, s, e) = read_backward(&n.buf, n.buf.len());
        Some(&n.buf[s..e])
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let v = self.front()?.to_vec();
        self.remove_front(1);
        Some(v)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let v = self.back()?.to_vec();
        self.remove_back(1);
        Some(v)
    }

    /// Removes the first `n` elements (fewer if the list is shorter).
    pub fn remove_front(&mut self, mut n: usize) {
        while n > 0 {
            let Some(node) = self.nodes.front_mut() else {
                return;
            };
            let count = node.count as usize;
            if count <= n {
                n -= count;
                self.len -= count;
                self.nodes.pop_front();
            } else {
                let off = node.offset_of(n);
                node.buf.drain(..off);
                node.count -= n as u32;
                self.len -= n;
                n = 0;
            }
        }
    }

    /// Removes the last `n` elements (fewer if the list is shorter).
    pub fn remove_back(&mut self, mut n: usize) {
        while n > 0 {
            let Some(node) = self.nodes.back_mut() else {
                return;
            };
            let count = node.count as usize;
            if count <= n {
                n -= count;
                self.len -= count;
                self.nodes.pop_back();
            } else {
                let off = node.offset_of(count - n);
                node.buf.truncate(off);
                node.count -= n as u32;
                self.len -= n;
                n = 0;
            }
        }
    }

    /// The node holding element `idx` (< len) and its index inside the node,
    /// counted from the nearer end of the list.
    fn locate(&self, idx: usize) -> (usize, usize) {
        if idx < self.len / 2 {
            let mut rest = idx;
            for (i, n) in self.nodes.iter().enumerate() {
                if rest < n.count as usize {
                    return (i, rest);
                }
                rest -= n.count as usize;
            }
        } else {
            let mut from_end = self.len - idx;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                if from_end <= n.count as usize {
                    return (i, n.count as usize - from_end);
                }
                from_end -= n.count as usize;
            }
        }
        (self.nodes.len(), 0)
    }

    pub fn get(&self, idx: usize) -> Option<&[u8]> {
        if idx >= self.len {
            return None;
        }
        let (ni, local) = self.locate(idx);
        let node = self.nodes.get(ni)?;
        let (s, e, _) = read_forward(&node.buf, node.offset_of(local));
        Some(&node.buf[s..e])
    }

    /// Replaces element `idx`; false if out of range.
    pub fn set(&mut self, idx: usize, data: &[u8], fill: Fill) -> bool {
        if idx >= self.len {
            return false;
        }
        let (ni, local) = self.locate(idx);
        let Some(node) = self.nodes.get_mut(ni) else {
            return false;
        };
        let off = node.offset_of(local);
        let next = read_forward(&node.buf, off).2;
        put_framed(&mut node.buf, off..next, data);
        self.split_if_needed(ni, fill);
        true
    }

    /// Inserts `data` so that it becomes element `idx` (`idx <= len`).
    pub fn insert(&mut self, idx: usize, data: &[u8], fill: Fill) {
        if idx == 0 {
            return self.push_front(data, fill);
        }
        if idx >= self.len {
            return self.push_back(data, fill);
        }
        let (ni, local) = self.locate(idx);
        let Some(node) = self.nodes.get_mut(ni) else {
            return;
        };
        let off = node.offset_of(local);
        put_framed(&mut node.buf, off..off, data);
        node.count += 1;
        self.len += 1;
        self.split_if_needed(ni, fill);
    }

    /// Splits node `ni` in two halves if it outgrew the fill, so later
    /// insertions into it stay O(node size).
    fn split_if_needed(&mut self, ni: usize, fill: Fill) {
        let Some(node) = self.nodes.get_mut(ni) else {
            return;
        };
        if node.count < 2 || !fill.exceeded_by(node) {
            return;
        }
        let keep = node.count / 2;
        let off = node.offset_of(keep as usize);
        let rest = Node {
            buf: node.buf.split_off(off),
            count: node.count - keep,
        };
        node.count = keep;
        node.buf.shrink_to_fit();
        self.nodes.insert(ni + 1, rest);
    }

    /// Removes up to `limit` elements equal to `data` (all of them when
    /// `limit` is None), scanning from the tail if `from_tail`. Returns how
    /// many were removed.
    pub fn remove_matching(&mut self, data: &[u8], limit: Option<u64>, from_tail: bool) -> u64 {
        let mut removed = 0u64;
        let order: Vec<usize> = if from_tail {
            (0..self.nodes.len()).rev().collect()
        } else {
            (0..self.nodes.len()).collect()
        };
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for ni in order {
            if limit.is_some_and(|l| removed >= l) {
                break;
            }
            let Some(node) = self.nodes.get_mut(ni) else {
                continue;
            };
            ranges.clear();
            let mut take = |start: usize, s: usize, e: usize, next: usize| {
                if limit.is_some_and(|l| removed >= l) || &node.buf[s..e] != data {
                    return;
                }
                ranges.push((start, next));
                removed += 1;
            };
            if from_tail {
                let mut end = node.buf.len();
                while end > 0 {
                    let (start, s, e) = read_backward(&node.buf, end);
                    take(start, s, e, end);
                    end = start;
                }
                ranges.reverse();
            } else {
                let mut off = 0;
                while off < node.buf.len() {
                    let (s, e, next) = read_forward(&node.buf, off);
                    take(off, s, e, next);
                    off = next;
                }
            }
            if ranges.is_empty() {
                continue;
            }
            // Compact the survivors in one pass.
            let mut write = ranges[0].0;
            for (i, &(_, end)) in ranges.iter().enumerate() {
                let next_start = ranges.get(i + 1).map_or(node.buf.len(), |r| r.0);
                node.buf.copy_within(end..next_start, write);
                write += next_start - end;
            }
            node.buf.truncate(write);
            node.count -= ranges.len() as u32;
            self.len -= ranges.len();
        }
        self.nodes.retain(|n| n.count > 0);
        removed
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            nodes: &self.nodes,
            front: (0, 0),
            back: (
                self.nodes.len().saturating_sub(1),
                self.nodes.back().map_or(0, |n| n.buf.len()),
            ),
            remaining: self.len,
        }
    }

    /// Iterates from element `start` to the end.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        let mut it = self.iter();
        if start >= self.len {
            it.remaining = 0;
            return it;
        }
        let (ni, local) = self.locate(start);
        if let Some(node) = self.nodes.get(ni) {
            it.front = (ni, node.offset_of(local));
        }
        it.remaining = self.len - start;
        it
    }
}

impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Double-ended iterator over a list's elements.
pub struct Iter<'a> {
    nodes: &'a VecDeque<Node>,
    /// Node index and byte offset of the next element from the front.
    front: (usize, usize),
    /// Node index and end offset of the next element from the back.
    back: (usize, usize),
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let nodes = self.nodes;
        let (mut ni, mut off) = self.front;
        while off >= nodes.get(ni)?.buf.len() {
            ni += 1;
            off = 0;
        }
        let buf = &nodes.get(ni)?.buf;
        let (s, e, next) = read_forward(buf, off);
        self.front = (ni, next);
        self.remaining -= 1;
        Some(&buf[s..e])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let nodes = self.nodes;
        let (mut ni, mut end) = self.back;
        while end == 0 {
            ni = ni.checked_sub(1)?;
            end = nodes.get(ni)?.buf.len();
        }
        let buf = &nodes.get(ni)?.buf;
        let (start, s, e) = read_backward(buf, end);
        self.back = (ni, start);
        self.remaining -= 1;
        Some(&buf[s..e])
    }
}

impl<'a> ExactSizeIterator for Iter<'a> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque as Model;

    fn contents(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(|x| x.to_vec()).collect()
    }

    fn check(l: &List, m: &Model<Vec<u8>>) {
        let want: Vec<Vec<u8>> = m.iter().cloned().collect();
        assert_eq!(contents(l), want);
        let mut rev = want.clone();
        rev.reverse();
        let got: Vec<Vec<u8>> = l.iter().rev().map(|x| x.to_vec()).collect();
        assert_eq!(got, rev);
        assert_eq!(l.len(), m.len());
        assert_eq!(
            l.nodes.iter().map(|n| n.count as usize).sum::<usize>(),
            l.len
        );
        assert!(l.nodes.iter().all(|n| n.count > 0));
        for (i, v) in want.iter().enumerate() {
            assert_eq!(l.get(i), Some(&v[..]));
        }
        assert_eq!(l.get(want.len()), None);
    }

    #[test]
    fn framing_round_trips_lengths_across_leb_boundaries() {
        for n in [0usize, 1, 127, 128, 300, 16383, 16384, 70000] {
            let data = vec![b'x'; n];
            let mut buf = Vec::new();
            put_framed(&mut buf, 0..0, &data);
            assert_eq!(buf.len(), encoded_len(&data));
            let (s, e, next) = read_forward(&buf, 0);
            assert_eq!((e - s, next), (n, buf.len()));
            let (start, s2, e2) = read_backward(&buf, buf.len());
            assert_eq!((start, s2, e2), (0, s, e));
        }
    }

    #[test]
    fn fill_from_config() {
        assert_eq!(Fill::from_config(-2), Fill::Bytes(8192));
        assert_eq!(Fill::from_config(-1), Fill::Bytes(4096));
        assert_eq!(Fill::from_config(-5), Fill::Bytes(65536));
        assert_eq!(Fill::from_config(-100), Fill::Bytes(65536));
        assert_eq!(Fill::from_config(128), Fill::Entries(128));
    }

    #[test]
    fn pushes_and_pops_at_both_ends_fill_nodes() {
        let fill = Fill::Entries(4);
        let mut l = List::new();
        let mut m = Model::new();
        for i in 0..50u32 {
            let v = i.to_string().into_bytes();
            if i % 3 == 0 {
                l.push_front(&v, fill);
                m.push_front(v);
            } else {
                l.push_back(&v, fill);
                m.push_back(v);
            }
        }
        check(&l, &m);
        assert!(l.nodes.iter().all(|n| n.count <= 4));
        assert!(l.node_count() >= 13);
        assert_eq!(l.pop_front(), m.pop_front());
        assert_eq!(l.pop_back(), m.pop_back());
        check(&l, &m);
        while let Some(v) = m.pop_back() {
            assert_eq!(l.pop_back(), Some(v));
        }
        assert!(l.is_empty());
        assert_eq!(l.node_count(), 0);
        assert_eq!(l.pop_front(), None);
    }

    #[test]
    fn byte_fill_caps_node_size_and_takes_oversized_elements_alone() {
        let fill = Fill::Bytes(4096);
        let mut l = List::new();
        for _ in 0..100 {
            l.push_back(&[7u8; 100], fill);
        }
        assert!(l.nodes.iter().all(|n| n.buf.len() <= 4096));
        assert_eq!(l.node_count(), 3);
        l.push_back(&[1u8; 10000], fill);
        l.push_back(b"x", fill);
        assert_eq!(l.node_count(), 5);
        assert_eq!(l.get(100).map(|v| v.len()), Some(10000));
    }

    #[test]
    fn insert_set_and_remove_ranges_match_a_model() {
        let fill = Fill::Entries(3);
        let mut l = List::new();
        let mut m = Model::new();
        let mut seed = 12345u64;
        let mut rnd = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % n.max(1)
        };
        for step in 0..3000 {
            let v = format!("v{}", rnd(7)).into_bytes();
            match rnd(8) {
                0 => {
                    let i = rnd(m.len() + 1);
                    l.insert(i, &v, fill);
                    m.insert(i, v);
                }
                1 if !m.is_empty() => {
                    let i = rnd(m.len());
                    assert!(l.set(i, &v, fill));
                    m[i] = v;
                }
                2 => {
                    let n = rnd(4);
                    l.remove_front(n);
                    for _ in 0..n {
                        m.pop_front();
                    }
                }
                3 => {
                    let n = rnd(4);
                    l.remove_back(n);
                    for _ in 0..n {
                        m.pop_back();
                    }
                }
                4 => {
                    let limit = [None, Some(1), Some(2)][rnd(3)];
                    let tail = rnd(2) == 1;
                    let got = l.remove_matching(&v, limit, tail);
                    let mut removed = 0u64;
                    let mut keep: Vec<bool> = vec![true; m.len()];
                    let idx: Vec<usize> = if tail {
                        (0..m.len()).rev().collect()
                    } else {
                        (0..m.len()).collect()
                    };
                    for i in idx {
                        if limit.is_some_and(|x| removed >= x) {
                            break;
                        }
                        if m[i] == v {
                            keep[i] = false;
                            removed += 1;
                        }
                    }
                    let mut k = keep.iter();
                    m.retain(|_| *k.next().unwrap_or(&true));
                    assert_eq!(got, removed);
                }
                5 => {
                    let s = rnd(m.len() + 2);
                    let got: Vec<Vec<u8>> = l.iter_from(s).map(|x| x.to_vec()).collect();
                    let want: Vec<Vec<u8>> = m.iter().skip(s).cloned().collect();
                    assert_eq!(got, want);
                }
                6 => {
                    l.push_front(&v, fill);
                    m.push_front(v);
                }
                _ => {
                    l.push_back(&v, fill);
                    m.push_back(v);
                }
            }
            if step % 50 == 0 {
                check(&l, &m);
            }
        }
        check(&l, &m);
        assert!(l.nodes.iter().all(|n| n.count <= 3));
    }

    #[test]
    fn small_elements_cost_two_bytes_of_framing() {
        let mut l = List::new();
        let n = 100_000;
        for i in 0..n {
            l.push_back(format!("{:08}", i).as_bytes(), Fill::default());
        }
        let per = l.allocated() as f64 / n as f64;
        assert!(per < 10.5, "{per} bytes per 8-byte element");
        assert!(l.nodes.iter().all(|n| n.buf.len() <= 8192));
    }

    #[test]
    fn iterator_meets_in_the_middle() {
        let mut l = List::new();
        for i in 0..10u8 {
            l.push_back(&[i], Fill::Entries(3));
        }
        let mut it = l.iter();
        let mut seen = Vec::new();
        while let (Some(a), b) = (it.next(), it.next_back()) {
            seen.push(a[0]);
            if let Some(b) = b {
                seen.push(b[0]);
            }
        }
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<u8>>());
    }
}
