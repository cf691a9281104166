//! Scalable Bloom filters laid out as RedisBloom lays them out, so that the
//! same item sets the same bits: a chain of sub-filters ("links"), each sized
//! for its capacity and error rate, items hashed once with MurmurHash64A into
//! two 64-bit values and probed by double hashing (`a + i*b mod bits`).
//! When the newest link holds `capacity` items, a scaling filter appends a
//! link `expansion` times larger with half the error rate, so the chain's
//! overall false-positive rate stays below the requested one.

/// ln(2)^2 and ln(2) with RedisBloom's digits, so sizes and hash counts match.
const LN2_SQUARED: f64 = 0.480453013918201;
#[allow(clippy::approx_constant)]
const LN2: f64 = 0.693147180559945;
/// Each new link halves the error rate of the one before it.
const TIGHTENING: f64 = 0.5;
/// No single link may exceed this many bytes: a huge capacity or expansion is
/// refused rather than allowed to exhaust memory.
const MAX_LINK_BYTES: u64 = 1 << 30;
/// Fixed bookkeeping RedisBloom counts in BF.INFO Size: the chain header and
/// one descriptor per link, on top of the bit arrays (a default filter: 48 +
/// 64 + 144 = the 256 bytes RedisBloom's RESP3 test expects).
const CHAIN_OVERHEAD: u64 = 48;
const LINK_OVERHEAD: u64 = 64;

/// An item's two hashes (RedisBloom's `bloom_hashval` with 64-bit hashing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hash {
    a: u64,
    b: u64,
}

impl Hash {
    pub fn of(item: &[u8]) -> Hash {
        let a = murmur64a(item, 0xc6a4_a793_5bd1_e995);
        Hash {
            a,
            b: murmur64a(item, a),
        }
    }
}

/// Austin Appleby's MurmurHash64A (little-endian reads).
fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let mut word = [0u8; 8];
        word.copy_from_slice(block);
        let mut k = u64::from_le_bytes(word).wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate() {
            h ^= (byte as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// One fixed-size Bloom filter of the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// Items this link was sized for (RedisBloom's `entries`).
    pub capacity: u64,
    pub error: f64,
    /// Bits per entry: -ln(error) / ln(2)^2.
    pub bpe: f64,
    pub hashes: u32,
    /// Items added to this link (RedisBloom's link `size`).
    pub items: u64,
    /// The bit array; bit x is bit x%8 of byte x/8. Its length is a multiple
    /// of 8 bytes.
    pub bits: Box<[u8]>,
}

impl Link {
    /// A link for `capacity` items at `error`, sized as RedisBloom sizes it
    /// without rounding to a power of two; None past MAX_LINK_BYTES or when
    /// the memory cannot be had.
    pub fn new(capacity: u64, error: f64) -> Option<Link> {
        if capacity == 0 || !(error > 0.0 && error < 1.0) {
            return None;
        }
        let bpe = (error.ln() / LN2_SQUARED).abs();
        let wanted = capacity as f64 * bpe;
        if wanted >= (MAX_LINK_BYTES * 8) as f64 {
            return None;
        }
        let nbits = (wanted as u64).max(1);
        let bytes = nbits.div_ceil(64) * 8;
        let mut bits = Vec::new();
        bits.try_reserve_exact(usize::try_from(bytes).ok()?).ok()?;
        bits.resize(bytes as usize, 0);
        Some(Link {
            capacity,
            error,
            bpe,
            hashes: (LN2 * bpe).ceil() as u32,
            items: 0,
            bits: bits.into_boxed_slice(),
        })
    }

    pub fn nbits(&self) -> u64 {
        self.bits.len() as u64 * 8
    }

    fn positions(&self, h: Hash) -> impl Iterator<Item = (usize, u8)> {
        let nbits = self.nbits();
        (0..self.hashes as u64).map(move |i| {
            let x = h.a.wrapping_add(i.wrapping_mul(h.b)) % nbits;
            ((x >> 3) as usize, 1u8 << (x & 7))
        })
    }

    pub fn contains(&self, h: Hash) -> bool {
        self.positions(h)
            .all(|(byte, mask)| self.bits[byte] & mask != 0)
    }

    /// Sets the item's bits; whether any was clear.
    fn insert(&mut self, h: Hash) -> bool {
        let mut changed = false;
        for (byte, mask) in self.positions(h) {
            changed |= self.bits[byte] & mask == 0;
            self.bits[byte] |= mask;
        }
        changed
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bloom {
    links: Vec<Link>,
    /// Items added to the whole chain (BF.CARD).
    items: u64,
    /// Growth factor of each new link; kept for NONSCALING filters too
    /// (RedisBloom stores it), though they never use it.
    expansion: u32,
    scaling: bool,
}

/// Why an item could not be added.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    /// A NONSCALING filter already holds its capacity.
    Full,
    /// The next link would be too large.
    NoMemory,
}

impl Bloom {
    /// A chain with its first link. A scaling chain starts at half the
    /// requested error rate, leaving room for the links it will add; a
    /// NONSCALING one uses the rate as given. None if the link cannot be made.
    pub fn new(error: f64, capacity: u64, expansion: u32, scaling: bool) -> Option<Bloom> {
        let first = if scaling { error * TIGHTENING } else { error };
        Some(Bloom {
            links: vec![Link::new(capacity, first)?],
            items: 0,
            expansion,
            scaling,
        })
    }

    pub fn contains(&self, item: &[u8]) -> bool {
        let h = Hash::of(item);
        self.links.iter().rev().any(|l| l.contains(h))
    }

    /// Adds `item`: Ok(true) if it was new, Ok(false) if some link already
    /// reports it present (it is then not counted again).
    pub fn add(&mut self, item: &[u8]) -> Result<bool, AddError> {
        let h = Hash::of(item);
        if self.links.iter().rev().any(|l| l.contains(h)) {
            return Ok(false);
        }
        let last = self.links.last().ok_or(AddError::NoMemory)?;
        if last.items >= last.capacity {
            if !self.scaling {
                return Err(AddError::Full);
            }
            let capacity = last
                .capacity
                .checked_mul(self.expansion as u64)
                .ok_or(AddError::NoMemory)?;
            let link = Link::new(capacity, last.error * TIGHTENING).ok_or(AddError::NoMemory)?;
            self.links.push(link);
        }
        let last = self.links.last_mut().ok_or(AddError::NoMemory)?;
        if !last.insert(h) {
            return Ok(false);
        }
        last.items += 1;
        self.items += 1;
        Ok(true)
    }

    /// Total capacity of all links (BF.INFO Capacity).
    pub fn capacity(&self) -> u64 {
        self.links.iter().map(|l| l.capacity).sum()
    }

    /// Bytes RedisBloom reports as the filter's size (BF.INFO Size).
    pub fn size(&self) -> u64 {
        CHAIN_OVERHEAD
            + self
                .links
                .iter()
                .map(|l| LINK_OVERHEAD + l.bits.len() as u64)
                .sum::<u64>()
    }

    pub fn links(&self) -> &[Link] {
        &self.links
    }

    pub fn items(&self) -> u64 {
        self.items
    }

    /// The growth factor, None for a NONSCALING filter.
    pub fn expansion(&self) -> Option<u32> {
        self.scaling.then_some(self.expansion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts RedisBloom's own tests expect: they depend on every bit the
    /// hash sets, since an item whose bits are all set already is not added.
    #[test]
    fn hashing_matches_redisbloom() {
        let mut b = Bloom::new(0.01, 10, 2, true).unwrap();
        for i in 0..100 {
            b.add(i.to_string().as_bytes()).unwrap();
        }
        let per_link: Vec<u64> = b.links().iter().map(|l| l.items).collect();
        assert_eq!((b.items(), per_link), (99, vec![10, 20, 40, 29]));

        let mut b = Bloom::new(0.001, 100, 2, true).unwrap();
        for i in 0..4000 {
            b.add(i.to_string().as_bytes()).unwrap();
        }
        assert_eq!(b.items(), 3997);
        assert_eq!(b.links().last().map(|l| l.items), Some(897));

        for (expansion, links) in [(1, 23), (2, 5), (4, 4)] {
            let mut b = Bloom::new(0.01, 4, expansion, true).unwrap();
            for i in 0..100 {
                b.add(i.to_string().as_bytes()).unwrap();
            }
            assert_eq!(b.links().len(), links, "expansion {expansion}");
        }

        let mut b = Bloom::new(0.001, 50000, 2, true).unwrap();
        assert_eq!(b.add(b"foo"), Ok(true));
        let added: Vec<_> = [&b"foo"[..], b"bar", b"baz"].map(|i| b.add(i)).into();
        assert_eq!(added, [Ok(false), Ok(true), Ok(true)]);
    }

    /// Sizes RedisBloom's own tests expect (bytes, hashes per link) for
    /// BF.RESERVE bf 0.01 10 followed by 100 adds, and BF.INSERT with
    /// ERROR 0.001 CAPACITY 50000.
    #[test]
    fn link_sizes_match_redisbloom() {
        let expect = [
            (10, 0.005, 16, 8),
            (20, 0.0025, 32, 9),
            (40, 0.00125, 72, 10),
            (80, 0.000625, 160, 11),
            (50000, 0.0005, 98880, 11),
            (100, 0.0005, 200, 11),
            (3200, 1.5625e-05, 9216, 16),
        ];
        for (cap, err, bytes, hashes) in expect {
            let l = Link::new(cap, err).unwrap();
            assert_eq!((l.bits.len(), l.hashes), (bytes, hashes), "{cap} {err}");
        }
        // In general: the formula's bits, rounded up to the next 64-bit word.
        for cap in [1, 7, 100, 12345, 1_000_000] {
            for err in [0.5, 0.1, 0.01, 0.001, 1e-6] {
                let l = Link::new(cap, err).unwrap();
                let formula = cap as f64 * -err.ln() / std::f64::consts::LN_2.powi(2);
                let bits = l.nbits() as f64;
                assert!(
                    bits >= formula.floor() && bits < formula + 64.0,
                    "{cap} {err}"
                );
            }
        }
    }

    #[test]
    fn scaling_chain_grows_and_tightens() {
        let mut b = Bloom::new(0.01, 10, 2, true).unwrap();
        for i in 0..100 {
            b.add(format!("{i}").as_bytes()).unwrap();
        }
        let caps: Vec<u64> = b.links().iter().map(|l| l.capacity).collect();
        assert_eq!(caps, [10, 20, 40, 80]);
        let errs: Vec<f64> = b.links().iter().map(|l| l.error).collect();
        assert_eq!(errs, [0.005, 0.0025, 0.00125, 0.000625]);
        assert_eq!(b.items(), b.links().iter().map(|l| l.items).sum::<u64>());
        assert!(b.items() <= 100 && b.items() >= 95);
        assert_eq!(b.capacity(), 150);
        for i in 0..100 {
            assert!(b.contains(format!("{i}").as_bytes()));
        }
    }

    #[test]
    fn nonscaling_fills_up() {
        let mut b = Bloom::new(0.01, 3, 2, false).unwrap();
        assert_eq!(b.links()[0].error, 0.01);
        for i in 0..3 {
            assert_eq!(b.add(&[i]), Ok(true));
        }
        assert_eq!(b.add(&[0]), Ok(false));
        assert_eq!(b.add(b"extra"), Err(AddError::Full));
        assert_eq!(b.expansion(), None);
        assert_eq!(b.items(), 3);
    }

    #[test]
    fn oversized_links_are_refused() {
        assert!(Link::new(1 << 40, 1e-9).is_none());
        assert!(Link::new(0, 0.1).is_none());
        assert!(Link::new(10, 1.0).is_none());
        // The second link would need 2^31 items at 2.5e-13: about 15 GB.
        let mut b = Bloom::new(1e-12, 1, 1 << 31, true).unwrap();
        assert_eq!(b.add(b"a"), Ok(true));
        assert_eq!(b.add(b"b"), Err(AddError::NoMemory));
        assert_eq!((b.items(), b.links().len()), (1, 1));
    }

    /// The false-positive rate stays within the requested error rate, with no
    /// false negatives, both past capacity (scaling) and at capacity
    /// (NONSCALING), over a million inserts.
    #[test]
    fn false_positive_rate_one_million() {
        const N: u64 = 1_000_000;
        const PROBES: u64 = 1_000_000;
        for (scaling, capacity) in [(true, 100_000), (false, N)] {
            let error = 0.01;
            let mut b = Bloom::new(error, capacity, 2, scaling).unwrap();
            for i in 0..N {
                b.add(format!("in:{i}").as_bytes()).unwrap();
            }
            for i in 0..N {
                assert!(
                    b.contains(format!("in:{i}").as_bytes()),
                    "false negative {i}"
                );
            }
            let fp = (0..PROBES)
                .filter(|i| b.contains(format!("out:{i}").as_bytes()))
                .count() as f64;
            let rate = fp / PROBES as f64;
            assert!(rate <= error, "scaling={scaling}: fpr {rate}");
            // Not absurdly below either: the filter is not oversized.
            assert!(rate > error / 50.0, "scaling={scaling}: fpr {rate}");
            if scaling {
                assert!(b.links().len() > 1);
            }
        }
    }
}
