//! Reply conversions, as Redis 7.0 does them: a command's RESP reply into a
//! Lua value for `redis.call`, and a script's Lua result into the client's
//! reply.

use crate::protocol::Reply;
use mlua::{Lua, Table, Value};

/// Tables nested deeper than this are refused instead of overflowing the
/// stack (a table can contain itself).
const MAX_DEPTH: usize = 1000;

/// Converts one RESP reply (as written by a command handler) into Lua.
pub fn resp_to_lua<'l>(lua: &'l Lua, buf: &[u8]) -> mlua::Result<Value<'l>> {
    let mut pos = 0;
    parse(lua, buf, &mut pos)
}

fn line<'b>(buf: &'b [u8], pos: &mut usize) -> &'b [u8] {
    let start = *pos;
    let end = buf[start..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(buf.len(), |i| start + i);
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

fn int(b: &[u8]) -> i64 {
    crate::util::parse_i64(b).unwrap_or(0)
}

fn bulk<'b>(buf: &'b [u8], pos: &mut usize, len: i64) -> &'b [u8] {
    let start = (*pos).min(buf.len());
    let end = (start + len.max(0) as usize).min(buf.len());
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

fn single<'l>(lua: &'l Lua, key: &str, v: impl mlua::IntoLua<'l>) -> mlua::Result<Value<'l>> {
    let t = lua.create_table()?;
    t.raw_set(key, v)?;
    Ok(Value::Table(t))
}

fn parse<'l>(lua: &'l Lua, buf: &[u8], pos: &mut usize) -> mlua::Result<Value<'l>> {
    let Some(&kind) = buf.get(*pos) else {
        return Ok(Value::Nil);
    };
    *pos += 1;
    let head = line(buf, pos);
    Ok(match kind {
        b'+' => single(lua, "ok", lua.create_string(head)?)?,
        b'-' => single(lua, "err", lua.create_string(head)?)?,
        b':' => Value::Number(int(head) as f64),
        b'$' => match int(head) {
            -1 => Value::Boolean(false),
            n => Value::String(lua.create_string(bulk(buf, pos, n))?),
        },
        b'*' | b'>' => match int(head) {
            -1 => Value::Boolean(false),
            n => {
                let t = lua.create_table()?;
                for i in 1..=n {
                    t.raw_set(i, parse(lua, buf, pos)?)?;
                }
                Value::Table(t)
            }
        },
        b'%' => {
            let t = lua.create_table()?;
            for _ in 0..int(head) {
                let k = parse(lua, buf, pos)?;
                let v = parse(lua, buf, pos)?;
                t.raw_set(k, v)?;
            }
            single(lua, "map", t)?
        }
        b'~' => {
            let t = lua.create_table()?;
            for _ in 0..int(head) {
                t.raw_set(parse(lua, buf, pos)?, true)?;
            }
            single(lua, "set", t)?
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(head == b"t"),
        b',' => {
            let d = crate::util::parse_f64(head).unwrap_or(0.0);
            single(lua, "double", d)?
        }
        b'(' => single(lua, "big_number", lua.create_string(head)?)?,
        b'=' => {
            let data = bulk(buf, pos, int(head));
            let t = lua.create_table()?;
            let (format, text) = data.split_at(data.len().min(4));
            t.raw_set("format", lua.create_string(&format[..format.len().min(3)])?)?;
            t.raw_set("string", lua.create_string(text)?)?;
            single(lua, "verbatim_string", t)?
        }
        _ => Value::Nil,
    })
}

fn field<'l>(t: &Table<'l>, name: &str) -> Value<'l> {
    t.raw_get(name).unwrap_or(Value::Nil)
}

/// `(long long)` of a Lua number, as C converts it on x86-64: out of range
/// and NaN give i64::MIN.
fn truncate(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// Writes a script's result. `lua_resp` is the protocol the script chose
/// with redis.setresp: it decides how booleans are returned.
pub fn write_value(out: &mut Reply, v: &Value, lua_resp: u8) {
    write(out, v, lua_resp, 0)
}

fn write(out: &mut Reply, v: &Value, lua_resp: u8, depth: usize) {
    match v {
        Value::String(s) => out.bulk(s.as_bytes()),
        Value::Boolean(b) => {
            if lua_resp == 2 {
                if *b {
                    out.int(1)
                } else {
                    out.null()
                }
            } else {
                out.boolean(*b)
            }
        }
        Value::Integer(n) => out.int(*n),
        Value::Number(n) => out.int(truncate(*n)),
        Value::Table(t) => {
            if depth >= MAX_DEPTH {
                return out.err("reached lua stack limit");
            }
            write_table(out, t, lua_resp, depth)
        }
        _ => out.null(),
    }
}

fn write_table(out: &mut Reply, t: &Table, lua_resp: u8, depth: usize) {
    if let Value::String(e) = field(t, "err") {
        return out.error_bytes(e.as_bytes());
    }
    if let Value::String(s) = field(t, "ok") {
        return out.simple_bytes(s.as_bytes());
    }
    if let Value::Integer(_) | Value::Number(_) = field(t, "double") {
        let d = match field(t, "double") {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => 0.0,
        };
        return out.double(d);
    }
    if let Value::String(s) = field(t, "big_number") {
        return big_number(out, s.as_bytes());
    }
    if let Value::Table(m) = field(t, "map") {
        let pairs: Vec<(Value, Value)> = m.clone().pairs().filter_map(Result::ok).collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            write(out, k, lua_resp, depth + 1);
            write(out, v, lua_resp, depth + 1);
        }
        return;
    }
    if let Value::Table(s) = field(t, "set") {
        let keys: Vec<Value> = s
            .clone()
            .pairs::<Value, Value>()
            .filter_map(|p| p.ok().map(|(k, _)| k))
            .collect();
        out.set(keys.len());
        for k in &keys {
            write(out, k, lua_resp, depth + 1);
        }
        return;
    }
    if let Value::Table(v) = field(t, "verbatim_string") {
        if let (Value::String(fmt), Value::String(s)) = (field(&v, "format"), field(&v, "string")) {
            let fmt = fmt.to_string_lossy();
            if fmt.len() == 3 {
                return out.verbatim(&fmt, s.as_bytes());
            }
        }
    }
    let mut items = Vec::new();
    let mut i = 1;
    loop {
        match t.raw_get::<_, Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
        i += 1;
    }
    out.array(items.len());
    for v in &items {
        write(out, v, lua_resp, depth + 1);
    }
}

fn big_number(out: &mut Reply, s: &[u8]) {
    if out.resp >= 3 {
        out.buf.push(b'(');
        out.buf.extend(
            s.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        out.buf.extend_from_slice(b"\r\n");
    } else {
        out.bulk(s);
    }
}

/// The reply for a script that raised an error: the error table built by
/// the error handler (`err`, `source`, `line`).
/// `replace` overrides the message (a killed script's error).
pub fn write_script_error(out: &mut Reply, v: &Value, name: &str, replace: Option<&str>) {
    let Value::Table(t) = v else {
        let msg = match v {
            Value::String(s) => s.to_string_lossy().into_owned(),
            other => format!("{other:?}"),
        };
        return out.err(&format!("Error running script {name}, {msg:.100}"));
    };
    let mut msg = match (replace, field(t, "err")) {
        (Some(r), _) => r.as_bytes().to_vec(),
        (None, Value::String(s)) => s.as_bytes().to_vec(),
        _ => Vec::new(),
    };
    if let (Value::String(src), Value::Integer(line)) = (field(t, "source"), field(t, "line")) {
        msg.extend_from_slice(
            format!(" script: {}, on {}:{}.", name, src.to_string_lossy(), line).as_bytes(),
        );
    }
    out.error_bytes(&msg);
}
