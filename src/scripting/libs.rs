//! Libraries Redis ships to scripts, in Rust: `cjson` (lua-cjson 2.1 as
//! configured by Redis: numbers printed with `%.14g`, sparse-array rules,
//! `cjson.null`) and `bit` (LuaBitOp). `struct` and `cmsgpack` are in
//! their own modules, written against the C API.

use super::{cmsgpack, lua_struct};
use mlua::{LightUserData, Lua, MultiValue, Table, Value};

/// lua-cjson's default nesting limit.
const MAX_DEPTH: usize = 1000;

pub fn register(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    let cjson = lua.create_table()?;
    cjson.raw_set("null", null())?;
    cjson.raw_set("encode", lua.create_function(encode)?)?;
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

fn encode<'l>(lua: &'l Lua, v: Value<'l>) -> mlua::Result<mlua::String<'l>> {
    let mut out = Vec::new();
    match encode_value(&mut out, &v, 0) {
        Ok(()) => lua.create_string(&out),
        Err(msg) => lib_error(lua, &msg),
    }
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

fn encode_value(out: &mut Vec<u8>, v: &Value, depth: usize) -> Result<(), String> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(u) if u.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => encode_number(out, *i as f64)?,
        Value::Number(n) => encode_number(out, *n)?,
        Value::String(s) => encode_string(out, s.as_bytes()),
        Value::Table(t) => {
            if depth >= MAX_DEPTH {
                return Err(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                ));
            }
            encode_table(out, t, depth + 1)?
        }
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ))
        }
    }
    Ok(())
}

/// lua-cjson's array test: all keys positive integers, and not "excessively
/// sparse" (more than 10 slots and over half of them holes). Some(len) for
/// an array, None for an object.
fn array_len(t: &Table) -> Result<Option<usize>, String> {
    let (mut max, mut items) = (0usize, 0usize);
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        let idx = match k {
            Value::Integer(i) if i >= 1 => i as usize,
            Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => n as usize,
            _ => return Ok(None),
        };
        max = max.max(idx);
        items += 1;
    }
    if max > 10 && max > items * 2 {
        return Err("Cannot serialise table: excessively sparse array".into());
    }
    Ok(Some(max))
}

fn encode_table(out: &mut Vec<u8>, t: &Table, depth: usize) -> Result<(), String> {
    match array_len(t)? {
        Some(len) if len > 0 => {
            out.push(b'[');
            for i in 1..=len {
                if i > 1 {
                    out.push(b',');
                }
                let v: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                encode_value(out, &v, depth)?;
            }
            out.push(b']');
        }
        _ => {
            out.push(b'{');
            let mut first = true;
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|e| e.to_string())?;
                if !first {
                    out.push(b',');
                }
                first = false;
                match &k {
                    Value::String(s) => encode_string(out, s.as_bytes()),
                    Value::Integer(i) => encode_string(out, fmt_number(*i as f64).as_bytes()),
                    Value::Number(n) => encode_string(out, fmt_number(*n).as_bytes()),
                    _ => {
                        return Err(
                            "Cannot serialise table: table key must be a number or string".into(),
                        )
                    }
                }
                out.push(b':');
                encode_value(out, &v, depth)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn decode<'l>(lua: &'l Lua, s: mlua::String<'l>) -> mlua::Result<Value<'l>> {
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
            _ => Err(self.unexpected("value")),
        }
    }

    fn number<'l>(&mut self) -> Result<Value<'l>, DecodeError> {
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
        match text.parse::<f64>() {
            Ok(n) => Ok(Value::Number(n)),
            Err(_) => {
                self.pos = start;
                Err(self.unexpected("value"))
            }
        }
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

fn arg(lua: &Lua, args: &MultiValue, i: usize, name: &str) -> mlua::Result<i32> {
    match args.iter().nth(i) {
        Some(Value::Integer(n)) => Ok(tobit(*n as f64)),
        Some(Value::Number(n)) => Ok(tobit(*n)),
        Some(v @ Value::String(_)) => match lua.coerce_number(v.clone())? {
            Some(n) => Ok(tobit(n)),
            None => lib_error(
                lua,
                &format!(
                    "bad argument #{} to '{}' (number expected, got string)",
                    i + 1,
                    name
                ),
            ),
        },
        other => {
            let got = other.map_or("no value", |v| v.type_name());
            lib_error(
                lua,
                &format!(
                    "bad argument #{} to '{}' (number expected, got {})",
                    i + 1,
                    name,
                    got
                ),
            )
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
            lua.create_function(move |lua, args: MultiValue| {
                Ok(op(arg(lua, &args, 0, name)?) as f64)
            })?,
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
                let mut acc = arg(lua, &args, 0, name)?;
                for i in 1..args.len() {
                    acc = op(acc, arg(lua, &args, i, name)?);
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
                let x = arg(lua, &args, 0, name)?;
                let n = arg(lua, &args, 1, name)? as u32 & 31;
                Ok(op(x, n) as f64)
            })?,
        )?;
    }
    t.raw_set(
        "tohex",
        lua.create_function(|lua, args: MultiValue| {
            let x = arg(lua, &args, 0, "tohex")? as u32;
            let n = if args.len() > 1 {
                arg(lua, &args, 1, "tohex")?
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
