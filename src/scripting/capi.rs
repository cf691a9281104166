//! Shared pieces of the libraries written against Lua's C API (`struct`,
//! `cmsgpack`). They work on the raw stack because mlua's `Value` turns
//! any number within EPSILON of an integer into that integer (1e-20
//! would pack as 0), and because their C originals' behaviour depends on
//! the stack itself (results left on it, `lua_checkstack` limits).
//!
//! Errors are raised with `lua_error`, which longjmps over the Rust frames
//! between the raise and the C function's entry: those frames must own no
//! memory then. Code that builds a `Vec` therefore returns a [`Fail`] and
//! raises it once the buffer is dropped.

use mlua::ffi::{self, lua_State};
use std::ffi::{c_char, c_int, CStr};

/// An error to raise as lauxlib would.
pub enum Fail {
    /// `luaL_argerror(narg, msg)`: "bad argument #n to 'f' (msg)".
    Arg(c_int, Vec<u8>),
    /// `luaL_typerror(narg, tname)`: "... (tname expected, got type)".
    Type(c_int, &'static CStr),
    /// `luaL_error(msg)`: the message prefixed with the caller's position.
    Msg(Vec<u8>),
}

/// Raises `fail`. Whatever owns memory must be dropped before calling.
pub unsafe fn raise(l: *mut lua_State, fail: Fail) -> c_int {
    match fail {
        Fail::Arg(narg, msg) => {
            push(l, &msg);
            drop(msg);
            ffi::luaL_argerror(l, narg, ffi::lua_tostring(l, -1))
        }
        Fail::Type(narg, tname) => ffi::luaL_typerror(l, narg, tname.as_ptr()),
        Fail::Msg(msg) => {
            ffi::luaL_where(l, 1);
            push(l, &msg);
            drop(msg);
            ffi::lua_concat(l, 2);
            ffi::lua_error(l)
        }
    }
}

pub unsafe fn push(l: *mut lua_State, bytes: &[u8]) {
    ffi::lua_pushlstring(l, bytes.as_ptr() as *const c_char, bytes.len());
}

/// The bytes of the string (or number, converted in place) at `idx`, or
/// None. They live as long as the value stays on the stack.
pub unsafe fn to_bytes<'a>(l: *mut lua_State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(p as *const u8, len))
    }
}

/// `luaL_checklstring` that returns the error instead of raising it.
pub unsafe fn check_bytes<'a>(l: *mut lua_State, narg: c_int) -> Result<&'a [u8], Fail> {
    to_bytes(l, narg).ok_or(Fail::Type(narg, c"string"))
}

/// `luaL_checknumber` that returns the error instead of raising it.
pub unsafe fn check_number(l: *mut lua_State, narg: c_int) -> Result<f64, Fail> {
    let n = ffi::lua_tonumber(l, narg);
    if n == 0.0 && ffi::lua_isnumber(l, narg) == 0 {
        return Err(Fail::Type(narg, c"number"));
    }
    Ok(n)
}

/// `luaL_checkstack` (Lua 5.1's: no extra LUA_MINSTACK margin), raising.
pub unsafe fn check_stack(l: *mut lua_State, n: c_int, what: &CStr) {
    if ffi::lua_checkstack(l, n) == 0 {
        ffi::luaL_error(l, c"stack overflow (%s)".as_ptr(), what.as_ptr());
    }
}

/// C's double to int64 conversion as x86-64 does it: NaN and values out
/// of range give INT64_MIN.
pub fn c_i64(n: f64) -> i64 {
    if (-TWO63..TWO63).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

const TWO63: f64 = 9_223_372_036_854_775_808.0;

/// C's double to uint64 conversion as gcc emits it on x86-64: values from
/// 2^63 up go through a subtraction, so out-of-range ones wrap oddly.
pub fn c_u64(n: f64) -> u64 {
    if n >= TWO63 {
        (c_i64(n - TWO63) as u64) ^ (1 << 63)
    } else {
        c_i64(n) as u64
    }
}

/// C's double to int conversion on x86-64 (INT_MIN when out of range).
pub fn c_i32(n: f64) -> i32 {
    if (-2_147_483_648.0..2_147_483_648.0).contains(&n) {
        n as i32
    } else {
        i32::MIN
    }
}
