//! lua-cmsgpack 0.4.0 as Redis 7.0 ships it, built for Lua 5.1 on a
//! 64-bit machine: numbers equal to an int64 pack as the smallest integer
//! form, others as a float when exactly representable, else a double;
//! tables whose keys are exactly 1..n pack as arrays, others as maps;
//! tables nested 16 deep pack as nil; unsupported types pack as nil.
//! Decoding leaves its results on the Lua stack as the C does, so the
//! stack limits (and their error messages) fall at the same counts.

use super::capi::{c_i32, c_i64, check_stack, push, raise, Fail};
use mlua::ffi::{self, lua_State};
use std::ffi::{c_int, CStr};

const MAX_NESTING: i32 = 16;

pub const NAME: &str = "cmsgpack";
pub const VERSION: &str = "lua-cmsgpack 0.4.0";
pub const COPYRIGHT: &str = "Copyright (C) 2012, Salvatore Sanfilippo";
pub const DESCRIPTION: &str = "MessagePack C implementation for Lua";

/// `lua_checkstack` with the C's message, as a [`Fail`] (a buffer is alive).
unsafe fn need_stack(l: *mut lua_State, n: c_int, what: &str) -> Result<(), Fail> {
    if ffi::lua_checkstack(l, n) == 0 {
        return Err(Fail::Msg(format!("stack overflow ({what})").into_bytes()));
    }
    Ok(())
}

fn header(buf: &mut Vec<u8>, n: u64, fix: u8, fix_max: u64, b16: u8, b32: u8) {
    if n <= fix_max {
        buf.push(fix | n as u8);
    } else if n <= 0xffff {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len() as u64;
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else {
        header(buf, len, 0, 0, 0xda, 0xdb);
    }
    buf.extend_from_slice(s);
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    match n {
        0..=127 => buf.push(n as u8),
        128..=0xff => buf.extend_from_slice(&[0xcc, n as u8]),
        0x100..=0xffff => {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        }
        0x1_0000_0000.. => {
            buf.push(0xcf);
            buf.extend_from_slice(&n.to_be_bytes());
        }
        -32..=-1 => buf.push(n as u8),
        -128..=-33 => buf.extend_from_slice(&[0xd0, n as u8]),
        -32768..=-129 => {
            buf.push(0xd1);
            buf.extend_from_slice(&(n as i16).to_be_bytes());
        }
        -2_147_483_648..=-32769 => {
            buf.push(0xd2);
            buf.extend_from_slice(&(n as i32).to_be_bytes());
        }
        _ => {
            buf.push(0xd3);
            buf.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn encode_number(buf: &mut Vec<u8>, n: f64) {
    if !n.is_infinite() && c_i64(n) as f64 == n {
        encode_int(buf, c_i64(n));
        return;
    }
    let f = n as f32;
    if f as f64 == n {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

/// Encodes the value on top of the stack and pops it.
unsafe fn encode(l: *mut lua_State, buf: &mut Vec<u8>, level: i32) -> Result<(), Fail> {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => {
            let mut len = 0usize;
            let p = ffi::lua_tolstring(l, -1, &mut len);
            encode_bytes(buf, std::slice::from_raw_parts(p as *const u8, len));
        }
        ffi::LUA_TBOOLEAN => buf.push(if ffi::lua_toboolean(l, -1) != 0 {
            0xc3
        } else {
            0xc2
        }),
        ffi::LUA_TNUMBER => encode_number(buf, ffi::lua_tonumber(l, -1)),
        ffi::LUA_TTABLE if level < MAX_NESTING => {
            if is_array(l)? {
                encode_array(l, buf, level)?;
            } else {
                encode_map(l, buf, level)?;
            }
        }
        _ => buf.push(0xc0),
    }
    ffi::lua_pop(l, 1);
    Ok(())
}

/// True when the table on top has exactly the keys 1..n (n may be 0).
unsafe fn is_array(l: *mut lua_State) -> Result<bool, Fail> {
    let (mut count, mut max) = (0i32, 0i32);
    let top = ffi::lua_gettop(l);
    need_stack(l, 2, "in function table_is_an_array")?;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        let n = ffi::lua_tonumber(l, -1);
        if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER
            || n <= 0.0
            || n.is_infinite()
            || c_i32(n) as f64 != n
        {
            ffi::lua_settop(l, top);
            return Ok(false);
        }
        max = max.max(n as i32);
        count = count.wrapping_add(1);
    }
    ffi::lua_settop(l, top);
    Ok(max == count)
}

unsafe fn encode_array(l: *mut lua_State, buf: &mut Vec<u8>, level: i32) -> Result<(), Fail> {
    let len = ffi::lua_objlen(l, -1);
    header(buf, len as u64, 0x90, 15, 0xdc, 0xdd);
    need_stack(l, 1, "in function mp_encode_lua_table_as_array")?;
    for j in 1..=len {
        // Every index up to len is present (is_array), so raw and plain
        // gets agree.
        ffi::lua_rawgeti_(l, -1, j as c_int);
        encode(l, buf, level + 1)?;
    }
    Ok(())
}

unsafe fn encode_map(l: *mut lua_State, buf: &mut Vec<u8>, level: i32) -> Result<(), Fail> {
    need_stack(l, 3, "in function mp_encode_lua_table_as_map")?;
    let mut len = 0u64;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        len += 1;
    }
    header(buf, len, 0x80, 15, 0xde, 0xdf);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        // Encode a copy of the key: a number key converted in place by
        // tolstring would derail lua_next.
        ffi::lua_pushvalue(l, -2);
        encode(l, buf, level + 1)?;
        encode(l, buf, level + 1)?;
    }
    Ok(())
}

/// Packs every argument and concatenates the encodings, as the C does
/// (one string per argument on the stack, then lua_concat).
unsafe fn pack_all(l: *mut lua_State, nargs: c_int) -> Result<(), Fail> {
    let mut buf = Vec::new();
    for i in 1..=nargs {
        need_stack(l, 1, "in function mp_check")?;
        ffi::lua_pushvalue(l, i);
        encode(l, &mut buf, 0)?;
        push(l, &buf);
        buf.clear();
    }
    Ok(())
}

pub unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    let nargs = ffi::lua_gettop(l);
    if nargs == 0 {
        return ffi::luaL_argerror(l, 0, c"MessagePack pack needs input.".as_ptr());
    }
    if ffi::lua_checkstack(l, nargs) == 0 {
        return ffi::luaL_argerror(l, 0, c"Too many arguments for MessagePack pack.".as_ptr());
    }
    if let Err(e) = pack_all(l, nargs) {
        return raise(l, e);
    }
    ffi::lua_concat(l, nargs);
    1
}

/// The input being decoded. Decoding stops at the first error, which the
/// caller raises (`Missing bytes`, `Bad data format`).
struct Cursor<'a> {
    s: &'a [u8],
    err: Option<&'static CStr>,
}

const EOF: &CStr = c"Missing bytes in input.";
const BADFMT: &CStr = c"Bad data format in input.";

impl<'a> Cursor<'a> {
    /// The next `n` bytes, consumed; None (and the EOF error) when short.
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.s.len() < n {
            self.err = Some(EOF);
            return None;
        }
        let (head, rest) = self.s.split_at(n);
        self.s = rest;
        Some(head)
    }

    /// A big-endian length of `n` bytes following the type byte.
    fn len(&mut self, n: usize) -> Option<usize> {
        let b = self.take(1 + n)?;
        Some(b.iter().skip(1).fold(0usize, |a, &x| (a << 8) | x as usize))
    }
}

/// Decodes one value onto the stack. No Rust-owned memory is alive here,
/// so Lua errors (stack overflow, a nil or NaN map key) raise in place.
unsafe fn decode(l: *mut lua_State, c: &mut Cursor) {
    let Some(&first) = c.s.first() else {
        c.err = Some(EOF);
        return;
    };
    check_stack(
        l,
        1,
        c"too many return values at once; use unpack_one or unpack_limit instead.",
    );
    let be = |b: &[u8]| b.iter().skip(1).fold(0u64, |a, &x| (a << 8) | u64::from(x));
    // lua_pushunsigned is lua_pushinteger on 64-bit builds: uint64 values
    // past INT64_MAX come back negative.
    let uint = |v: u64| ffi::lua_pushinteger(l, v as i64 as ffi::lua_Integer);
    match first {
        0xcc..=0xcf => {
            let n = 1 << (first - 0xcc);
            let Some(b) = c.take(1 + n) else { return };
            uint(be(b));
        }
        0xd0..=0xd3 => {
            let n = 1usize << (first - 0xd0);
            let Some(b) = c.take(1 + n) else { return };
            // Sign-extend from n bytes.
            let v = (be(b) << (64 - 8 * n)) as i64 >> (64 - 8 * n);
            if first == 0xd3 {
                ffi::lua_pushnumber(l, v as f64);
            } else {
                ffi::lua_pushinteger(l, v as ffi::lua_Integer);
            }
        }
        0xc0 => {
            c.take(1);
            ffi::lua_pushnil(l);
        }
        0xc2 | 0xc3 => {
            c.take(1);
            ffi::lua_pushboolean(l, c_int::from(first == 0xc3));
        }
        0xca => {
            let Some(b) = c.take(5) else { return };
            ffi::lua_pushnumber(l, f32::from_bits(be(b) as u32) as f64);
        }
        0xcb => {
            let Some(b) = c.take(9) else { return };
            ffi::lua_pushnumber(l, f64::from_bits(be(b)));
        }
        0xd9..=0xdb => {
            let Some(len) = c.len(1 << (first - 0xd9)) else {
                return;
            };
            let Some(s) = c.take(len) else { return };
            push(l, s);
        }
        0xdc | 0xdd => {
            let Some(len) = c.len(if first == 0xdc { 2 } else { 4 }) else {
                return;
            };
            decode_array(l, c, len);
        }
        0xde | 0xdf => {
            let Some(len) = c.len(if first == 0xde { 2 } else { 4 }) else {
                return;
            };
            decode_map(l, c, len);
        }
        _ if first & 0x80 == 0 => {
            c.take(1);
            ffi::lua_pushinteger(l, ffi::lua_Integer::from(first));
        }
        _ if first & 0xe0 == 0xe0 => {
            c.take(1);
            ffi::lua_pushinteger(l, ffi::lua_Integer::from(first as i8));
        }
        _ if first & 0xe0 == 0xa0 => {
            c.take(1);
            let Some(s) = c.take(usize::from(first & 0x1f)) else {
                return;
            };
            push(l, s);
        }
        _ if first & 0xf0 == 0x90 => {
            c.take(1);
            decode_array(l, c, usize::from(first & 0xf));
        }
        _ if first & 0xf0 == 0x80 => {
            c.take(1);
            decode_map(l, c, usize::from(first & 0xf));
        }
        _ => c.err = Some(BADFMT),
    }
}

unsafe fn decode_array(l: *mut lua_State, c: &mut Cursor, len: usize) {
    ffi::lua_createtable(l, 0, 0);
    check_stack(l, 1, c"in function mp_decode_to_lua_array");
    for index in 1..=len {
        ffi::lua_pushnumber(l, index as f64);
        decode(l, c);
        if c.err.is_some() {
            return;
        }
        ffi::lua_settable(l, -3);
    }
}

unsafe fn decode_map(l: *mut lua_State, c: &mut Cursor, len: usize) {
    ffi::lua_createtable(l, 0, 0);
    for _ in 0..len {
        decode(l, c);
        if c.err.is_some() {
            return;
        }
        decode(l, c);
        if c.err.is_some() {
            return;
        }
        ffi::lua_settable(l, -3);
    }
}

/// Decodes up to `limit` values from `offset` (both 0: all values and no
/// offset result). Otherwise the first result is the next offset, or -1
/// when the input is used up.
unsafe fn unpack_full(l: *mut lua_State, limit: i64, offset: i64) -> c_int {
    let mut len = 0usize;
    let s = ffi::luaL_checklstring(l, 1, &mut len);
    let s = std::slice::from_raw_parts(s as *const u8, len);
    if offset < 0 || limit < 0 {
        // The C prints the input length where it says "limit".
        return ffi::luaL_error(
            l,
            c"Invalid request to unpack with offset of %d and limit of %d.".as_ptr(),
            offset as c_int,
            len as c_int,
        );
    }
    let Some(rest) = s.get(offset as usize..) else {
        return ffi::luaL_error(
            l,
            c"Start offset %d greater than input length %d.".as_ptr(),
            offset as c_int,
            len as c_int,
        );
    };
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut c = Cursor { s: rest, err: None };
    let mut cnt: c_int = 0;
    while !c.s.is_empty() && i64::from(cnt) < limit {
        decode(l, &mut c);
        if let Some(e) = c.err {
            return ffi::luaL_error(l, c"%s".as_ptr(), e.as_ptr());
        }
        cnt += 1;
    }
    if !decode_all {
        check_stack(l, 1, c"in function mp_unpack_full");
        let next = if c.s.is_empty() {
            -1
        } else {
            (len - c.s.len()) as ffi::lua_Integer
        };
        ffi::lua_pushinteger(l, next);
        ffi::lua_insert(l, 2);
        cnt += 1;
    }
    cnt
}

pub unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    unpack_full(l, 0, 0)
}

/// Drops every argument but the first, as the C's
/// `lua_pop(L, lua_gettop(L)-1)` does (nothing when there are none).
unsafe fn keep_first(l: *mut lua_State) {
    ffi::lua_settop(l, -ffi::lua_gettop(l));
}

pub unsafe extern "C-unwind" fn unpack_one(l: *mut lua_State) -> c_int {
    let offset = ffi::luaL_optinteger(l, 2, 0);
    keep_first(l);
    unpack_full(l, 1, offset as i64)
}

pub unsafe extern "C-unwind" fn unpack_limit(l: *mut lua_State) -> c_int {
    let limit = ffi::luaL_checkinteger(l, 2);
    let offset = ffi::luaL_optinteger(l, 3, 0);
    keep_first(l);
    unpack_full(l, limit as i64, offset as i64)
}
