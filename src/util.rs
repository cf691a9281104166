//! Number parsing and formatting with Redis's exact rules, and glob matching.

use std::ffi::c_char;

/// Redis's `string2ll`: a canonical base-10 signed 64-bit integer (no spaces, no
/// `+`, no leading zeros, fits in i64).
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if negative {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// C's `strtoul` as Redis uses it for SCAN cursors: leading white space and a
/// sign are accepted, a `-` negates modulo 2^64, the whole input must be used.
pub fn parse_cursor(s: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() {
        // strtoul consumed nothing: the end pointer is the start, which is only
        // the terminator for an empty string.
        return if s.is_empty() { Some(0) } else { None };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

/// Redis's `string2d` / `getDoubleFromObject`: strtod on the whole input, no
/// leading space, no NaN, no overflow to infinity from a finite literal.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() >= 5 * 1024 || s[0].is_ascii_whitespace() || s[0] == 0x0b {
        return None;
    }
    let (value, consumed, erange) = strtod(s);
    if consumed != s.len() || value.is_nan() || (erange && (value.is_infinite() || value == 0.0)) {
        return None;
    }
    Some(value)
}

/// C's strtod on `s` as a NUL-terminated string (so it stops at an embedded
/// NUL, as Redis's callers do): (value, bytes consumed, ERANGE was set).
pub fn strtod(s: &[u8]) -> (f64, usize, bool) {
    // Numbers are short: terminate them on the stack, long inputs on the heap.
    let mut small = [0u8; 128];
    let mut large = Vec::new();
    let buf: &[u8] = if s.len() < small.len() {
        small[..s.len()].copy_from_slice(s);
        &small
    } else {
        large.extend_from_slice(s);
        large.push(0);
        &large
    };
    let start = buf.as_ptr() as *const c_char;
    let mut end: *mut c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated, and strtod only reads up to that
    // terminator and writes the end pointer.
    unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(start, &mut end);
        let consumed = end.offset_from(start) as usize;
        (v, consumed, *libc::__errno_location() == libc::ERANGE)
    }
}

extern "C" {
    fn russet_incrbyfloat(
        current: *const c_char,
        current_len: usize,
        incr: *const c_char,
        incr_len: usize,
        out: *mut c_char,
        out_cap: usize,
        out_len: *mut usize,
    ) -> libc::c_int;
    fn russet_format_double(v: f64, out: *mut c_char, out_cap: usize) -> usize;
    fn russet_timeout_ms(s: *const c_char, len: usize, out: *mut i64) -> libc::c_int;
}

/// A seconds timeout (BLPOP & co) in ms, computed in long double as Redis
/// does, huge values wrapping to negative as they do there. None if the
/// argument is not a float.
pub fn timeout_ms(arg: &[u8]) -> Option<i64> {
    let mut ms = 0i64;
    // SAFETY: the pointer and length describe a live slice; the C side only
    // reads it and writes one i64.
    let ok = unsafe { russet_timeout_ms(arg.as_ptr() as *const c_char, arg.len(), &mut ms) };
    (ok == 1).then_some(ms)
}

#[derive(Debug, PartialEq, Eq)]
pub enum IncrFloatError {
    NotAFloat,
    NanOrInfinity,
}

/// `current + incr` in long double, printed as Redis prints INCRBYFLOAT results.
/// `current` of `None` counts as 0. Both inputs must be valid floats.
pub fn incr_by_float(current: Option<&[u8]>, incr: &[u8]) -> Result<Vec<u8>, IncrFloatError> {
    let mut out = vec![0u8; 5 * 1024 + 8];
    let mut len = 0usize;
    let (cur_ptr, cur_len) = match current {
        Some(c) => (c.as_ptr() as *const c_char, c.len()),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: the pointers and lengths describe live slices; the C side writes
    // at most `out.len()` bytes into `out` and its length into `len`.
    let rc = unsafe {
        russet_incrbyfloat(
            cur_ptr,
            cur_len,
            incr.as_ptr() as *const c_char,
            incr.len(),
            out.as_mut_ptr() as *mut c_char,
            out.len(),
            &mut len,
        )
    };
    match rc {
        0 => {
            out.truncate(len);
            Ok(out)
        }
        3 => Err(IncrFloatError::NanOrInfinity),
        _ => Err(IncrFloatError::NotAFloat),
    }
}

/// A double as Redis 7.0 prints it: `%.17g`, with `inf`/`-inf`.
pub fn format_double(v: f64, buf: &mut [u8; 32]) -> &[u8] {
    if v.is_infinite() {
        return if v > 0.0 { b"inf" } else { b"-inf" };
    }
    // SAFETY: snprintf writes at most buf.len() bytes including the terminator.
    let n = unsafe { russet_format_double(v, buf.as_mut_ptr() as *mut c_char, buf.len()) };
    &buf[..n.min(buf.len() - 1)]
}

/// Case-insensitive ASCII comparison of a client-supplied word with a keyword.
#[inline]
pub fn eq_ignore_case(a: &[u8], keyword: &str) -> bool {
    a.eq_ignore_ascii_case(keyword.as_bytes())
}

/// Redis's `stringmatchlen`: glob-style matching for KEYS, SCAN MATCH, CONFIG GET
/// and friends, reproducing its quirks (signed chars, unterminated classes,
/// backslash escapes, the nesting limit against abusive patterns).
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    glob_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn glob_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > 1000 {
        return false;
    }
    // C reads the NUL terminator past the end of the pattern; emulate it.
    let p = |i: usize| -> i32 { pat.get(i).map_or(0, |&c| c as i8 as i32) };
    let lower = |c: i32| -> i32 {
        if (b'A' as i32..=b'Z' as i32).contains(&c) {
            c + 32
        } else {
            c
        }
    };
    let (mut pi, mut si) = (0usize, 0usize);
    while pi < pat.len() && si < s.len() {
        let sc = s[si] as i8 as i32;
        match pat[pi] {
            b'*' => {
                while pi < pat.len() && p(pi + 1) == b'*' as i32 {
                    pi += 1;
                }
                if pat.len() - pi == 1 {
                    return true;
                }
                while si < s.len() {
                    if glob_impl(&pat[pi + 1..], &s[si..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                pi += 1;
                let not = p(pi) == b'^' as i32;
                if not {
                    pi += 1;
                }
                let mut matched = false;
                loop {
                    let remaining = pat.len() as isize - pi as isize;
                    if p(pi) == b'\\' as i32 && remaining >= 2 {
                        pi += 1;
                        if p(pi) == sc {
                            matched = true;
                        }
                    } else if p(pi) == b']' as i32 {
                        break;
                    } else if remaining <= 0 {
                        pi -= 1;
                        break;
                    } else if remaining >= 3 && p(pi + 1) == b'-' as i32 {
                        let (mut start, mut end, mut c) = (p(pi), p(pi + 2), sc);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start);
                            end = lower(end);
                            c = lower(c);
                        }
                        pi += 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if nocase {
                        if lower(p(pi)) == lower(sc) {
                            matched = true;
                        }
                    } else if p(pi) == sc {
                        matched = true;
                    }
                    pi += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            c => {
                if c == b'\\' && pat.len() - pi >= 2 {
                    pi += 1;
                }
                let pc = p(pi);
                let equal = if nocase {
                    lower(pc) == lower(sc)
                } else {
                    pc == sc
                };
                if !equal {
                    return false;
                }
                si += 1;
            }
        }
        pi += 1;
        if si == s.len() {
            while p(pi) == b'*' as i32 {
                pi += 1;
            }
            break;
        }
    }
    pi >= pat.len() && si == s.len()
}

/// Milliseconds since the Unix epoch.
#[inline]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        for bad in [
            &b""[..],
            b"+1",
            b"01",
            b" 1",
            b"1 ",
            b"-0",
            b"1.0",
            b"0x10",
            b"-",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn floats_follow_strtod_with_redis_checks() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"1e400", b"abc"] {
            assert_eq!(parse_f64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn incrbyfloat_prints_like_redis() {
        let r =
            |c: Option<&[u8]>, i: &[u8]| incr_by_float(c, i).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(r(Some(b"10.5"), b"0.1").unwrap(), "10.6");
        assert_eq!(r(None, b"3.0e3").unwrap(), "3000");
        assert_eq!(r(Some(b"5.0e3"), b"2.0e2").unwrap(), "5200");
        assert_eq!(r(Some(b"-1"), b"1").unwrap(), "0");
        assert_eq!(r(Some(b"1"), b"inf"), Err(IncrFloatError::NanOrInfinity));
        assert_eq!(r(Some(b"x"), b"1"), Err(IncrFloatError::NotAFloat));
    }

    #[test]
    fn doubles_print_with_17_significant_digits() {
        let mut b = [0u8; 32];
        assert_eq!(format_double(1.1, &mut b), b"1.1000000000000001");
        assert_eq!(format_double(3.0, &mut b), b"3");
        assert_eq!(format_double(f64::NEG_INFINITY, &mut b), b"-inf");
    }

    #[test]
    fn glob_matches_like_redis() {
        let m = |p: &str, s: &str| glob_match(p.as_bytes(), s.as_bytes(), false);
        assert!(
            !m("*", ""),
            "Redis needs its KEYS * fast path for the empty key"
        );
        assert!(m("h?llo", "hello"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hbllo"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(!m("a[", "a["));
        assert!(m("[abc", "a"));
        assert!(!m("a[b", "a[b"));
        assert!(!m("a*b", "acd"));
        assert!(glob_match(b"HELLO", b"hello", true));
        // Deeply nested stars must not explode.
        let pattern = "a*".repeat(40) + "b";
        assert!(!m(&pattern, &"a".repeat(60)));
    }

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b" 12"), Some(12));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"1x"), None);
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
    }
}
