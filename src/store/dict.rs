//! The keyspace hash table: chained buckets, a power-of-two table, entries
//! linked through their own blocks (see `entry.rs`), so a key costs one
//! bucket pointer plus its block. Chaining (rather than open addressing) is
//! what lets SCAN keep Redis's guarantee: with a reverse-binary cursor every
//! key present for the whole scan is returned even if the table grows or
//! shrinks between calls.

use super::entry::Entry;
use rand::Rng;

#[derive(Default)]
pub struct Dict {
    buckets: Vec<Option<Entry>>,
    len: usize,
    volatile: usize,
    /// Reverse-binary cursor of the background expiry walk.
    pub expire_cursor: u64,
}

/// Outcome of a lookup that removes the key if its time has passed.
pub enum Live<'a> {
    Found(&'a mut Entry),
    Missing,
    Expired,
}

impl Dict {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keys with an expiry.
    pub fn volatile(&self) -> usize {
        self.volatile
    }

    pub fn capacity(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    fn index(&self, hash: u64) -> usize {
        (hash as usize) & (self.buckets.len() - 1)
    }

    pub fn get(&self, key: &[u8], hash: u64) -> Option<&Entry> {
        if self.len == 0 {
            return None;
        }
        let mut cur = self.buckets[self.index(hash)].as_ref();
        while let Some(e) = cur {
            if e.key() == key {
                return Some(e);
            }
            cur = e.next().as_ref();
        }
        None
    }

    /// The link (bucket slot or `next` field) that holds `key`, if present.
    fn link_of(&mut self, key: &[u8], hash: u64) -> Option<*mut Option<Entry>> {
        if self.len == 0 {
            return None;
        }
        let idx = self.index(hash);
        let mut link: *mut Option<Entry> = &mut self.buckets[idx];
        // SAFETY: `link` always points at a live slot owned by this dict, and
        // &mut self gives exclusive access to the whole chain.
        unsafe {
            loop {
                match &mut *link {
                    None => return None,
                    Some(e) if e.key() == key => return Some(link),
                    Some(e) => link = e.next_mut(),
                }
            }
        }
    }

    pub fn get_mut(&mut self, key: &[u8], hash: u64) -> Option<&mut Entry> {
        let link = self.link_of(key, hash)?;
        // SAFETY: link_of returned a slot holding Some; the borrow is tied to &mut self.
        unsafe { (*link).as_mut() }
    }

    /// Looks `key` up, deleting it first if it expired at or before `now`.
    pub fn get_live(&mut self, key: &[u8], hash: u64, now: i64) -> Live<'_> {
        let Some(link) = self.link_of(key, hash) else {
            return Live::Missing;
        };
        // SAFETY: as in get_mut.
        unsafe {
            let expired = (*link).as_ref().is_some_and(|e| e.is_expired(now));
            if expired {
                drop(self.unlink(link));
                return Live::Expired;
            }
            match (*link).as_mut() {
                Some(e) => Live::Found(e),
                None => Live::Missing,
            }
        }
    }

    /// Detaches the entry at `link` from its chain.
    unsafe fn unlink(&mut self, link: *mut Option<Entry>) -> Entry {
        let mut entry = match (*link).take() {
            Some(e) => e,
            None => unreachable!("unlink of an empty slot"),
        };
        *link = entry.next_mut().take();
        self.len -= 1;
        if entry.has_expire() {
            self.volatile -= 1;
        }
        entry
    }

    pub fn remove(&mut self, key: &[u8], hash: u64) -> Option<Entry> {
        let link = self.link_of(key, hash)?;
        // SAFETY: link_of returned a slot holding Some.
        let e = unsafe { self.unlink(link) };
        self.maybe_shrink();
        Some(e)
    }

    /// Inserts `entry`, which must not be present (callers remove first).
    pub fn insert_new(&mut self, mut entry: Entry, hash: u64) {
        if self.len >= self.buckets.len() {
            self.resize((self.len + 1).next_power_of_two().max(4));
        }
        if entry.has_expire() {
            self.volatile += 1;
        }
        let idx = self.index(hash);
        *entry.next_mut() = self.buckets[idx].take();
        self.buckets[idx] = Some(entry);
        self.len += 1;
    }

    /// Inserts or replaces; returns the previous entry.
    pub fn replace(&mut self, entry: Entry, hash: u64) -> Option<Entry> {
        // SAFETY: link_of returned a slot holding Some.
        let old = self
            .link_of(entry.key(), hash)
            .map(|link| unsafe { self.unlink(link) });
        self.insert_new(entry, hash);
        old
    }

    /// Rebuilds the entry for `key` with `f` (used when its block must change
    /// size). Returns false if the key is absent.
    pub fn rebuild(&mut self, key: &[u8], hash: u64, f: impl FnOnce(Entry) -> Entry) -> bool {
        let Some(link) = self.link_of(key, hash) else {
            return false;
        };
        // SAFETY: link_of returned a slot holding Some.
        let old = unsafe { self.unlink(link) };
        let new = f(old);
        self.insert_new(new, hash);
        true
    }

    fn maybe_shrink(&mut self) {
        let cap = self.buckets.len();
        if cap > 4 && self.len * 10 < cap {
            self.resize(self.len.next_power_of_two().max(4));
        }
    }

    fn resize(&mut self, new_cap: usize) {
        let old = std::mem::take(&mut self.buckets);
        self.buckets.resize_with(new_cap, || None);
        for mut slot in old {
            while let Some(mut e) = slot {
                slot = e.next_mut().take();
                let idx = self.index(super::hash_key(e.key()));
                *e.next_mut() = self.buckets[idx].take();
                self.buckets[idx] = Some(e);
            }
        }
    }

    pub fn clear(&mut self) {
        for slot in self.buckets.iter_mut() {
            let mut cur = slot.take();
            while let Some(mut e) = cur {
                cur = e.next_mut().take();
            }
        }
        self.buckets = Vec::new();
        self.len = 0;
        self.volatile = 0;
        self.expire_cursor = 0;
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.buckets.iter().flat_map(|slot| {
            let mut cur = slot.as_ref();
            std::iter::from_fn(move || {
                let e = cur?;
                cur = e.next().as_ref();
                Some(e)
            })
        })
    }

    /// Visits one bucket at `cursor` and returns the next cursor (0 = done),
    /// with Redis's reverse-binary increment.
    pub fn scan_bucket<'d>(&'d self, cursor: u64, mut f: impl FnMut(&'d Entry)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut cur = self.buckets[(cursor & mask) as usize].as_ref();
        while let Some(e) = cur {
            f(e);
            cur = e.next().as_ref();
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// Removes the entries in the bucket at `cursor` for which `expired`
    /// holds; returns (next cursor, entries examined, entries removed).
    pub fn expire_bucket(
        &mut self,
        cursor: u64,
        now: i64,
        on_removed: &mut dyn FnMut(&[u8]),
    ) -> (u64, usize, usize) {
        if self.buckets.is_empty() {
            return (0, 0, 0);
        }
        let mask = (self.buckets.len() - 1) as u64;
        let (mut seen, mut removed) = (0, 0);
        let mut link: *mut Option<Entry> = &mut self.buckets[(cursor & mask) as usize];
        // SAFETY: as in link_of; unlink keeps `link` pointing at a live slot.
        unsafe {
            while let Some(e) = (*link).as_mut() {
                seen += 1;
                if e.is_expired(now) {
                    let gone = self.unlink(link);
                    on_removed(gone.key());
                    drop(gone);
                    removed += 1;
                } else {
                    link = e.next_mut();
                }
            }
        }
        let next = ((cursor | !mask).reverse_bits().wrapping_add(1)).reverse_bits();
        (next, seen, removed)
    }

    /// A random entry, close to uniform: a random bucket, then a position
    /// drawn below max(chain length, 4) that must land inside the chain, so
    /// members of long chains are not favoured less than others (chains
    /// are rarely longer than 4 at this load factor).
    pub fn random_entry(&self, rng: &mut impl Rng) -> Option<&Entry> {
        if self.len == 0 {
            return None;
        }
        let cap = self.buckets.len();
        // The table is at least 1/10 full, so this succeeds within a few
        // dozen probes; after that, take any entry of a bucket from a random
        // start so this always terminates.
        let mut idx = rng.gen_range(0..cap);
        for probe in 0.. {
            let chain = self.chain_len(idx);
            if chain > 0 {
                let pick = rng.gen_range(0..chain.max(4));
                if pick < chain || probe >= 1000 {
                    return self.chain_entry(idx, pick % chain);
                }
            }
            idx = if probe < 1000 {
                rng.gen_range(0..cap)
            } else {
                (idx + 1) % cap
            };
        }
        None
    }

    fn chain_len(&self, idx: usize) -> usize {
        let mut n = 0;
        let mut cur = self.buckets[idx].as_ref();
        while let Some(e) = cur {
            n += 1;
            cur = e.next().as_ref();
        }
        n
    }

    fn chain_entry(&self, idx: usize, mut pos: usize) -> Option<&Entry> {
        let mut cur = self.buckets[idx].as_ref();
        while let Some(e) = cur {
            if pos == 0 {
                return Some(e);
            }
            pos -= 1;
            cur = e.next().as_ref();
        }
        None
    }
}

impl Drop for Dict {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::super::entry::NewValue;
    use super::super::hash_key;
    use super::*;
    use std::collections::HashSet;

    fn put(d: &mut Dict, k: &str) {
        d.insert_new(
            Entry::new(k.as_bytes(), NewValue::Str(b"v"), None, 0),
            hash_key(k.as_bytes()),
        );
    }

    #[test]
    fn insert_get_remove_through_resizes() {
        let mut d = Dict::default();
        for i in 0..1000 {
            put(&mut d, &format!("k{}", i));
        }
        assert_eq!(d.len(), 1000);
        for i in 0..1000 {
            let k = format!("k{}", i);
            assert!(d.get(k.as_bytes(), hash_key(k.as_bytes())).is_some());
        }
        for i in 0..990 {
            let k = format!("k{}", i);
            assert!(d.remove(k.as_bytes(), hash_key(k.as_bytes())).is_some());
        }
        assert_eq!(d.len(), 10);
        assert!(d.capacity() <= 16);
        assert_eq!(d.iter().count(), 10);
    }

    #[test]
    fn scan_returns_every_stable_key_while_the_table_grows_and_shrinks() {
        let mut d = Dict::default();
        for i in 0..500 {
            put(&mut d, &format!("stable{}", i));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0u64;
        let mut step = 0;
        loop {
            cursor = d.scan_bucket(cursor, |e| {
                seen.insert(e.key().to_vec());
            });
            step += 1;
            // Grow, then shrink, the table in the middle of the scan.
            if step == 50 {
                for i in 0..5000 {
                    put(&mut d, &format!("extra{}", i));
                }
            }
            if step == 400 {
                for i in 0..5000 {
                    let k = format!("extra{}", i);
                    d.remove(k.as_bytes(), hash_key(k.as_bytes()));
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
            assert!(
                seen.contains(format!("stable{}", i).as_bytes()),
                "stable{} missed",
                i
            );
        }
    }

    #[test]
    fn expired_entries_are_reaped_by_the_bucket_walk() {
        let mut d = Dict::default();
        for i in 0..100 {
            let k = format!("t{}", i);
            d.insert_new(
                Entry::new(k.as_bytes(), NewValue::Int(1), Some(10), 0),
                hash_key(k.as_bytes()),
            );
        }
        put(&mut d, "keep");
        assert_eq!(d.volatile(), 100);
        let mut cursor = 0;
        loop {
            let (next, _, _) = d.expire_bucket(cursor, 11, &mut |_| {});
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(d.len(), 1);
        assert_eq!(d.volatile(), 0);
    }
}
