//! Roberto Ierusalimschy's `struct` library as Redis 7.0 ships it (with
//! its CVE fixes): `struct.pack`, `struct.unpack`, `struct.size`. Sizes
//! and alignment are those of x86-64 Linux, where Redis is built: short 2,
//! int 4, long and size_t 8, native order little endian, `!` alone aligns
//! to 8.

use super::capi::{c_i64, c_u64, check_bytes, check_number, check_stack, push, raise, Fail};
use mlua::ffi::{self, lua_State};
use std::ffi::c_int;

const MAXINTSIZE: i32 = 32;
const MAXALIGN: i32 = 8;
const INT: i32 = 4;

/// A format being read: the C original stops at the first NUL byte.
struct Fmt<'a> {
    s: &'a [u8],
    at: usize,
    little: bool,
    align: usize,
}

impl<'a> Fmt<'a> {
    fn new(s: &'a [u8]) -> Self {
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        Fmt {
            s: &s[..end],
            at: 0,
            little: true,
            align: 1,
        }
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.s.get(self.at).copied();
        self.at += 1;
        c
    }

    fn digit(&self) -> Option<i32> {
        self.s
            .get(self.at)
            .filter(|c| c.is_ascii_digit())
            .map(|c| i32::from(c - b'0'))
    }

    /// The number after an option letter, or `default`; overflow is checked
    /// a digit at a time against INT_MAX, as the C does.
    fn num(&mut self, default: i32) -> Result<i32, Fail> {
        if self.digit().is_none() {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(d) = self.digit() {
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return Err(Fail::Msg(b"integral size overflow".to_vec()));
            }
            a = a * 10 + d;
            self.at += 1;
        }
        Ok(a)
    }

    /// How many bytes the option takes (0 for the control options).
    fn optsize(&mut self, opt: u8) -> Result<usize, Fail> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.num(1)? as usize,
            b'i' | b'I' => {
                let sz = self.num(INT)?;
                if sz > MAXINTSIZE {
                    return Err(Fail::Msg(
                        format!("integral size {sz} is larger than limit of {MAXINTSIZE}")
                            .into_bytes(),
                    ));
                }
                sz as usize
            }
            _ => 0,
        })
    }

    /// Padding to put before an item of `size` bytes at offset `len`.
    fn toalign(&self, len: usize, opt: u8, size: usize) -> usize {
        if size == 0 || opt == b'c' {
            return 0;
        }
        let size = size.min(self.align);
        size.wrapping_sub(len & (size - 1)) & (size - 1)
    }

    fn control(&mut self, opt: u8) -> Result<(), Fail> {
        match opt {
            b' ' => {}
            b'>' => self.little = false,
            b'<' => self.little = true,
            b'!' => {
                let a = self.num(MAXALIGN)?;
                if a <= 0 || a & (a - 1) != 0 {
                    return Err(Fail::Msg(
                        format!("alignment {a} is not a power of 2").into_bytes(),
                    ));
                }
                self.align = a as usize;
            }
            _ => {
                let mut msg = b"invalid format option '".to_vec();
                msg.extend_from_slice(&[opt, b'\'']);
                return Err(Fail::Arg(1, msg));
            }
        }
        Ok(())
    }
}

fn is_int_option(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

/// `size` bytes of `value` in the chosen order; bytes past the eighth are 0.
fn put_integer(out: &mut Vec<u8>, n: f64, little: bool, size: usize) {
    let value = if n < 0.0 { c_i64(n) as u64 } else { c_u64(n) };
    let byte = |i: usize| if i < 8 { (value >> (8 * i)) as u8 } else { 0 };
    if little {
        out.extend((0..size).map(byte));
    } else {
        out.extend((0..size).rev().map(byte));
    }
}

/// Reads an integer of `size` bytes; only the low 8 bytes survive, and the
/// sign mask shifts by (size*8-1) mod 64 as x86 does.
fn get_integer(buf: &[u8], little: bool, signed: bool) -> f64 {
    let fold = |l: u64, b: &u8| (l << 8) | u64::from(*b);
    let l = if little {
        buf.iter().rev().fold(0, fold)
    } else {
        buf.iter().fold(0, fold)
    };
    if !signed {
        return l as f64;
    }
    let shift = ((buf.len() as i64) * 8 - 1) & 63;
    let mask = u64::MAX << shift;
    let l = if l & mask != 0 { l | mask } else { l };
    l as i64 as f64
}

fn ordered<const N: usize>(mut b: [u8; N], little: bool) -> [u8; N] {
    if !little {
        b.reverse();
    }
    b
}

unsafe fn pack_into(l: *mut lua_State, out: &mut Vec<u8>) -> Result<(), Fail> {
    let mut f = Fmt::new(check_bytes(l, 1)?);
    // The C pushes a nil mark above the arguments: a missing first one
    // reads as nil, not "no value".
    ffi::lua_pushnil(l);
    let mut arg: c_int = 2;
    let mut total = 0usize;
    while let Some(opt) = f.next() {
        let mut size = f.optsize(opt)?;
        let pad = f.toalign(total, opt, size);
        total += pad;
        out.resize(out.len() + pad, 0);
        match opt {
            _ if is_int_option(opt) => {
                let n = check_number(l, arg)?;
                arg += 1;
                put_integer(out, n, f.little, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let n = check_number(l, arg)? as f32;
                arg += 1;
                out.extend_from_slice(&ordered(n.to_le_bytes(), f.little));
            }
            b'd' => {
                let n = check_number(l, arg)?;
                arg += 1;
                out.extend_from_slice(&ordered(n.to_le_bytes(), f.little));
            }
            b'c' | b's' => {
                let s = check_bytes(l, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                // The C reports the argument after the string.
                let part = s
                    .get(..size)
                    .ok_or_else(|| Fail::Arg(arg, b"string too short".to_vec()))?;
                out.extend_from_slice(part);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => f.control(opt)?,
        }
        total += size;
    }
    Ok(())
}

pub unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    let mut out = Vec::new();
    match pack_into(l, &mut out) {
        Ok(()) => {
            push(l, &out);
            1
        }
        Err(fail) => {
            drop(out);
            raise(l, fail)
        }
    }
}

// unpack and size hold no Rust-owned memory, so they raise in place.

pub unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    let mut flen = 0usize;
    let fmt = ffi::luaL_checklstring(l, 1, &mut flen);
    let fmt = std::slice::from_raw_parts(fmt as *const u8, flen);
    let mut ld = 0usize;
    let data = ffi::luaL_checklstring(l, 2, &mut ld);
    let data = std::slice::from_raw_parts(data as *const u8, ld);
    // A negative offset wraps to a huge size_t and passes this check.
    let pos = ffi::luaL_optinteger(l, 3, 1) as usize;
    if pos == 0 {
        return ffi::luaL_argerror(l, 3, c"offset must be 1 or greater".as_ptr());
    }
    let mut pos = pos - 1;
    let mut n: c_int = 0;
    let mut f = Fmt::new(fmt);
    while let Some(opt) = f.next() {
        let mut size = match f.optsize(opt) {
            Ok(s) => s,
            Err(e) => return raise(l, e),
        };
        pos = pos.wrapping_add(f.toalign(pos, opt, size));
        let too_short = |pos: usize, size: usize| size > ld || pos > ld - size;
        if too_short(pos, size) {
            return ffi::luaL_argerror(l, 2, c"data string too short".as_ptr());
        }
        check_stack(l, 2, c"too many results");
        let item = &data[pos..pos + size];
        match opt {
            _ if is_int_option(opt) => {
                ffi::lua_pushnumber(l, get_integer(item, f.little, opt.is_ascii_lowercase()));
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(item);
                ffi::lua_pushnumber(l, f32::from_le_bytes(ordered(b, f.little)) as f64);
                n += 1;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(item);
                ffi::lua_pushnumber(l, f64::from_le_bytes(ordered(b, f.little)));
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    // c0: the length is the previous result, which may be a
                    // numeric string as well as a number.
                    if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                        return ffi::luaL_error(l, c"format 'c0' needs a previous size".as_ptr());
                    }
                    size = c_u64(ffi::lua_tonumber(l, -1)) as usize;
                    ffi::lua_pop(l, 1);
                    n -= 1;
                    if too_short(pos, size) {
                        return ffi::luaL_argerror(l, 2, c"data string too short".as_ptr());
                    }
                }
                push(l, &data[pos..pos + size]);
                n += 1;
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&c| c == 0) else {
                    return ffi::luaL_error(l, c"unfinished string in data".as_ptr());
                };
                size = end + 1;
                push(l, &data[pos..pos + end]);
                n += 1;
            }
            _ => {
                if let Err(e) = f.control(opt) {
                    return raise(l, e);
                }
            }
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushinteger(l, pos.wrapping_add(1) as ffi::lua_Integer);
    n + 1
}

pub unsafe extern "C-unwind" fn size(l: *mut lua_State) -> c_int {
    let mut flen = 0usize;
    let fmt = ffi::luaL_checklstring(l, 1, &mut flen);
    let mut f = Fmt::new(std::slice::from_raw_parts(fmt as *const u8, flen));
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = match f.optsize(opt) {
            Ok(s) => s,
            Err(e) => return raise(l, e),
        };
        pos += f.toalign(pos, opt, size);
        if opt == b's' {
            return ffi::luaL_argerror(l, 1, c"option 's' has no fixed size".as_ptr());
        } else if opt == b'c' && size == 0 {
            return ffi::luaL_argerror(l, 1, c"option 'c0' has no fixed size".as_ptr());
        }
        // Unknown letters and digits are skipped, as in the C.
        if !opt.is_ascii_alphanumeric() {
            if let Err(e) = f.control(opt) {
                return raise(l, e);
            }
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushinteger(l, pos as ffi::lua_Integer);
    1
}
