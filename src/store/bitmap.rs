//! Bit algorithms over string bytes (bitmaps are plain strings, bit 0 being
//! the most significant bit of byte 0): population count, first set/clear
//! bit, BITFIELD's integer fields and their overflow rules, BITOP.

/// Number of set bits in `bytes`.
pub fn popcount(bytes: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU supports AVX2 and POPCNT (checked just above).
        return unsafe { popcount_avx2(bytes) };
    }
    popcount_words(bytes)
}

/// The same loop compiled for AVX2 and POPCNT, which the portable build
/// (plain x86-64) may not use: about 2.5x faster.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
fn popcount_avx2(bytes: &[u8]) -> u64 {
    popcount_words(bytes)
}

#[inline(always)]
fn popcount_words(bytes: &[u8]) -> u64 {
    // Four independent sums: a single one serialises every add (measured
    // 7 GB/s against 1 GB/s with POPCNT).
    let mut blocks = bytes.chunks_exact(32);
    let mut sums = [0u64; 4];
    for block in blocks.by_ref() {
        for (i, sum) in sums.iter_mut().enumerate() {
            let w = &block[i * 8..i * 8 + 8];
            *sum += u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
                .count_ones() as u64;
        }
    }
    let tail: u64 = blocks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum();
    sums.iter().sum::<u64>() + tail
}

/// Set bits among bits `lo..=hi` of `bytes` (`hi` inside the string).
pub fn count_range(bytes: &[u8], lo: u64, hi: u64) -> u64 {
    let (first, last) = ((lo >> 3) as usize, (hi >> 3) as usize);
    let head = bytes[first] & !(0xffu8 >> (lo & 7));
    let tail = bytes[last] & (0x7fu8 >> (hi & 7));
    popcount(&bytes[first..=last]) - head.count_ones() as u64 - tail.count_ones() as u64
}

/// Position of the first bit equal to `bit` among bits `lo..=hi` of `bytes`
/// (`hi` inside the string).
pub fn first_bit(bytes: &[u8], bit: bool, lo: u64, hi: u64) -> Option<u64> {
    let (first, last) = ((lo >> 3) as usize, (hi >> 3) as usize);
    // Looking for a 1 in the bytes, or for a 1 in their complement.
    let flip = if bit { 0u8 } else { 0xff };
    let byte_at = |i: usize| {
        let mut b = bytes[i] ^ flip;
        if i == first {
            b &= 0xff >> (lo & 7);
        }
        if i == last {
            b &= !(0x7f >> (hi & 7));
        }
        b
    };
    let found = |i: usize, b: u8| Some(i as u64 * 8 + b.leading_zeros() as u64);
    let b = byte_at(first);
    if b != 0 {
        return found(first, b);
    }
    if first == last {
        return None;
    }
    // Skip the inner bytes a word at a time.
    let mut i = first + 1;
    let skip = u64::from_ne_bytes([flip; 8]);
    while i + 8 <= last {
        let w = &bytes[i..i + 8];
        if u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) != skip {
            break;
        }
        i += 8;
    }
    (i..=last).find_map(|i| match byte_at(i) {
        0 => None,
        b => found(i, b),
    })
}

/// The `bits`-wide (1..=64) unsigned field at bit `offset`; bits past the
/// end of the string read as zeros.
pub fn get_field(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let (window, _) = load_window(bytes, offset);
    ((window << (offset & 7)) >> (128 - bits)) as u64
}

/// The field at `offset` read as a two's complement `bits`-wide integer.
pub fn get_signed_field(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_field(bytes, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` of `value` at bit `offset`; the string already
/// covers every bit written.
pub fn set_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    let (window, n) = load_window(bytes, offset);
    let shift = 128 - bits - (offset & 7) as u32;
    let ones = (1u128 << bits) - 1;
    let window = (window & !(ones << shift)) | ((value as u128 & ones) << shift);
    let at = (offset >> 3) as usize;
    bytes[at..at + n].copy_from_slice(&window.to_be_bytes()[..n]);
}

/// The 9 bytes from the one holding bit `offset` (enough for any 64-bit
/// field), zero-padded, as the top of a u128; and how many were in the string.
fn load_window(bytes: &[u8], offset: u64) -> (u128, usize) {
    let mut buf = [0u8; 16];
    let at = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    let n = bytes.len().saturating_sub(at).min(9);
    if n > 0 {
        buf[..n].copy_from_slice(&bytes[at..at + n]);
    }
    (u128::from_be_bytes(buf), n)
}

/// BITFIELD's OVERFLOW behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// `value + incr` for an unsigned `bits`-wide field: Some(result) after
/// wrapping or saturating, None if it overflows under FAIL. `value` may be
/// out of range (a SET argument), which also counts as an overflow.
/// Redis's checkUnsignedBitfieldOverflow.
pub fn add_unsigned(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > max_incr) {
        match ow {
            Overflow::Wrap => Some(wrapped()),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        }
    } else if incr < 0 && incr < min_incr {
        match ow {
            Overflow::Wrap => Some(wrapped()),
            Overflow::Sat => Some(0),
            Overflow::Fail => None,
        }
    } else {
        Some(value.wrapping_add(incr as u64))
    }
}

/// The signed counterpart, Redis's checkSignedBitfieldOverflow (including
/// its 64-bit special cases).
pub fn add_signed(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits == 64 {
            c as i64
        } else if c & (1 << (bits - 1)) != 0 {
            (c | (u64::MAX << bits)) as i64
        } else {
            (c & !(u64::MAX << bits)) as i64
        }
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        match ow {
            Overflow::Wrap => Some(wrapped()),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        }
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        match ow {
            Overflow::Wrap => Some(wrapped()),
            Overflow::Sat => Some(min),
            Overflow::Fail => None,
        }
    } else {
        Some(value.wrapping_add(incr))
    }
}

/// BITOP's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Combines `sources` (shorter ones padded with zero bytes) into a string as
/// long as the longest.
pub fn bitop(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let Some((head, rest)) = sources.split_first() else {
        return Vec::new();
    };
    let mut out = head.to_vec();
    out.resize(len, 0);
    if op == BitOp::Not {
        out.iter_mut().for_each(|b| *b = !*b);
    }
    for src in rest {
        let (common, tail) = out.split_at_mut(src.len());
        match op {
            BitOp::And => {
                common.iter_mut().zip(*src).for_each(|(o, s)| *o &= s);
                tail.fill(0);
            }
            BitOp::Or => common.iter_mut().zip(*src).for_each(|(o, s)| *o |= s),
            BitOp::Xor => common.iter_mut().zip(*src).for_each(|(o, s)| *o ^= s),
            BitOp::Not => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bit_at(bytes: &[u8], i: u64) -> bool {
        bytes[(i >> 3) as usize] & (0x80 >> (i & 7)) != 0
    }

    #[test]
    fn popcount_matches_naive() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 999, 1000] {
            let naive: u64 = data[..len].iter().map(|b| b.count_ones() as u64).sum();
            assert_eq!(popcount(&data[..len]), naive);
            assert_eq!(popcount_words(&data[..len]), naive);
        }
    }

    #[test]
    fn ranges_and_first_bits_match_naive() {
        let data: Vec<u8> = (0..40u32)
            .map(|i| [0u8, 0xff, 0x10, 0xfe, 0x7f][(i % 5) as usize])
            .collect();
        let sparse = {
            let mut v = vec![0u8; 40];
            v[37] = 0x02;
            v
        };
        let dense = {
            let mut v = vec![0xffu8; 40];
            v[33] = 0xbf;
            v
        };
        for bytes in [&data, &sparse, &dense] {
            let nbits = bytes.len() as u64 * 8;
            for lo in (0..nbits).step_by(7) {
                for hi in (lo..nbits).step_by(5) {
                    let count = (lo..=hi).filter(|&i| bit_at(bytes, i)).count() as u64;
                    assert_eq!(count_range(bytes, lo, hi), count, "{lo}..={hi}");
                    for bit in [false, true] {
                        let naive = (lo..=hi).find(|&i| bit_at(bytes, i) == bit);
                        assert_eq!(first_bit(bytes, bit, lo, hi), naive, "{bit} {lo}..={hi}");
                    }
                }
            }
        }
    }

    #[test]
    fn fields_round_trip_at_every_alignment() {
        for bits in 1..=64u32 {
            for offset in 0..17u64 {
                let mut bytes = vec![0xa5u8; 12];
                let value = 0x8123_4567_89ab_cdefu64 >> (64 - bits);
                set_field(&mut bytes, offset, bits, value);
                assert_eq!(get_field(&bytes, offset, bits), value);
                for i in (0..offset).chain(offset + bits as u64..96) {
                    assert_eq!(bit_at(&bytes, i), bit_at(&[0xa5; 12], i), "bit {i}");
                }
            }
        }
        assert_eq!(get_signed_field(&[0x80], 0, 1), -1);
        assert_eq!(get_signed_field(&[0xff; 8], 0, 64), -1);
        assert_eq!(get_field(&[0xff], 4, 8), 0xf0);
        assert_eq!(get_field(&[], 1 << 40, 64), 0);
    }

    #[test]
    fn overflow_rules() {
        use Overflow::*;
        assert_eq!(add_unsigned(250, 10, 8, Wrap), Some(4));
        assert_eq!(add_unsigned(250, 10, 8, Sat), Some(255));
        assert_eq!(add_unsigned(250, 10, 8, Fail), None);
        assert_eq!(add_unsigned(5, -10, 8, Sat), Some(0));
        assert_eq!(add_unsigned(5, -10, 8, Wrap), Some(251));
        assert_eq!(add_unsigned(u64::MAX, 0, 8, Wrap), Some(255));
        assert_eq!(add_signed(127, 1, 8, Wrap), Some(-128));
        assert_eq!(add_signed(127, 1, 8, Sat), Some(127));
        assert_eq!(add_signed(-128, -1, 8, Sat), Some(-128));
        assert_eq!(add_signed(200, 0, 8, Wrap), Some(-56));
        assert_eq!(add_signed(i64::MAX, 1, 64, Wrap), Some(i64::MIN));
        assert_eq!(add_signed(i64::MIN, -1, 64, Sat), Some(i64::MIN));
        assert_eq!(add_signed(-1, i64::MAX, 64, Fail), Some(i64::MAX - 1));
    }

    #[test]
    fn bitops_pad_with_zeros() {
        assert_eq!(bitop(BitOp::And, &[b"\xff\xff", b"\x0f"]), b"\x0f\x00");
        assert_eq!(bitop(BitOp::Or, &[b"\x01", b"\x10\x20"]), b"\x11\x20");
        assert_eq!(bitop(BitOp::Xor, &[b"\xff", b"\x0f", b""]), b"\xf0");
        assert_eq!(bitop(BitOp::Not, &[b"\x0f"]), b"\xf0");
        assert!(bitop(BitOp::Or, &[b"", b""]).is_empty());
    }
}
