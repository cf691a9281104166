//! Libraries Redis ships to scripts, in Rust: `cjson` (lua-cjson 2.1 as
//! configured by Redis: numbers printed with `%.14g`, sparse-array rules,
//! `cjson.null`) and `bit` (LuaBitOp). `struct` and `cmsgpack` are in
//! their own modules, written against the C API.

use super::capi::{self, Fail};
use super::{cmsgpack, lua_struct};
use mlua::ffi;
use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use std::ffi::c_int;

/// lua-cjson's default nesting limit.
const MAX_DEPTH: usize = 1000;

pub fn register(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    let cjson = lua.create_table()?;
    cjson.raw_set("null", null())?;
    cjson.raw_set("_NAME", "cjson")?;
    cjson.raw_set("_VERSION", "2.1.0")?;
    // SAFETY: encode follows the C API's contract (see capi).
    cjson.raw_set("encode", unsafe { lua.create_c_function(encode)? })?;
    cjson.raw_set("decode", lua.create_function(decode)?)?;
    g.raw_set("cjson", cjson)?;
    g.raw_set("bit", bit(lua)?)?;
    g.raw_set("struct", struct_lib(lua)?)?;
    g.raw_set("cmsgpack", cmsgpack_lib(lua)?)?;
    Ok(())
}

fn struct_lib(lua: &Lua) -> mlua::Result<Table<'_>> {
    let t = lua.create_table()?;
    // SAFETY: the functions follow the C API's contract (see capi).
    unsafe {
        t.raw_set("pack", lua.create_c_function(lua_struct::pack)?)?;
        t.raw_set("unpack", lua.create_c_function(lua_struct::unpack)?)?;
        t.raw_set("size", lua.create_c_function(lua_struct::size)?)?;
    }
    Ok(t)
}

fn cmsgpack_lib(lua: &Lua) -> mlua::Result<Table<'_>> {
    let t = lua.create_table()?;
    // SAFETY: as for struct_lib.
    unsafe {
        t.raw_set("pack", lua.create_c_function(cmsgpack::pack)?)?;
        t.raw_set("unpack", lua.create_c_function(cmsgpack::unpack)?)?;
        t.raw_set("unpack_one", lua.create_c_function(cmsgpack::unpack_one)?)?;
        t.raw_set(
            "unpack_limit",
            lua.create_c_function(cmsgpack::unpack_limit)?,
        )?;
    }
    t.raw_set("_NAME", cmsgpack::NAME)?;
    t.raw_set("_VERSION", cmsgpack::VERSION)?;
    t.raw_set("_COPYRIGHT", cmsgpack::COPYRIGHT)?;
    t.raw_set("_DESCRIPTION", cmsgpack::DESCRIPTION)?;
    Ok(t)
}

fn null() -> Value<'static> {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// A Lua error raised like luaL_error from a C library: prefixed with the
/// calling script's position, reported as `ERR <text>`.
fn lib_error<T>(lua: &Lua, msg: &str) -> mlua::Result<T> {
    let place = lua
        .inspect_stack(1)
        .filter(|d| d.curr_line() > 0)
        .map(|d| {
            let src = d.source().short_src.unwrap_or_default().into_owned();
            format!("{}:{}: ", src, d.curr_line())
        })
        .unwrap_or_default();
    super::raise_plain(format!("{place}{msg}"))
}

/// luaL_argerror: names the function as the script called it (`local b =
/// bit.band; b('x')` says 'b'), or '?' when the call site gives no name.
fn arg_error<T>(lua: &Lua, narg: usize, msg: &str) -> mlua::Result<T> {
    let (name, method) = lua
        .inspect_stack(0)
        .map(|d| {
            let n = d.names();
            let name = n.name.map(|s| s.into_owned());
            (name, n.name_what == Some("method"))
        })
        .unwrap_or((None, false));
    let name = name.unwrap_or_else(|| "?".into());
    if method && narg == 1 {
        return lib_error(lua, &format!("calling '{name}' on bad self ({msg})"));
    }
    let narg = if method { narg - 1 } else { narg };
    lib_error(lua, &format!("bad argument #{narg} to '{name}' ({msg})"))
}

/// `%.14g`, as lua-cjson and Lua's tostring print numbers.
pub fn fmt_number(n: f64) -> String {
    let mut buf = [0u8; 64];
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            c"%.14g".as_ptr(),
            n,
        )
    };
    String::from_utf8_lossy(&buf[..(len.max(0) as usize).min(buf.len())]).into_owned()
}

fn encode_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            c => out.push(c),
        }
    }
    out.push(b'"');
}

fn encode_number(out: &mut Vec<u8>, n: f64) -> Result<(), String> {
    if !n.is_finite() {
        return Err("Cannot serialise number: must not be NaN or Inf".into());
    }
    out.extend_from_slice(fmt_number(n).as_bytes());
    Ok(())
}

/// `cjson.encode`, on the raw stack: mlua's values would turn -0 and
/// numbers within EPSILON of an integer into integers.
pub unsafe extern "C-unwind" fn encode(l: *mut ffi::lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        return ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let mut out = Vec::new();
    match encode_value(l, &mut out, 0) {
        Ok(()) => {
            capi::push(l, &out);
            1
        }
        Err(msg) => {
            drop(out);
            capi::raise(l, Fail::Msg(msg.into_bytes()))
        }
    }
}

/// Lua's name for a value's type: mlua says "lightuserdata", Lua 5.1
/// "userdata".
fn value_type(v: &Value) -> &'static str {
    match v {
        Value::LightUserData(_) => "userdata",
        v => v.type_name(),
    }
}

/// Lua's name for the type at `idx` (light userdata is "userdata").
unsafe fn type_name(l: *mut ffi::lua_State, idx: c_int) -> String {
    let p = ffi::lua_typename(l, ffi::lua_type(l, idx));
    std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
}

/// Encodes the value on top of the stack (left there).
unsafe fn encode_value(
    l: *mut ffi::lua_State,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), String> {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TNIL => out.extend_from_slice(b"null"),
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
            out.extend_from_slice(b"null")
        }
        ffi::LUA_TBOOLEAN => out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 {
            b"true"
        } else {
            b"false"
        }),
        ffi::LUA_TNUMBER => encode_number(out, ffi::lua_tonumber(l, -1))?,
        ffi::LUA_TSTRING => encode_string(out, capi::to_bytes(l, -1).unwrap_or_default()),
        ffi::LUA_TTABLE => {
            if depth >= MAX_DEPTH || ffi::lua_checkstack(l, 3) == 0 {
                return Err(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                ));
            }
            encode_table(l, out, depth + 1)?
        }
        _ => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                type_name(l, -1)
            ))
        }
    }
    Ok(())
}

/// lua-cjson's array test for the table on top: all keys integers >= 1,
/// and not "excessively sparse" (more than 10 slots and over half of them
/// holes). Some(len) for an array, None for an object.
unsafe fn array_len(l: *mut ffi::lua_State) -> Result<Option<usize>, String> {
    // C ints, as in lua-cjson: an infinite key stores INT_MIN in max.
    let (mut max, mut items) = (0i32, 0i32);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        let k = ffi::lua_tonumber(l, -2);
        if ffi::lua_type(l, -2) != ffi::LUA_TNUMBER || k < 1.0 || k.floor() != k {
            ffi::lua_pop(l, 2);
            return Ok(None);
        }
        if k > f64::from(max) {
            max = capi::c_i32(k);
        }
        items = items.wrapping_add(1);
        ffi::lua_pop(l, 1);
    }
    if max > 10 && max > items.wrapping_mul(2) {
        return Err("Cannot serialise table: excessively sparse array".into());
    }
    Ok(usize::try_from(max).ok())
}

unsafe fn encode_table(
    l: *mut ffi::lua_State,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), String> {
    if let Some(len) = array_len(l)?.filter(|&n| n > 0) {
        out.push(b'[');
        for i in 1..=len {
            if i > 1 {
                out.push(b',');
            }
            ffi::lua_rawgeti_(l, -1, i as c_int);
            let r = encode_value(l, out, depth);
            ffi::lua_pop(l, 1);
            r?;
        }
        out.push(b']');
        return Ok(());
    }
    out.push(b'{');
    let mut first = true;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if !first {
            out.push(b',');
        }
        first = false;
        match ffi::lua_type(l, -2) {
            ffi::LUA_TSTRING => encode_string(out, capi::to_bytes(l, -2).unwrap_or_default()),
            ffi::LUA_TNUMBER => {
                out.push(b'"');
                encode_number(out, ffi::lua_tonumber(l, -2))?;
                out.push(b'"');
            }
            _ => {
                return Err(format!(
                    "Cannot serialise {}: table key must be a number or string",
                    type_name(l, -2)
                ))
            }
        }
        out.push(b':');
        encode_value(l, out, depth)?;
        ffi::lua_pop(l, 1);
    }
    out.push(b'}');
    Ok(())
}

fn decode<'l>(lua: &'l Lua, args: MultiValue<'l>) -> mlua::Result<Value<'l>> {
    if args.len() != 1 {
        return arg_error(lua, 1, "expected 1 argument");
    }
    let v = args.into_iter().next().unwrap_or(Value::Nil);
    let ty = value_type(&v);
    let Some(s) = lua.coerce_string(v)? else {
        return arg_error(lua, 1, &format!("string expected, got {ty}"));
    };
    let bytes = s.as_bytes();
    let mut p = Parser { s: bytes, pos: 0 };
    let result = p.value(lua, 0).and_then(|v| {
        p.skip_ws();
        if p.pos < p.s.len() {
            Err(p.unexpected("the end"))
        } else {
            Ok(v)
        }
    });
    match result {
        Ok(v) => Ok(v),
        Err(DecodeError::Lua(e)) => Err(e),
        Err(DecodeError::Msg(m)) => lib_error(lua, &m),
    }
}

enum DecodeError {
    Msg(String),
    Lua(mlua::Error),
}

impl From<mlua::Error> for DecodeError {
    fn from(e: mlua::Error) -> Self {
        DecodeError::Lua(e)
    }
}

/// lua-cjson's json_is_invalid_number for a token not starting with a
/// digit or '-': the non-JSON numbers strtod still reads.
fn invalid_number(rest: &[u8]) -> bool {
    let lower = |n: usize| rest.get(..n).map(|p| p.to_ascii_lowercase());
    rest.first() == Some(&b'+')
        || lower(3).as_deref() == Some(b"inf")
        || lower(3).as_deref() == Some(b"nan")
}

struct Parser<'s> {
    s: &'s [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|c| b" \t\r\n".contains(c)) {
            self.pos += 1;
        }
    }

    /// lua-cjson's names for the token at the current position.
    fn token_name(&self) -> &'static str {
        let rest = &self.s[self.pos.min(self.s.len())..];
        match rest.first() {
            None => "T_END",
            Some(b'{') => "T_OBJ_BEGIN",
            Some(b'}') => "T_OBJ_END",
            Some(b'[') => "T_ARR_BEGIN",
            Some(b']') => "T_ARR_END",
            Some(b',') => "T_COMMA",
            Some(b':') => "T_COLON",
            Some(b'"') => "T_STRING",
            Some(c) if c.is_ascii_digit() || *c == b'-' => "T_NUMBER",
            _ if rest.starts_with(b"true") || rest.starts_with(b"false") => "T_BOOLEAN",
            _ if rest.starts_with(b"null") => "T_NULL",
            _ => "invalid token",
        }
    }

    fn unexpected(&self, what: &str) -> DecodeError {
        DecodeError::Msg(format!(
            "Expected {} but found {} at character {}",
            what,
            self.token_name(),
            self.pos + 1
        ))
    }

    fn value<'l>(&mut self, lua: &'l Lua, depth: usize) -> Result<Value<'l>, DecodeError> {
        self.skip_ws();
        if depth > MAX_DEPTH {
            return Err(DecodeError::Msg(format!(
                "Found too many nested data structures ({}) at character {}",
                depth,
                self.pos + 1
            )));
        }
        let rest = &self.s[self.pos..];
        match rest.first() {
            Some(b'{') => self.object(lua, depth + 1),
            Some(b'[') => self.array(lua, depth + 1),
            Some(b'"') => Ok(Value::String(lua.create_string(&self.string()?)?)),
            Some(c) if c.is_ascii_digit() || *c == b'-' => self.number(),
            _ if rest.starts_with(b"true") => {
                self.pos += 4;
                Ok(Value::Boolean(true))
            }
            _ if rest.starts_with(b"false") => {
                self.pos += 5;
                Ok(Value::Boolean(false))
            }
            _ if rest.starts_with(b"null") => {
                self.pos += 4;
                Ok(null())
            }
            _ if invalid_number(rest) => self.number(),
            _ => Err(self.unexpected("value")),
        }
    }

    /// lua-cjson reads numbers with strtod, so hex, "inf", "nan" and a
    /// leading '+' or zeros decode too (its decode_invalid_numbers default).
    fn number<'l>(&mut self) -> Result<Value<'l>, DecodeError> {
        let rest = &self.s[self.pos..];
        let run = rest
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || b"+-._()".contains(c)))
            .unwrap_or(rest.len());
        let mut text = rest[..run].to_vec();
        text.push(0);
        let mut end: *mut libc::c_char = std::ptr::null_mut();
        // SAFETY: text is NUL-terminated; end points into it afterwards.
        let n = unsafe { libc::strtod(text.as_ptr() as *const libc::c_char, &mut end) };
        let used = (end as usize).saturating_sub(text.as_ptr() as usize);
        if used == 0 {
            return Err(DecodeError::Msg(format!(
                "Expected value but found invalid number at character {}",
                self.pos + 1
            )));
        }
        self.pos += used;
        Ok(Value::Number(n))
    }

    fn string(&mut self) -> Result<Vec<u8>, DecodeError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                self.pos = start;
                return Err(DecodeError::Msg(format!(
                    "Expected value but found unexpected end of string at character {}",
                    start + 1
                )));
            };
            self.pos += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let e = self.s.get(self.pos).copied().unwrap_or(0);
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let cp = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&cp)
                                && self.s.get(self.pos..self.pos + 2) == Some(b"\\u")
                            {
                                self.pos += 2;
                                let lo = self.hex4()?;
                                0x10000 + ((cp - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                cp
                            };
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        _ => {
                            self.pos = start;
                            return Err(DecodeError::Msg(format!(
                                "Expected value but found invalid escape code at character {}",
                                start + 1
                            )));
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, DecodeError> {
        let digits = self.s.get(self.pos..self.pos + 4).unwrap_or_default();
        let v = std::str::from_utf8(digits)
            .ok()
            .filter(|d| d.len() == 4)
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| {
                DecodeError::Msg(format!(
                    "Expected value but found invalid unicode escape code at character {}",
                    self.pos + 1
                ))
            })?;
        self.pos += 4;
        Ok(v)
    }

    fn array<'l>(&mut self, lua: &'l Lua, depth: usize) -> Result<Value<'l>, DecodeError> {
        self.pos += 1;
        let t = lua.create_table()?;
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Table(t));
        }
        let mut i = 1;
        loop {
            let v = self.value(lua, depth)?;
            t.raw_set(i, v)?;
            i += 1;
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Table(t));
                }
                _ => return Err(self.unexpected("comma or array end")),
            }
        }
    }

    fn object<'l>(&mut self, lua: &'l Lua, depth: usize) -> Result<Value<'l>, DecodeError> {
        self.pos += 1;
        let t = lua.create_table()?;
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Table(t));
        }
        loop {
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return Err(self.unexpected("object key string"));
            }
            let k = self.string()?;
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(self.unexpected("colon"));
            }
            self.pos += 1;
            let v = self.value(lua, depth)?;
            t.raw_set(lua.create_string(&k)?, v)?;
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Table(t));
                }
                _ => return Err(self.unexpected("comma or object end")),
            }
        }
    }
}

/// LuaBitOp's conversion of a Lua number to a 32-bit integer (modular).
fn tobit(n: f64) -> i32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

fn arg(lua: &Lua, args: &MultiValue, i: usize) -> mlua::Result<i32> {
    match args.iter().nth(i) {
        Some(Value::Integer(n)) => Ok(tobit(*n as f64)),
        Some(Value::Number(n)) => Ok(tobit(*n)),
        Some(v @ Value::String(_)) => match lua.coerce_number(v.clone())? {
            Some(n) => Ok(tobit(n)),
            None => arg_error(lua, i + 1, "number expected, got string"),
        },
        other => {
            let got = other.map_or("no value", value_type);
            arg_error(lua, i + 1, &format!("number expected, got {got}"))
        }
    }
}

fn bit(lua: &Lua) -> mlua::Result<Table<'_>> {
    let t = lua.create_table()?;
    type Unary = fn(i32) -> i32;
    let unary: [(&str, Unary); 3] = [
        ("tobit", |x| x),
        ("bnot", |x| !x),
        ("bswap", |x| x.swap_bytes()),
    ];
    for (name, op) in unary {
        t.raw_set(
            name,
            lua.create_function(move |lua, args: MultiValue| Ok(op(arg(lua, &args, 0)?) as f64))?,
        )?;
    }
    type Fold = fn(i32, i32) -> i32;
    let folds: [(&str, Fold); 3] = [
        ("band", |a, b| a & b),
        ("bor", |a, b| a | b),
        ("bxor", |a, b| a ^ b),
    ];
    for (name, op) in folds {
        t.raw_set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let mut acc = arg(lua, &args, 0)?;
                for i in 1..args.len() {
                    acc = op(acc, arg(lua, &args, i)?);
                }
                Ok(acc as f64)
            })?,
        )?;
    }
    type Shift = fn(i32, u32) -> i32;
    let shifts: [(&str, Shift); 5] = [
        ("lshift", |x, n| ((x as u32) << n) as i32),
        ("rshift", |x, n| ((x as u32) >> n) as i32),
        ("arshift", |x, n| x >> n),
        ("rol", |x, n| (x as u32).rotate_left(n) as i32),
        ("ror", |x, n| (x as u32).rotate_right(n) as i32),
    ];
    for (name, op) in shifts {
        t.raw_set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let x = arg(lua, &args, 0)?;
                let n = arg(lua, &args, 1)? as u32 & 31;
                Ok(op(x, n) as f64)
            })?,
        )?;
    }
    t.raw_set(
        "tohex",
        lua.create_function(|lua, args: MultiValue| {
            let x = arg(lua, &args, 0)? as u32;
            let n = if args.len() > 1 {
                arg(lua, &args, 1)?
            } else {
                8
            };
            let upper = n < 0;
            let n = n.unsigned_abs().min(8) as usize;
            let s = format!("{:08x}", x);
            let s = &s[8 - n..];
            Ok(if upper {
                s.to_uppercase()
            } else {
                s.to_string()
            })
        })?,
    )?;
    Ok(t)
}
