//! Redis 7 functions: libraries loaded with FUNCTION LOAD (`#!lua name=lib`
//! header), each registering functions with redis.register_function, called
//! with FCALL/FCALL_RO. They live in the same Lua state as EVAL scripts.

use super::{Engine, Shebang, State, Target};
use crate::commands::Ctx;
use crate::persistence::rdb;
use crate::protocol::Reply;
use crate::store::Store;
use mlua::{Function, Lua, MultiValue, RegistryKey, Table, Value};
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

/// Parses the `#!lua name=<lib>` header (Redis's
/// `functionExtractLibMetaData`, then the name and engine checks, in
/// Redis's order); returns the library name.
fn parse_header(code: &[u8]) -> Result<String, String> {
    let words = match super::shebang(code) {
        Shebang::Absent => return Err("ERR Missing library metadata".into()),
        Shebang::Unterminated | Shebang::Unparsable => {
            return Err("ERR Invalid library metadata".into())
        }
        Shebang::Words(w) => w,
    };
    let mut name = None;
    for w in &words[1..] {
        match w.get(..5) {
            Some(p) if p.eq_ignore_ascii_case(b"name=") => {
                if name.is_some() {
                    return Err(
                        "ERR Invalid metadata value, name argument was given multiple times".into(),
                    );
                }
                name = Some(&w[5..]);
            }
            _ => {
                let w = String::from_utf8_lossy(w);
                return Err(format!("ERR Invalid metadata value given: {w}"));
            }
        }
    }
    let name = name.ok_or("ERR Library name was not given")?;
    if !valid_name(name) {
        return Err(BAD_NAME.into());
    }
    let engine = words[0].get(2..).unwrap_or_default();
    if !engine.eq_ignore_ascii_case(b"lua") {
        let engine = String::from_utf8_lossy(engine);
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    Ok(String::from_utf8_lossy(name).into_owned())
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

/// The bit of a script flag (case-sensitive, as in Redis).
pub(super) fn flag_bit(name: &[u8]) -> Option<u32> {
    let pos = FLAGS.iter().position(|f| f.as_bytes() == name)?;
    Some(1 << pos)
}

/// Whether declared script flags allow writes (no `no-writes`).
pub(super) fn declares_writes(flags: u32) -> bool {
    flags & NO_WRITES == 0
}

/// What `scriptPrepareForRun` checks of a function's or a flagged EVAL
/// script's flags before it runs; Ok says whether it runs read-only (no
/// writes allowed inside). Without replication, cluster or an OOM state
/// only `no-writes` matters here.
pub(super) fn check_run_flags(flags: u32, read_only: bool) -> Result<bool, &'static str> {
    let no_writes = flags & NO_WRITES != 0;
    if read_only && !no_writes {
        return Err("ERR Can not execute a script with write flag using *_ro command.");
    }
    Ok(read_only || no_writes)
}

fn parse_flags(t: &Table) -> Result<u32, String> {
    let mut flags = 0;
    for v in t.clone().sequence_values::<Value>() {
        let Ok(Value::String(s)) = v else {
            return Err("ERR unknown flag given".into());
        };
        flags |= flag_bit(s.as_bytes()).ok_or("ERR unknown flag given")?;
    }
    Ok(flags)
}

/// What FUNCTION RESTORE does with the libraries already loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Replace them all with the payload's.
    Flush,
    /// Add the payload's; a library of the same name is an error.
    Append,
    /// Add the payload's, replacing libraries of the same name.
    Replace,
}

/// A library taken out of a registry with its functions (in the library's
/// order), to be put back or dropped. Dropping frees the Lua callbacks
/// (mlua releases a dropped `RegistryKey`'s slot on its next registry use).
struct Detached {
    name: String,
    library: Library,
    functions: Vec<Func>,
}

impl Registry {
    /// The function FCALL calls by `name` (case-insensitive).
    fn function(&self, name: &[u8]) -> Option<&Func> {
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        self.functions.get(&name)
    }

    /// The flags of the function FCALL would call by `name`.
    pub(super) fn flags_of(&self, name: &[u8]) -> Option<u32> {
        self.function(name).map(|f| f.flags)
    }

    fn detach(&mut self, name: &str) -> Option<Detached> {
        let library = self.libraries.remove(name)?;
        let functions = library
            .functions
            .iter()
            .filter_map(|f| self.functions.remove(&f.to_ascii_lowercase()))
            .collect();
        Some(Detached {
            name: name.to_string(),
            library,
            functions,
        })
    }

    fn attach(&mut self, d: Detached) {
        for (name, f) in d.library.functions.iter().zip(d.functions) {
            self.functions.insert(name.to_ascii_lowercase(), f);
        }
        self.libraries.insert(d.name, d.library);
    }

    /// Loads a library into this registry (Redis's
    /// `functionsCreateWithLibraryCtx`): returns its name. On error the
    /// registry is left as it was.
    fn create(
        &mut self,
        lua: &Lua,
        hidden: &RegistryKey,
        code: &[u8],
        replace: bool,
    ) -> Result<String, String> {
        let name = parse_header(code)?;
        if self.libraries.contains_key(&name) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        // The old version's functions may be redefined by the new one.
        let old = self.detach(&name);
        let loaded = load_library(lua, hidden, code).and_then(|registered| {
            if registered.is_empty() {
                return Err("ERR No functions registered".into());
            }
            match registered
                .iter()
                .find(|r| self.functions.contains_key(&r.name.to_ascii_lowercase()))
            {
                Some(r) => Err(format!("ERR Function {} already exists", r.name)),
                None => Ok(registered),
            }
        });
        let registered = match loaded {
            Ok(r) => r,
            Err(e) => {
                if let Some(old) = old {
                    self.attach(old);
                }
                return Err(e);
            }
        };
        let (names, functions) = registered
            .into_iter()
            .map(|r| {
                let f = Func {
                    key: r.key,
                    flags: r.flags,
                    description: r.description,
                };
                (r.name, f)
            })
            .unzip();
        self.attach(Detached {
            name: name.clone(),
            library: Library {
                code: code.to_vec(),
                functions: names,
            },
            functions,
        });
        Ok(name)
    }

    /// Moves every library of `src` into this registry, all or none
    /// (Redis's `libraryJoin`).
    fn join(&mut self, mut src: Registry, replace: bool) -> Result<(), String> {
        let mut replaced = Vec::new();
        let mut error = None;
        for name in src.libraries.keys() {
            if self.libraries.contains_key(name) {
                if !replace {
                    error = Some(format!("ERR Library {name} already exists"));
                    break;
                }
                replaced.extend(self.detach(name));
            }
        }
        if error.is_none() {
            error = src
                .libraries
                .values()
                .flat_map(|l| &l.functions)
                .find(|f| self.functions.contains_key(&f.to_ascii_lowercase()))
                .map(|f| format!("ERR Function {f} already exists"));
        }
        if let Some(e) = error {
            for d in replaced {
                self.attach(d);
            }
            return Err(e);
        }
        let names: Vec<String> = src.libraries.keys().cloned().collect();
        for name in names {
            if let Some(d) = src.detach(&name) {
                self.attach(d);
            }
        }
        Ok(())
    }
}

impl Engine {
    /// FUNCTION LOAD: returns the library name.
    pub fn function_load(&self, code: &[u8], replace: bool) -> Result<String, String> {
        let mut st = self.state.lock();
        let State {
            lua,
            hidden,
            functions,
            ..
        } = &mut *st;
        let name = functions.create(lua, hidden, code, replace)?;
        self.recount(&st);
        Ok(name)
    }

    /// FUNCTION DUMP: every library in Redis's DUMP payload format.
    pub fn function_dump(&self) -> Vec<u8> {
        let st = self.state.lock();
        let mut w = rdb::Writer::new();
        for lib in st.functions.libraries.values() {
            w.save_function(&lib.code);
        }
        w.into_dump_payload()
    }

    /// FUNCTION RESTORE: loads every library of a FUNCTION DUMP payload,
    /// then merges them by `policy`; on any error nothing changes.
    pub fn function_restore(&self, payload: &[u8], policy: RestorePolicy) -> Result<(), String> {
        if rdb::verify_dump_payload(payload).is_none() {
            return Err("ERR DUMP payload version or checksum are wrong".into());
        }
        let mut st = self.state.lock();
        let State {
            lua,
            hidden,
            functions,
            ..
        } = &mut *st;
        let mut restored = Registry::default();
        let mut r = rdb::Reader::new(payload);
        while r.remaining() > rdb::DUMP_FOOTER_LEN {
            let opcode = r.load_type().ok_or("ERR can not read data type")?;
            if opcode != rdb::OPCODE_FUNCTION2 && opcode != rdb::OPCODE_FUNCTION_PRE_GA {
                return Err("ERR given type is not a function".into());
            }
            let code = r.load_function(opcode).map_err(|e| format!("ERR {e}"))?;
            restored.create(lua, hidden, &code, false)?;
        }
        match policy {
            RestorePolicy::Flush => *functions = restored,
            RestorePolicy::Append => functions.join(restored, false)?,
            RestorePolicy::Replace => functions.join(restored, true)?,
        }
        self.recount(&st);
        Ok(())
    }

    pub fn function_delete(&self, name: &[u8]) -> bool {
        let mut st = self.state.lock();
        let found = st
            .functions
            .detach(&String::from_utf8_lossy(name))
            .is_some();
        self.recount(&st);
        found
    }

    pub fn function_flush(&self) {
        let mut st = self.state.lock();
        st.functions = Registry::default();
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
        let Some(func) = st.functions.function(name) else {
            return ctx.out.err("Function not found");
        };
        let name = String::from_utf8_lossy(name);
        let read_only = match check_run_flags(func.flags, read_only) {
            Ok(r) => r,
            Err(e) => return ctx.out.error(e),
        };
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
            self.run(&st, ctx, store, target, read_only)
        })();
        if let Err(e) = res {
            ctx.out.err(&format!("Error running script: {e}"));
        }
    }
}

/// Compiles and runs a library's code, collecting what it registers.
fn load_library(lua: &Lua, hidden: &RegistryKey, code: &[u8]) -> Result<Vec<Registered>, String> {
    // The header line is blanked, keeping line numbers as Redis reports them.
    let header_end = code.iter().position(|&c| c == b'\n').unwrap_or(code.len());
    let mut body = code[header_end..].to_vec();
    body.insert(0, b' ');
    let hidden: Table = lua.registry_value(hidden).map_err(|e| format!("ERR {e}"))?;
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
        let out = super::bounded(lua, || runner.call::<_, MultiValue>((chunk, 0)));
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
            // Lua reports running out of memory as a plain string, without
            // calling the error handler.
            Some(Value::String(s)) => s.to_string_lossy().into_owned(),
            _ => String::new(),
        };
        for r in registered.into_inner() {
            let _ = lua.remove_registry_value(r.key);
        }
        return Err(format!("ERR Error registering functions: {msg}"));
    }
    Ok(registered.into_inner())
}
