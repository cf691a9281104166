//! HyperLogLog in Redis's exact byte layout, so that a value written by
//! Redis and copied here with GET/SET (or the reverse) is the same sketch.
//!
//! A value is a plain string: a 16-byte header (`HYLL`, the encoding byte,
//! three unused bytes, the cached cardinality as a little-endian u64 whose
//! top bit marks the cache stale) followed by the registers, either dense
//! (16384 registers of 6 bits, packed from the least significant bit) or
//! sparse (run lengths: ZERO `00xxxxxx` for 1–64 zero registers, XZERO
//! `01xxxxxx yyyyyyyy` for 1–16384, VAL `1vvvvvxx` for 1–4 registers of value
//! 1–32). Sparse values are edited in place opcode by opcode exactly as Redis
//! does, because the resulting bytes are visible to GET. Values come from
//! clients, so every reader bounds-checks and reports [`Corrupt`].

pub const HDR_SIZE: usize = 16;
const P: u32 = 14;
const Q: usize = 64 - P as usize;
pub const REGISTERS: usize = 1 << P;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
const ENC_DENSE: u8 = 0;
const ENC_SPARSE: u8 = 1;
const HASH_SEED: u64 = 0xadc8_3b19;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The value is an HLL by its header but its registers cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash64A as Redis uses it (words read little-endian on every host).
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands in and the length of its `0...01` run
/// (1..=Q+1) in the hash bits above the index.
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, HASH_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Redis's isHLLObjectOrReply test on a string's bytes.
pub fn is_valid(b: &[u8]) -> bool {
    b.len() >= HDR_SIZE
        && &b[..4] == b"HYLL"
        && b[4] <= ENC_SPARSE
        && (b[4] != ENC_DENSE || b.len() == DENSE_SIZE)
}

/// Whether a valid HLL uses the sparse encoding.
pub fn is_sparse(b: &[u8]) -> bool {
    b[4] == ENC_SPARSE
}

/// An empty sparse HLL (one XZERO covering every register), cache valid at 0.
pub fn new() -> Vec<u8> {
    let mut h = vec![0u8; HDR_SIZE];
    h[..4].copy_from_slice(b"HYLL");
    h[4] = ENC_SPARSE;
    push_zero_run(&mut h, REGISTERS);
    h
}

/// The cached cardinality, unless the stale bit is set.
pub fn cached_count(b: &[u8]) -> Option<u64> {
    let card: [u8; 8] = b[8..HDR_SIZE].try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

pub fn set_cached_count(b: &mut [u8], card: u64) {
    b[8..HDR_SIZE].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(b: &mut [u8]) {
    b[HDR_SIZE - 1] |= 0x80;
}

// ---------------------------------------------------------------- dense

/// Register `i` of dense `regs`. The last register's second byte lies past
/// the array (Redis reads the string's NUL terminator there): it contributes
/// only bits that the mask drops, so a missing byte reads as 0.
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs[byte] as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = val as u32;
    let max = REGISTER_MAX as u32;
    regs[byte] &= !(max << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(b1) = regs.get_mut(byte + 1) {
        *b1 &= !(max >> (8 - fb)) as u8;
        *b1 |= (v >> (8 - fb)) as u8;
    }
}

/// Raises register `i` to `count`; true if it changed.
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

/// The four 6-bit registers packed in three bytes.
fn unpack4(c: &[u8]) -> [u8; 4] {
    let (a, b, d) = (c[0], c[1], c[2]);
    [
        a & 63,
        (a >> 6 | b << 2) & 63,
        (b >> 4 | d << 4) & 63,
        d >> 2,
    ]
}

fn dense_histogram(regs: &[u8], histo: &mut [u32; 64]) {
    for c in regs.chunks_exact(3) {
        for r in unpack4(c) {
            histo[r as usize] += 1;
        }
    }
}

// ---------------------------------------------------------------- sparse

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    /// Registers covered.
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    /// Bytes taken.
    fn size(self) -> usize {
        if matches!(self, Op::XZero(_)) {
            2
        } else {
            1
        }
    }
}

/// The opcode at `p` (< b.len()). An XZERO cut off by the end of the value
/// reads its second byte as 0, like Redis reading the NUL terminator.
fn op_at(b: &[u8], p: usize) -> Op {
    let x = b[p];
    if x & 0x80 != 0 {
        Op::Val(((x >> 2) & 0x1f) + 1, (x & 3) as usize + 1)
    } else if x & 0x40 != 0 {
        let lo = b.get(p + 1).copied().unwrap_or(0) as usize;
        Op::XZero((((x & 0x3f) as usize) << 8 | lo) + 1)
    } else {
        Op::Zero((x & 0x3f) as usize + 1)
    }
}

/// The opcodes of a sparse value with their byte offsets, undecoded runs
/// included (no check that they cover exactly the registers).
fn ops(b: &[u8]) -> impl Iterator<Item = (usize, Op)> + '_ {
    let mut p = HDR_SIZE;
    std::iter::from_fn(move || {
        if p >= b.len() {
            return None;
        }
        let op = op_at(b, p);
        let at = p;
        p += op.size();
        Some((at, op))
    })
}

/// Calls `f(first_register, value, run_length)` for every run of a sparse
/// value (zero runs with value 0); Corrupt unless the runs cover exactly the
/// registers.
fn walk_sparse(b: &[u8], mut f: impl FnMut(usize, u8, usize)) -> Result<(), Corrupt> {
    let mut idx = 0;
    for (_, op) in ops(b) {
        let n = op.span();
        if idx + n > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, if let Op::Val(v, _) = op { v } else { 0 }, n);
        idx += n;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len as u8 - 1)
}

/// Appends the opcode for `len` zero registers (ZERO up to 64, else XZERO).
fn push_zero_run(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        seq.push(0x40 | (l >> 8) as u8);
        seq.push((l & 0xff) as u8);
    } else {
        seq.push((len - 1) as u8);
    }
}

/// Converts a sparse value to dense in place; the header (cached count
/// included) is kept. Ok(false) if it was dense already.
pub fn to_dense(h: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if !is_sparse(h) {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&h[..HDR_SIZE]);
    dense[4] = ENC_DENSE;
    let regs = &mut dense[HDR_SIZE..];
    walk_sparse(h, |first, v, n| {
        if v != 0 {
            for i in first..first + n {
                dense_put(regs, i, v);
            }
        }
    })?;
    *h = dense;
    Ok(true)
}

/// Raises register `index` of a sparse value to `count` by editing the
/// opcode covering it, promoting to dense when the value does not fit a
/// VAL or the value would outgrow `max_bytes` (hll-sparse-max-bytes).
fn sparse_raise(
    h: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(h, index, count);
    }
    let mut prev = None;
    let mut first = 0;
    let mut found = None;
    for (at, op) in ops(h) {
        if index < first + op.span() {
            found = Some((at, op));
            break;
        }
        prev = Some(at);
        first += op.span();
    }
    let Some((p, op)) = found else {
        return Err(Corrupt);
    };
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => h[p] = val_byte(count, 1),
        _ => {
            let last = first + op.span() - 1;
            let mut seq = Vec::with_capacity(5);
            match op {
                Op::Val(cur, _) => {
                    if index != first {
                        seq.push(val_byte(cur, index - first));
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        seq.push(val_byte(cur, last - index));
                    }
                }
                _ => {
                    if index != first {
                        push_zero_run(&mut seq, index - first);
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        push_zero_run(&mut seq, last - index);
                    }
                }
            }
            let old_len = h.len();
            let new_len = old_len + seq.len() - op.size();
            if new_len > old_len && new_len > max_bytes {
                return promote(h, index, count);
            }
            // An XZERO cut off at the end is one byte short: the new
            // sequence then loses its last byte, as in Redis. (Redis leaves
            // that byte just past the string's end, where a later read of a
            // cut XZERO finds it; here such a read gives 0. Only corrupted
            // values ending in half an opcode can tell the difference.)
            let cut = (p + op.size()).min(old_len);
            h.splice(p..cut, seq);
            h.truncate(new_len);
        }
    }
    merge_adjacent_vals(h, prev.unwrap_or(HDR_SIZE));
    invalidate_cache(h);
    Ok(true)
}

/// Joins equal neighbouring VAL opcodes among the (up to five) opcodes
/// starting at `p`, the neighbourhood an update can have changed.
fn merge_adjacent_vals(h: &mut Vec<u8>, mut p: usize) {
    let mut budget = 5;
    while p < h.len() && budget > 0 {
        budget -= 1;
        let op = op_at(h, p);
        let Op::Val(v1, l1) = op else {
            p += op.size();
            continue;
        };
        if p + 1 < h.len() {
            if let Op::Val(v2, l2) = op_at(h, p + 1) {
                if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                    h[p + 1] = val_byte(v1, l1 + l2);
                    h.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
}

fn promote(h: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(h)?;
    Ok(dense_raise(&mut h[HDR_SIZE..], index, count))
}

// ---------------------------------------------------------------- API

/// Raises register `index` to `count` in whichever encoding the value has.
pub fn raise(h: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if is_sparse(h) {
        sparse_raise(h, index, count, max_bytes)
    } else {
        Ok(dense_raise(&mut h[HDR_SIZE..], index, count))
    }
}

/// Adds an element; true if a register changed. A sparse update marks the
/// cache stale itself; the caller does it for dense ones (as PFADD does once).
pub fn add(h: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    raise(h, index, count, max_bytes)
}

/// Otmar Ertl's estimator ("New cardinality estimation algorithms for
/// HyperLogLog sketches", arXiv:1702.01284) over the register histogram,
/// with Redis's operation order so the rounding is the same.
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The estimated cardinality of a valid HLL, ignoring the cache.
pub fn count(h: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    if is_sparse(h) {
        walk_sparse(h, |_, v, n| histo[v as usize] += n as u32)?;
    } else {
        dense_histogram(&h[HDR_SIZE..], &mut histo);
    }
    Ok(estimate(&histo))
}

/// Register values, one byte each: the union of several HLLs (PFCOUNT of
/// many keys, PFMERGE).
pub struct Registers(Box<[u8; REGISTERS]>);

impl Default for Registers {
    fn default() -> Self {
        Registers(Box::new([0; REGISTERS]))
    }
}

impl Registers {
    /// Takes the register-wise maximum with a valid HLL.
    pub fn merge(&mut self, h: &[u8]) -> Result<(), Corrupt> {
        let max = &mut self.0;
        if is_sparse(h) {
            walk_sparse(h, |first, v, n| {
                for r in &mut max[first..first + n] {
                    *r = (*r).max(v);
                }
            })
        } else {
            for (c, m) in h[HDR_SIZE..].chunks_exact(3).zip(max.chunks_exact_mut(4)) {
                for (r, v) in m.iter_mut().zip(unpack4(c)) {
                    *r = (*r).max(v);
                }
            }
            Ok(())
        }
    }

    pub fn count(&self) -> u64 {
        let mut histo = [0u32; 64];
        for &r in self.0.iter() {
            histo[(r & 63) as usize] += 1;
        }
        estimate(&histo)
    }

    /// Writes these values into `h`, whose own registers they already
    /// include (PFMERGE merges its destination too). A sparse `h` is raised
    /// register by register as Redis does, so it ends up with the same
    /// bytes; a dense one simply takes the maxima.
    pub fn store_into(&self, h: &mut Vec<u8>, max_bytes: usize) -> Result<(), Corrupt> {
        for (i, &v) in self.0.iter().enumerate() {
            if !is_sparse(h) {
                let dense = h[HDR_SIZE..].chunks_exact_mut(3);
                for (c, r) in dense.zip(self.0.chunks_exact(4)) {
                    c[0] = r[0] | r[1] << 6;
                    c[1] = r[1] >> 2 | r[2] << 4;
                    c[2] = r[2] >> 4 | r[3] << 2;
                }
                break;
            }
            if v != 0 {
                raise(h, i, v, max_bytes)?;
            }
        }
        invalidate_cache(h);
        Ok(())
    }
}

/// All register values of a dense HLL (PFDEBUG GETREG).
pub fn dense_registers(h: &[u8]) -> impl Iterator<Item = u8> + '_ {
    h[HDR_SIZE..].chunks_exact(3).flat_map(unpack4)
}

/// PFDEBUG DECODE's text for a sparse value: `z:N`, `Z:N`, `v:VALUE,N`.
pub fn decode(h: &[u8]) -> String {
    let parts: Vec<String> = ops(h)
        .map(|(_, op)| match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        })
        .collect();
    parts.join(" ")
}

/// PFSELFTEST: dense register packing against a plain byte array, then the
/// estimate's error for 1..10M distinct elements, in sparse and dense form at
/// once (they must agree while the sparse one stays sparse).
pub fn self_test(max_bytes: usize) -> Result<(), String> {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut plain = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, p) in plain.iter_mut().enumerate() {
            *p = rng.gen::<u8>() & REGISTER_MAX;
            dense_put(&mut dense[HDR_SIZE..], i, *p);
        }
        for (i, &want) in plain.iter().enumerate() {
            let got = dense_get(&dense[HDR_SIZE..], i);
            if got != want {
                return Err(format!(
                    "TESTFAILED Register {i} should be {want} but is {got}"
                ));
            }
        }
    }
    dense[HDR_SIZE..].fill(0);
    let mut sparse = new();
    let rel_err = 1.04 / (REGISTERS as f64).sqrt();
    let seed: u64 = rng.gen();
    let mut checkpoint = 1u64;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, run) = pattern(&ele);
        dense_raise(&mut dense[HDR_SIZE..], index, run);
        add(&mut sparse, &ele, max_bytes).map_err(|_| "TESTFAILED corrupted HLL".to_string())?;
        if j != checkpoint {
            continue;
        }
        if j < max_bytes as u64 / 2 && !is_sparse(&sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let estimate = count(&dense).map_err(|_| "TESTFAILED corrupted HLL".to_string())?;
        if count(&sparse) != Ok(estimate) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let max_err = if j == 10 {
            1
        } else {
            (rel_err * 6.0 * j as f64).ceil() as u64
        };
        let abs_err = estimate.abs_diff(j);
        if abs_err > max_err {
            return Err(format!(
                "TESTFAILED Too big error. card:{j} abserr:{abs_err}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 3000;

    fn with_elements(n: u64, from: u64) -> Vec<u8> {
        let mut h = new();
        for i in from..from + n {
            add(&mut h, &i.to_le_bytes(), MAX).unwrap();
        }
        h
    }

    #[test]
    fn bytes_match_redis() {
        // PFADD h a b c on Redis 7.0, then GET h.
        let mut h = new();
        for e in [b"a", b"b", b"c"] {
            assert_eq!(add(&mut h, e, MAX), Ok(true));
        }
        let mut want = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
        want.extend_from_slice(b"\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a");
        assert_eq!(h, want);
        assert_eq!(decode(&h), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
        assert_eq!(count(&h), Ok(3));
        assert_eq!(add(&mut h, b"a", MAX), Ok(false));
    }

    #[test]
    fn murmur_is_redis_murmur64a() {
        // PFADD x a on Redis: PFDEBUG DECODE x is "Z:12711 v:2,1 Z:3672".
        assert_eq!(pattern(b"a"), (12711, 2));
        assert_eq!(murmur64a(b"", 0), 0);
    }

    #[test]
    fn dense_registers_pack_six_bits() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        for i in 0..REGISTERS {
            dense_put(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8);
        }
        assert_eq!(&regs[..3], &[0b0100_0000, 0b0010_0000, 0b0000_1100]);
        let mut h = vec![0u8; HDR_SIZE];
        h.extend_from_slice(&regs);
        assert!(dense_registers(&h).eq((0..REGISTERS).map(|i| (i % 64) as u8)));
    }

    #[test]
    fn sparse_and_dense_agree_and_promote() {
        let mut sparse = new();
        let mut dense = new();
        to_dense(&mut dense).unwrap();
        for i in 0..5000u64 {
            let e = i.to_be_bytes();
            let a = add(&mut sparse, &e, MAX).unwrap();
            let b = add(&mut dense, &e, MAX).unwrap();
            assert_eq!(a, b, "element {i}");
            if i % 97 == 0 {
                assert_eq!(count(&sparse), count(&dense));
            }
            if is_sparse(&sparse) {
                assert!(sparse.len() <= MAX);
            }
        }
        assert!(!is_sparse(&sparse));
        assert_eq!(&sparse[HDR_SIZE..], &dense[HDR_SIZE..]);
    }

    #[test]
    fn a_run_longer_than_a_val_promotes_to_dense() {
        let mut h = with_elements(10, 0);
        let before = count(&h).unwrap();
        assert_eq!(raise(&mut h, 5, 40, MAX), Ok(true));
        assert!(!is_sparse(&h) && is_valid(&h));
        assert_eq!(dense_registers(&h).nth(5), Some(40));
        assert_eq!(raise(&mut h, 5, 33, MAX), Ok(false));
        assert!(count(&h).unwrap() > before);
    }

    #[test]
    fn small_cardinalities_are_exact() {
        // Exact while no two elements share a register.
        for n in [0, 1, 2, 10, 20] {
            assert_eq!(count(&with_elements(n, 7)), Ok(n), "n = {n}");
        }
    }

    #[test]
    fn corrupted_sparse_values_are_detected() {
        let hdr = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
        let cases: [&[u8]; 5] = [
            b"",             // no registers
            b"\x7f\xfe",     // 16383 registers
            b"\x7f\xff\x80", // a VAL past the end
            b"\x7f\xff\x00", // a ZERO past the end
            b"\x7f\xfe\x81", // a VAL run crossing the end
        ];
        for tail in cases {
            let mut h = hdr.clone();
            h.extend_from_slice(tail);
            assert!(is_valid(&h));
            assert_eq!(count(&h), Err(Corrupt), "{tail:?}");
            assert_eq!(Registers::default().merge(&h), Err(Corrupt));
            assert_eq!(to_dense(&mut h.clone()), Err(Corrupt));
        }
        let mut h = hdr.clone();
        h.push(0x7f); // XZERO cut short: reads as 16129 zeros, never past the end
        assert_eq!(decode(&h), "Z:16129");
        assert_eq!(count(&h), Err(Corrupt));
        assert_eq!(add(&mut hdr.clone(), b"a", MAX), Err(Corrupt));
    }

    #[test]
    fn header_checks() {
        assert!(is_valid(&new()));
        assert!(!is_valid(b"HYLL\x01\0\0\0\0\0\0\0\0\0\0"));
        assert!(!is_valid(b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\x80"));
        assert!(!is_valid(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\x80"));
        let mut d = new();
        to_dense(&mut d).unwrap();
        assert!(is_valid(&d));
        d.push(0);
        assert!(!is_valid(&d));
        let mut h = new();
        assert_eq!(cached_count(&h), Some(0));
        invalidate_cache(&mut h);
        assert_eq!(cached_count(&h), None);
        set_cached_count(&mut h, 12345);
        assert_eq!(cached_count(&h), Some(12345));
    }

    #[test]
    fn union_counts_like_merged_sketch() {
        let a = with_elements(3000, 0);
        let b = with_elements(3000, 1500);
        let mut regs = Registers::default();
        regs.merge(&a).unwrap();
        regs.merge(&b).unwrap();
        let mut merged = new();
        regs.store_into(&mut merged, MAX).unwrap();
        assert_eq!(count(&merged), Ok(regs.count()));
        let err = (regs.count() as f64 - 4500.0).abs() / 4500.0;
        assert!(err < 3.0 * 0.0081, "error {err}");
    }

    #[test]
    fn standard_error_up_to_ten_million() {
        // One sketch; checkpoints along the way. 3 sigma of 1.04/sqrt(m).
        let sigma = 1.04 / (REGISTERS as f64).sqrt();
        let mut h = new();
        let mut next = 1000u64;
        for i in 1..=10_000_000u64 {
            add(
                &mut h,
                &i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes(),
                MAX,
            )
            .unwrap();
            if i == next {
                let est = count(&h).unwrap() as f64;
                let err = (est - i as f64).abs() / i as f64;
                assert!(err < 3.0 * sigma, "n={i} estimate={est} error={err}");
                next *= 10;
            }
        }
    }

    #[test]
    fn self_test_passes() {
        assert_eq!(self_test(MAX), Ok(()));
    }
}
