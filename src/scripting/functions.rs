//! Redis 7 functions: libraries loaded with FUNCTION LOAD (`#!lua name=lib`
//! header), each registering functions with redis.register_function, called
//! with FCALL/FCALL_RO. They live in the same Lua state as EVAL scripts.

use super::{Engine, State, Target};
use crate::commands::Ctx;
use crate::protocol::Reply;
use crate::store::Store;
use mlua::{Function, MultiValue, RegistryKey, Table, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// Flags a function may declare, in the order FUNCTION LIST prints them.
const FLAGS: &[&str] = &[
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];
const NO_WRITES: u32 = 1;

#[derive(Default)]
pub struct Registry {
    libraries: BTreeMap<String, Library>,
    functions: HashMap<String, Func>,
}

struct Library {
    code: Vec<u8>,
    /// Function names in registration order.
    functions: Vec<String>,
}

struct Func {
    key: RegistryKey,
    flags: u32,
    description: Option<Vec<u8>>,
}

/// A function registered while loading a library.
struct Registered {
    name: String,
    key: RegistryKey,
    flags: u32,
    description: Option<Vec<u8>>,
}

fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

const BAD_NAME: &str = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// Parses the `#!lua name=<lib>` header; returns the library name.
fn parse_header(code: &[u8]) -> Result<String, String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let end = code.iter().position(|&c| c == b'\n').unwrap_or(code.len());
    let header = String::from_utf8_lossy(&code[2..end]);
    let mut parts = header.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    let mut name = None;
    for p in parts {
        match p.strip_prefix("name=") {
            Some(n) => name = Some(n.to_string()),
            None => return Err(format!("ERR Invalid metadata value given: {p}")),
        }
    }
    let name = name.ok_or("ERR Library name was not given")?;
    if !valid_name(name.as_bytes()) {
        return Err(BAD_NAME.into());
    }
    Ok(name)
}

/// A function's name, callback, flags and description.
type Registration<'l> = (Vec<u8>, Function<'l>, u32, Option<Vec<u8>>);

/// Validates one redis.register_function call; Err is the Lua error text.
fn register_args<'l>(args: MultiValue<'l>) -> Result<Registration<'l>, String> {
    let args: Vec<Value> = args.into_iter().collect();
    let (name, callback, flags, description) = match args.as_slice() {
        [Value::Table(t)] => {
            let (mut name, mut cb, mut flags, mut desc) = (None, None, 0, None);
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|e| e.to_string())?;
                let Value::String(k) = k else {
                    return Err("ERR named argument key given to redis.register_function is not a string".into());
                };
                match (k.as_bytes(), v) {
                    (b"function_name", Value::String(s)) => name = Some(s.as_bytes().to_vec()),
                    (b"function_name", _) => return Err("ERR function_name argument given to redis.register_function must be a string".into()),
                    (b"description", Value::String(s)) => desc = Some(s.as_bytes().to_vec()),
                    (b"description", _) => return Err("ERR description argument given to redis.register_function must be a string".into()),
                    (b"callback", Value::Function(f)) => cb = Some(f),
                    (b"callback", _) => return Err("ERR callback argument given to redis.register_function must be a function".into()),
                    (b"flags", Value::Table(fl)) => flags = parse_flags(&fl)?,
                    (b"flags", _) => return Err("ERR flags argument to redis.register_function must be a table representing function flags".into()),
                    _ => return Err("ERR unknown argument given to redis.register_function".into()),
                }
            }
            let name = name.ok_or("ERR redis.register_function must get a function name argument")?;
            let cb = cb.ok_or("ERR redis.register_function must get a callback argument")?;
            (name, cb, flags, desc)
        }
        [_] => return Err("ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).".into()),
        [Value::String(n), Value::Function(f)] => (n.as_bytes().to_vec(), f.clone(), 0, None),
        [_, Value::Function(_)] => return Err("ERR first argument to redis.register_function must be a string".into()),
        [_, _] => return Err("ERR second argument to redis.register_function must be a function".into()),
        _ => return Err("ERR wrong number of arguments to redis.register_function".into()),
    };
    if !valid_name(&name) {
        return Err(BAD_NAME.into());
    }
    Ok((name, callback, flags, description))
}

fn parse_flags(t: &Table) -> Result<u32, String> {
    let mut flags = 0;
    for v in t.clone().sequence_values::<Value>() {
        let Ok(Value::String(s)) = v else {
            return Err("ERR unknown flag given".into());
        };
        let pos = FLAGS
            .iter()
            .position(|f| f.as_bytes() == s.as_bytes())
            .ok_or("ERR unknown flag given")?;
        flags |= 1 << pos;
    }
    Ok(flags)
}

impl Engine {
    /// FUNCTION LOAD: returns the library name.
    pub fn function_load(&self, code: &[u8], replace: bool) -> Result<String, String> {
        let name = parse_header(code)?;
        let mut st = self.state.lock();
        if st.functions.libraries.contains_key(&name) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let registered = st.load_library(code)?;
        if registered.is_empty() {
            return Err("ERR No functions registered".into());
        }
        let reg = &mut st.functions;
        for r in &registered {
            if reg.functions.contains_key(&r.name.to_ascii_lowercase())
                && !reg
                    .libraries
                    .get(&name)
                    .is_some_and(|l| l.functions.iter().any(|f| f.eq_ignore_ascii_case(&r.name)))
            {
                return Err(format!("ERR Function {} already exists", r.name));
            }
        }
        let mut old = Vec::new();
        if let Some(lib) = reg.libraries.remove(&name) {
            for f in lib.functions {
                old.extend(reg.functions.remove(&f.to_ascii_lowercase()).map(|f| f.key));
            }
        }
        let mut names = Vec::new();
        for r in registered {
            names.push(r.name.clone());
            reg.functions.insert(
                r.name.to_ascii_lowercase(),
                Func {
                    key: r.key,
                    flags: r.flags,
                    description: r.description,
                },
            );
        }
        reg.libraries.insert(
            name.clone(),
            Library {
                code: code.to_vec(),
                functions: names,
            },
        );
        for k in old {
            let _ = st.lua.remove_registry_value(k);
        }
        self.recount(&st);
        Ok(name)
    }

    pub fn function_delete(&self, name: &[u8]) -> bool {
        let mut st = self.state.lock();
        let name = String::from_utf8_lossy(name).into_owned();
        let State { lua, functions, .. } = &mut *st;
        let Some(lib) = functions.libraries.remove(&name) else {
            return false;
        };
        for f in lib.functions {
            if let Some(f) = functions.functions.remove(&f.to_ascii_lowercase()) {
                let _ = lua.remove_registry_value(f.key);
            }
        }
        self.recount(&st);
        true
    }

    pub fn function_flush(&self) {
        let mut st = self.state.lock();
        let State { lua, functions, .. } = &mut *st;
        functions.libraries.clear();
        for (_, f) in functions.functions.drain() {
            let _ = lua.remove_registry_value(f.key);
        }
        self.recount(&st);
    }

    /// (libraries, functions) counts for FUNCTION STATS, readable while a
    /// function runs (and holds the state).
    pub fn function_counts(&self) -> (usize, usize) {
        *self.function_counts.lock()
    }

    fn recount(&self, st: &State) {
        *self.function_counts.lock() = (st.functions.libraries.len(), st.functions.functions.len());
    }

    /// FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern].
    pub fn function_list(&self, out: &mut Reply, pattern: Option<&[u8]>, with_code: bool) {
        let st = self.state.lock();
        let reg = &st.functions;
        let libs: Vec<(&String, &Library)> = reg
            .libraries
            .iter()
            .filter(|(n, _)| {
                pattern.is_none_or(|p| crate::util::glob_match(p, n.as_bytes(), false))
            })
            .collect();
        out.array(libs.len());
        for (name, lib) in libs {
            out.map(if with_code { 4 } else { 3 });
            out.bulk(b"library_name");
            out.bulk(name.as_bytes());
            out.bulk(b"engine");
            out.bulk(b"LUA");
            out.bulk(b"functions");
            out.array(lib.functions.len());
            for fname in &lib.functions {
                let Some(f) = reg.functions.get(&fname.to_ascii_lowercase()) else {
                    continue;
                };
                out.map(3);
                out.bulk(b"name");
                out.bulk(fname.as_bytes());
                out.bulk(b"description");
                match &f.description {
                    Some(d) => out.bulk(d),
                    None => out.null(),
                }
                out.bulk(b"flags");
                let set: Vec<&str> = FLAGS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| f.flags & (1 << i) != 0)
                    .map(|(_, n)| *n)
                    .collect();
                out.set(set.len());
                for s in set {
                    out.simple(s);
                }
            }
            if with_code {
                out.bulk(b"library_code");
                out.bulk(&lib.code);
            }
        }
    }

    /// The code of every library, for FUNCTION DUMP.
    pub fn library_codes(&self) -> Vec<Vec<u8>> {
        let st = self.state.lock();
        st.functions
            .libraries
            .values()
            .map(|l| l.code.clone())
            .collect()
    }

    /// FCALL / FCALL_RO.
    pub fn fcall(
        &self,
        ctx: &mut Ctx,
        store: &mut Store,
        name: &[u8],
        keys: &[&[u8]],
        args: &[&[u8]],
        read_only: bool,
    ) {
        let st = self.state.lock();
        let name = String::from_utf8_lossy(name).into_owned();
        let Some(func) = st.functions.functions.get(&name.to_ascii_lowercase()) else {
            return ctx.out.err("Function not found");
        };
        let no_writes = func.flags & NO_WRITES != 0;
        if read_only && !no_writes {
            return ctx
                .out
                .err("Can not execute a script with write flag using *_ro command.");
        }
        let lua = &st.lua;
        let res = (|| -> mlua::Result<()> {
            let f: Function = lua.registry_value(&func.key)?;
            let target = Target {
                func: f,
                name: &name,
                fcall: Some((
                    super::string_table(lua, keys)?,
                    super::string_table(lua, args)?,
                )),
            };
            self.run(&st, ctx, store, target, read_only || no_writes)
        })();
        if let Err(e) = res {
            ctx.out.err(&format!("Error running script: {e}"));
        }
    }
}

impl State {
    /// Compiles and runs a library's code, collecting what it registers.
    fn load_library(&mut self, code: &[u8]) -> Result<Vec<Registered>, String> {
        let lua = &self.lua;
        // The header line is blanked, keeping line numbers as Redis reports them.
        let header_end = code.iter().position(|&c| c == b'\n').unwrap_or(code.len());
        let mut body = code[header_end..].to_vec();
        body.insert(0, b' ');
        let hidden: Table = lua
            .registry_value(&self.hidden)
            .map_err(|e| format!("ERR {e}"))?;
        let fenv: Table = hidden.raw_get("fenv").map_err(|e| format!("ERR {e}"))?;
        let chunk = lua
            .load(&body)
            .set_name("@user_function")
            .set_environment(fenv)
            .into_function()
            .map_err(|e| format!("ERR Error compiling function: {}", super::lua_message(&e)))?;
        let registered: RefCell<Vec<Registered>> = RefCell::new(Vec::new());
        let result = lua.scope(|scope| {
            let register = scope.create_function(|lua, args: MultiValue| {
                let err = |m: String| -> mlua::Result<Value> {
                    let t = lua.create_table()?;
                    t.raw_set("err", m)?;
                    Ok(Value::Table(t))
                };
                let (name, f, flags, description) = match register_args(args) {
                    Ok(v) => v,
                    Err(m) => return err(m),
                };
                let name = String::from_utf8_lossy(&name).into_owned();
                let mut reg = registered.borrow_mut();
                if reg.iter().any(|r| r.name == name) {
                    return err("ERR Function already exists in the library".into());
                }
                reg.push(Registered {
                    name,
                    key: lua.create_registry_value(f)?,
                    flags,
                    description,
                });
                Ok(Value::Nil)
            })?;
            hidden.raw_set("register", register)?;
            hidden.raw_set("loading", true)?;
            let runner: Function = hidden.raw_get("run")?;
            let out = runner.call::<_, MultiValue>((chunk, 0));
            hidden.raw_set("loading", false)?;
            hidden.raw_set("register", Value::Nil)?;
            out
        });
        let mut vals = result.map_err(|e| format!("ERR {e}"))?.into_iter();
        if !matches!(vals.next(), Some(Value::Boolean(true))) {
            let msg = match vals.next() {
                Some(Value::Table(t)) => match t.raw_get::<_, Value>("err") {
                    Ok(Value::String(s)) => s.to_string_lossy().into_owned(),
                    _ => String::new(),
                },
                _ => String::new(),
            };
            for r in registered.into_inner() {
                let _ = lua.remove_registry_value(r.key);
            }
            return Err(format!("ERR Error registering functions: {msg}"));
        }
        Ok(registered.into_inner())
    }
}
