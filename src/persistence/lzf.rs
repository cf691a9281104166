//! LZF as Redis 7.0 builds liblzf 3.6 (`lzf_c.c`/`lzf_d.c` with its
//! `lzfP.h`: a 2^16-slot hash table, `VERY_FAST`, `CHECK_INPUT`). The compressor makes
//! the very bytes Redis makes, so a dump is byte-identical to Redis's.
//!
//! Redis leaves the hash table uninitialised (`INIT_HTAB 0`); that does not
//! change its output, because a slot is only consulted for a match after the
//! first occurrence of the same three bytes has overwritten it in this run,
//! so a zeroed table gives the same bytes.
//!
//! Stream format: `000LLLLL` + L+1 literal bytes; `LLLooooo oooooooo` a
//! back reference of L+2 bytes at distance o+1; `111ooooo LLLLLLLL
//! oooooooo` one of L+9 bytes.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Compresses `input` into at most `out_len` bytes; None when it does not
/// fit (or either is empty), as `lzf_compress` returns 0.
pub fn compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    let mut htab = vec![0u32; HSIZE];
    let mut out = vec![0u8; out_len];
    let mut ip = 0;
    let mut op = 1; // the header byte of the current literal run
    let mut lit = 0;
    let mut hval: u32 = 0;
    if in_len >= 2 {
        hval = (u32::from(input[0]) << 8) | u32::from(input[1]);
    }
    while ip + 2 < in_len {
        hval = (hval << 8) | u32::from(input[ip + 2]);
        let slot = idx(hval);
        let r = htab[slot] as usize;
        htab[slot] = ip as u32;
        // Slot value 0 means "empty" as well as position 0: liblzf never
        // matches against the first byte either (`ref > in_data`).
        if r > 0 && r < ip && ip - r - 1 < MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
            let off = ip - r - 1;
            let maxlen = (in_len - ip - 2).min(MAX_REF);
            // The run just ended is dropped when empty; then up to 3 bytes
            // of reference and the next run's header must fit.
            if op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            if lit == 0 {
                op -= 1;
            }
            // liblzf first compares 16 bytes unchecked against `maxlen`
            // (safe: maxlen > 16), which can make a match end past it.
            let mut len = 2;
            'scan: {
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            break 'scan;
                        }
                    }
                }
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 2; // and start a new run
            lit = 0;
            ip += len + 1;
            if ip + 2 >= in_len {
                break;
            }
            // VERY_FAST: hash the last two positions of the match.
            ip -= 2;
            hval = (u32::from(input[ip]) << 8) | u32::from(input[ip + 1]);
            for _ in 0..2 {
                hval = (hval << 8) | u32::from(input[ip + 2]);
                htab[idx(hval)] = ip as u32;
                ip += 1;
            }
        } else {
            if op >= out_len {
                return None;
            }
            push_literal(&mut out, &mut op, &mut lit, input[ip]);
            ip += 1;
        }
    }
    if op + 3 > out_len {
        return None;
    }
    for &b in &input[ip..] {
        push_literal(&mut out, &mut op, &mut lit, b);
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    if lit == 0 {
        op -= 1;
    }
    out.truncate(op);
    Some(out)
}

fn push_literal(out: &mut [u8], op: &mut usize, lit: &mut usize, b: u8) {
    *lit += 1;
    out[*op] = b;
    *op += 1;
    if *lit == MAX_LIT {
        out[*op - *lit - 1] = (*lit - 1) as u8;
        *lit = 0;
        *op += 1;
    }
}

/// Decompresses `input`, which must yield exactly `out_len` bytes; None for
/// a corrupt stream (a reference before the start, a truncated input or
/// more output than announced).
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // The announced length comes from the payload: grow towards it rather
    // than trusting it for one allocation.
    let mut out = Vec::with_capacity(out_len.min(1 << 20));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < MAX_LIT {
            let run = input.get(ip..ip + ctrl + 1)?;
            if out.len() + run.len() > out_len {
                return None;
            }
            out.extend_from_slice(run);
            ip += run.len();
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip)?);
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(ip)?) + 1;
            ip += 1;
            if out.len() + len + 2 > out_len || back > out.len() {
                return None;
            }
            // Byte by byte: the source may overlap what is being written.
            let start = out.len() - back;
            for i in start..start + len + 2 {
                out.push(out[i]);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn round_trip(data: &[u8]) {
        // liblzf expands incompressible data by one byte per 32.
        let Some(c) = compress(data, data.len() + data.len() / 32 + 4) else {
            assert!(data.is_empty());
            return;
        };
        assert_eq!(decompress(&c, data.len()).as_deref(), Some(data));
    }

    #[test]
    fn round_trips_random_data() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..2000 {
            let len = rng.gen_range(0..3000);
            // Small alphabets make long and overlapping matches.
            let alphabet = [2u8, 4, 16, 255][rng.gen_range(0..4)];
            let data: Vec<u8> = (0..len).map(|_| rng.gen_range(0..=alphabet)).collect();
            round_trip(&data);
        }
    }

    #[test]
    fn round_trips_repetitions_and_edges() {
        for n in 0..600 {
            round_trip(&vec![b'a'; n]);
            let cycle: Vec<u8> = (0..n).map(|i| (i % 7) as u8).collect();
            round_trip(&cycle);
        }
        let long: Vec<u8> = b"0123456789".repeat(10_000);
        round_trip(&long);
    }

    #[test]
    fn gives_up_when_output_does_not_fit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let noise: Vec<u8> = (0..500).map(|_| rng.gen()).collect();
        assert_eq!(compress(&noise, noise.len() - 4), None);
        assert_eq!(compress(b"", 10), None);
        assert_eq!(compress(b"abc", 0), None);
        let runs = vec![b'x'; 100];
        let c = compress(&runs, 96).unwrap();
        assert!(!c.is_empty() && c.len() < 10);
    }

    /// Bytes liblzf produces (checked against Redis's DUMP of these strings).
    #[test]
    fn matches_liblzf_bytes() {
        let c = compress(&[b'a'; 30], 26).unwrap();
        assert_eq!(c, [0x01, b'a', b'a', 0xe0, 0x11, 0x00, 0x01, b'a', b'a']);
    }

    #[test]
    fn rejects_corrupt_streams() {
        let c = compress(&b"hello hello hello hello".repeat(4), 200).unwrap();
        assert!(decompress(&c, 92).is_some());
        assert!(decompress(&c, 91).is_none());
        assert!(decompress(&c, 93).is_none());
        assert!(decompress(&c[..c.len() - 1], 92).is_none());
        assert!(decompress(&[0x20, 0x00], 5).is_none()); // reference before start
        assert!(decompress(&[0x05, b'a'], 6).is_none()); // truncated literal
        assert!(decompress(&[0xe0], 6).is_none());
        assert!(decompress(&[], 1).is_none());
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for _ in 0..20_000 {
            let junk: Vec<u8> = (0..rng.gen_range(0..40)).map(|_| rng.gen()).collect();
            let _ = decompress(&junk, rng.gen_range(0..200));
        }
    }
}
