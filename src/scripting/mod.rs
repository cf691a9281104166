//! The Lua engine behind EVAL and FCALL: one Lua 5.1 state for the whole
//! server, like Redis, with Redis's `redis` API, sandbox and libraries.
//!
//! A script runs inside a command handler that already holds every shard
//! lock (the command is flagged `ALL_SHARDS`), so it is atomic like
//! MULTI/EXEC: `redis.call` dispatches through the command table with those
//! held locks, for any key and any database. Only one script runs at a time
//! (the locks serialize them); `Busy` lets other connections see that one
//! is running without touching the locks (BUSY replies, SCRIPT KILL).

mod capi;
mod cmsgpack;
mod convert;
pub mod functions;
mod libs;
mod lua_struct;
mod readonly;

use crate::commands::{lookup, table::f, Ctx};
use crate::protocol::Reply;
use crate::server::{Client, Server};
use crate::store::Store;
use mlua::{
    Function, HookTriggers, Lua, LuaOptions, MultiValue, RegistryKey, StdLib, Table, Value,
};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

pub use convert::write_value;

/// Bytes a Lua state may allocate before scripts fail with "not enough memory".
const LUA_MEMORY_LIMIT: usize = 1 << 30;

/// Runs user code (a script, a library's load) with the Lua memory limit
/// on. Between runs the state has no limit, because mlua guards every API
/// call with a pcall (and two fresh closures) while a limit is set; the
/// calls between runs only copy a command's arguments, which the query
/// buffer limits already bound.
fn bounded<R>(lua: &Lua, user_code: impl FnOnce() -> mlua::Result<R>) -> mlua::Result<R> {
    struct Unlimit<'l>(&'l Lua);
    impl Drop for Unlimit<'_> {
        fn drop(&mut self) {
            let _ = self.0.set_memory_limit(0);
        }
    }
    lua.set_memory_limit(LUA_MEMORY_LIMIT)?;
    let _unlimit = Unlimit(lua);
    user_code()
}

/// A script starts on its connection's worker thread, which is cheapest for
/// the usual microsecond script; once it has run this long the worker's
/// other connections move to another thread, so they can get BUSY and
/// SCRIPT KILL can reach the server.
const HAND_OFF_AFTER_MS: i64 = 2;
/// How long the script's thread waits for the replacement worker to take
/// over, and how often it tries again should that have lost the race.
const HAND_OFF_GRACE: std::time::Duration = std::time::Duration::from_millis(1);
const HAND_OFF_RETRY_MS: i64 = 100;

/// The globals Redis 7.0 leaves to scripts; everything else the standard
/// libraries define is removed.
const GLOBALS: &[&str] = &[
    "_G",
    "_VERSION",
    "__redis__err__handler",
    "assert",
    "bit",
    "cjson",
    "cmsgpack",
    "collectgarbage",
    "coroutine",
    "error",
    "gcinfo",
    "getmetatable",
    "ipairs",
    "load",
    "loadstring",
    "math",
    "next",
    "pairs",
    "pcall",
    "rawequal",
    "rawget",
    "rawset",
    "redis",
    "select",
    "setmetatable",
    "string",
    "struct",
    "table",
    "tonumber",
    "tostring",
    "type",
    "unpack",
    "xpcall",
];

/// What other connections can see of the running script.
#[derive(Default)]
pub struct Busy {
    running: AtomicBool,
    started_ms: AtomicI64,
    /// Commands waiting for the script sleep on `ended` (under `gate`) so
    /// they resume the moment it finishes, not on a polling tick: scripts
    /// usually run for microseconds.
    gate: Mutex<()>,
    ended: parking_lot::Condvar,
    /// Set by SCRIPT KILL / FUNCTION KILL; the Lua hook aborts the script.
    kill: AtomicBool,
    /// A script that wrote cannot be killed (UNKILLABLE).
    wrote: AtomicBool,
    function: AtomicBool,
    /// The running FCALL's function and command, for FUNCTION STATS.
    current: Mutex<Option<(String, Vec<Vec<u8>>)>>,
    /// Run time (ms) at which the script next hands its worker off.
    hand_off_at: AtomicI64,
}

impl Busy {
    /// True once the running script has run longer than `threshold_ms`:
    /// other clients then get BUSY instead of waiting for it.
    pub fn over(&self, threshold_ms: i64) -> bool {
        self.running.load(Ordering::Acquire)
            && crate::util::now_ms() - self.started_ms.load(Ordering::Relaxed) >= threshold_ms
    }

    pub fn running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    fn start(&self) {
        self.hand_off_at.store(HAND_OFF_AFTER_MS, Ordering::Relaxed);
        self.running.store(true, Ordering::Release);
    }

    /// Called from the script's thread (Lua hook, `redis.call`): a script
    /// that has run past HAND_OFF_AFTER_MS gives its worker's scheduler to a
    /// new thread and goes on running outside the runtime. tokio's
    /// block_in_place hands the scheduler over; when the new thread has
    /// taken it by the end of the grace, this thread stays off the runtime
    /// after the command instead of taking it back.
    fn hand_off_if_long(&self, now_ms: i64) {
        let ran_ms = now_ms - self.started_ms.load(Ordering::Relaxed);
        if ran_ms < self.hand_off_at.load(Ordering::Relaxed) || !self.running() {
            return;
        }
        self.hand_off_at
            .store(ran_ms + HAND_OFF_RETRY_MS, Ordering::Relaxed);
        tokio::task::block_in_place(|| std::thread::sleep(HAND_OFF_GRACE));
    }

    fn end(&self) {
        self.running.store(false, Ordering::Release);
        // Taking the gate orders this after any waiter's check of `running`.
        drop(self.gate.lock());
        self.ended.notify_all();
    }

    /// SCRIPT KILL (`function` false) or FUNCTION KILL; the error to reply,
    /// if the kill was refused.
    pub fn kill(&self, function: bool) -> Result<(), &'static str> {
        if !self.running() {
            return Err("NOTBUSY No scripts in execution right now.");
        }
        if self.function.load(Ordering::Relaxed) != function {
            return Err(self.busy_error());
        }
        if self.wrote.load(Ordering::Relaxed) {
            return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        }
        self.kill.store(true, Ordering::Release);
        Ok(())
    }

    /// The running function's name, command and run time so far.
    pub fn current(&self) -> Option<(String, Vec<Vec<u8>>, i64)> {
        let cur = self.current.lock().clone()?;
        let ms = crate::util::now_ms() - self.started_ms.load(Ordering::Relaxed);
        self.running().then_some((cur.0, cur.1, ms))
    }

    /// Called before a command that is not `allow_busy` runs while a script
    /// may be running: waits for the script to end, but once it has run
    /// past `threshold_ms` returns the BUSY error to reply instead. Waiting
    /// blocks this worker thread, like a shard lock would, but never past
    /// the threshold, so SCRIPT KILL always gets a worker.
    pub fn wait(&self, threshold_ms: i64) -> Option<&'static str> {
        let mut gate = self.gate.lock();
        while self.running() {
            let ran_ms = crate::util::now_ms() - self.started_ms.load(Ordering::Relaxed);
            if ran_ms >= threshold_ms {
                return Some(self.busy_error());
            }
            let left = std::time::Duration::from_millis((threshold_ms - ran_ms) as u64);
            self.ended.wait_for(&mut gate, left);
        }
        None
    }

    pub fn busy_error(&self) -> &'static str {
        if self.function.load(Ordering::Relaxed) {
            "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
        } else {
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        }
    }
}

pub struct Engine {
    state: Mutex<State>,
    pub busy: Arc<Busy>,
    function_counts: Mutex<(usize, usize)>,
}

struct State {
    lua: Lua,
    /// EVAL scripts by lowercase SHA1: the compiled chunk and its `#!lua`
    /// flags (None for a script without shebang: Redis's compatibility mode).
    scripts: HashMap<String, (RegistryKey, Option<u32>)>,
    /// Table shared with the prelude: `run`, `fenv`, `register`, `loading`;
    /// also the real globals (`G`) and `redis` table behind their proxies.
    hidden: RegistryKey,
    /// The protocol the running script chose with redis.setresp.
    resp: Arc<AtomicU8>,
    active: Arc<ActiveRun>,
    functions: functions::Registry,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    pub fn new() -> Engine {
        let busy = Arc::new(Busy::default());
        let state = match State::new(busy.clone()) {
            Ok(s) => s,
            // The state is built from fixed code: failing here is a bug in
            // the prelude, caught by every scripting test.
            Err(e) => panic!("cannot create the Lua state: {e}"),
        };
        Engine {
            state: Mutex::new(state),
            busy,
            function_counts: Mutex::new((0, 0)),
        }
    }

    /// SCRIPT LOAD: compiles the body and returns its SHA1.
    pub fn load_script(&self, body: &[u8]) -> Result<String, String> {
        let mut st = self.state.lock();
        st.compile(body)
    }

    pub fn script_exists(&self, sha: &[u8]) -> bool {
        let st = self.state.lock();
        std::str::from_utf8(sha).is_ok_and(|s| st.scripts.contains_key(&s.to_ascii_lowercase()))
    }

    pub fn flush_scripts(&self) {
        let mut st = self.state.lock();
        let State { lua, scripts, .. } = &mut *st;
        for (_, (k, _)) in scripts.drain() {
            let _ = lua.remove_registry_value(k);
        }
        lua.expire_registry_values();
    }

    /// Whether a script command (`cmd_name`, arguments `args`) may write, as
    /// Redis's getCommandFlags decides before running it: a script or
    /// function that declares flags writes unless it declared `no-writes`;
    /// None when nothing is declared (or the script is unknown), so the
    /// command's own flags stand. CLIENT PAUSE WRITE lets declared read-only
    /// scripts through.
    pub fn declares_writes(&self, cmd_name: &str, args: &[&[u8]]) -> Option<bool> {
        const SCRIPT_COMMANDS: &[&str] = &[
            "eval",
            "eval_ro",
            "evalsha",
            "evalsha_ro",
            "fcall",
            "fcall_ro",
        ];
        if !SCRIPT_COMMANDS.contains(&cmd_name) {
            return None;
        }
        let name = args.get(1)?;
        let st = self.state.lock();
        let flags = match cmd_name {
            "fcall" | "fcall_ro" => st.functions.flags_of(name)?,
            "evalsha" | "evalsha_ro" if name.len() == 40 => {
                let sha = String::from_utf8_lossy(name).to_ascii_lowercase();
                st.scripts.get(&sha)?.1?
            }
            // A script not loaded yet: its shebang says (Redis reads it too).
            "eval" | "eval_ro" => match st.scripts.get(&sha1_hex(name)) {
                Some((_, flags)) => (*flags)?,
                None => script_flags(name).ok()?.0?,
            },
            _ => return None,
        };
        Some(functions::declares_writes(flags))
    }

    /// Runs an EVAL/EVALSHA script. `body` is the source for EVAL, None for
    /// EVALSHA (`sha` given).
    pub fn eval(
        &self,
        ctx: &mut Ctx,
        store: &mut Store,
        body: Option<&[u8]>,
        sha: &[u8],
        (keys, args): crate::commands::scripting::KeysArgs,
        read_only: bool,
    ) {
        let mut st = self.state.lock();
        let sha = match body {
            Some(b) => match st.compile(b) {
                Ok(sha) => sha,
                Err(e) => return ctx.out.error(&e),
            },
            None => String::from_utf8_lossy(sha).to_ascii_lowercase(),
        };
        let Some((key, flags)) = st.scripts.get(&sha) else {
            return ctx
                .out
                .error("NOSCRIPT No matching script. Please use EVAL.");
        };
        let read_only = match flags {
            None => read_only,
            Some(flags) => match functions::check_run_flags(*flags, read_only) {
                Ok(read_only) => read_only,
                Err(e) => return ctx.out.error(e),
            },
        };
        let lua = &st.lua;
        let res = (|| -> mlua::Result<()> {
            let f: Function = lua.registry_value(key)?;
            let hidden: Table = lua.registry_value(&st.hidden)?;
            let g: Table = hidden.raw_get("G")?;
            g.raw_set("KEYS", string_table(lua, keys)?)?;
            g.raw_set("ARGV", string_table(lua, args)?)?;
            let target = Target {
                func: f,
                name: &sha,
                fcall: None,
            };
            self.run(&st, ctx, store, target, read_only)
        })();
        if let Err(e) = res {
            ctx.out.err(&format!("Error running script: {e}"));
        }
    }

    /// Calls the script function with every shard locked and writes its
    /// result (or error) to the client.
    fn run(
        &self,
        st: &State,
        ctx: &mut Ctx,
        store: &mut Store,
        target: Target,
        read_only: bool,
    ) -> mlua::Result<()> {
        let lua = &st.lua;
        let hidden: Table = lua.registry_value(&st.hidden)?;
        st.resp.store(2, Ordering::Relaxed);
        let runner: Function = hidden.raw_get("run")?;
        let caller_db = ctx.client.db;
        let caller_resp = ctx.client.resp;
        let mut run = Run {
            srv: ctx.srv,
            client: &mut *ctx.client,
            store,
            read_only,
        };
        self.busy.kill.store(false, Ordering::Relaxed);
        self.busy.wrote.store(false, Ordering::Relaxed);
        self.busy
            .function
            .store(target.fcall.is_some(), Ordering::Relaxed);
        self.busy
            .started_ms
            .store(crate::util::now_ms(), Ordering::Relaxed);
        *self.busy.current.lock() = target.fcall.is_some().then(|| {
            (
                target.name.to_string(),
                ctx.args.iter().map(|a| a.to_vec()).collect(),
            )
        });
        self.busy.start();
        let result = st.active.serve(&mut run, || {
            bounded(lua, || match &target.fcall {
                None => runner.call::<_, MultiValue>((target.func.clone(), 0)),
                Some((k, a)) => {
                    runner.call::<_, MultiValue>((target.func.clone(), 1, k.clone(), a.clone()))
                }
            })
        });
        self.busy.end();
        let killed = self.busy.kill.swap(false, Ordering::AcqRel);
        run.client.no_block = false;
        run.client.resp = caller_resp;
        if run.client.db != caller_db {
            run.client.select(caller_db);
        }
        let resp = st.resp.load(Ordering::Relaxed);
        ctx.out.resp = caller_resp;
        let mut vals = result?.into_iter();
        let ok = matches!(vals.next(), Some(Value::Boolean(true)));
        let v = vals.next().unwrap_or(Value::Nil);
        if ok {
            write_value(&mut ctx.out, &v, resp);
        } else {
            // Redis words it so for FUNCTION KILL too.
            let kill_msg = killed.then_some("ERR Script killed by user with SCRIPT KILL...");
            convert::write_script_error(&mut ctx.out, &v, target.name, kill_msg);
        }
        Ok(())
    }
}

/// The function a run calls: an EVAL chunk, or an FCALL function with its
/// KEYS and ARGV tables.
struct Target<'l, 'n> {
    func: Function<'l>,
    name: &'n str,
    fcall: Option<(Table<'l>, Table<'l>)>,
}

/// Where `redis.call` finds the running script's `Run`. The functions are
/// created once with the Lua state (creating them per script cost more than
/// a short script itself), so they reach the run, which borrows the
/// caller's client and locked shards, through this pointer that is set only
/// while `serve` runs the script.
#[derive(Default)]
struct ActiveRun(AtomicPtr<Run<'static, 'static>>);

impl ActiveRun {
    /// Runs `script` with `run` available to `redis.call`.
    fn serve<R>(&self, run: &mut Run<'_, '_>, script: impl FnOnce() -> R) -> R {
        struct Clear<'p>(&'p ActiveRun);
        impl Drop for Clear<'_> {
            fn drop(&mut self) {
                self.0 .0.store(ptr::null_mut(), Ordering::Release);
            }
        }
        let erased = (run as *mut Run<'_, '_>).cast::<Run<'static, 'static>>();
        self.0.store(erased, Ordering::Release);
        let _clear = Clear(self);
        script()
    }

    /// Calls `f` with the run being served, None outside `serve`. The run is
    /// taken out of the slot meanwhile, so it is never borrowed twice.
    fn with<R>(&self, f: impl FnOnce(&mut Run<'_, '_>) -> R) -> Option<R> {
        let taken = self.0.swap(ptr::null_mut(), Ordering::Acquire);
        // SAFETY: a non-null pointer was stored by `serve` from a `&mut Run`
        // that outlives the script call, and is cleared before `serve`
        // returns (also when unwinding); taking it out of the slot makes
        // this the only reference to it until it is put back.
        let run = unsafe { taken.as_mut() }?;
        let out = f(run);
        self.0.store(taken, Ordering::Release);
        Some(out)
    }
}

/// The executing script's view of the server for `redis.call`.
struct Run<'a, 's> {
    srv: &'a Server,
    client: &'a mut Client,
    store: &'a mut Store<'s>,
    read_only: bool,
}

impl Run<'_, '_> {
    /// `redis.call`/`redis.pcall`: the reply, or the error reply's text.
    fn call<'l>(
        &mut self,
        lua: &'l Lua,
        args: MultiValue<'l>,
        busy: &Busy,
        resp: u8,
    ) -> mlua::Result<Result<Value<'l>, String>> {
        let err = |msg: &str| Ok(Err(msg.to_string()));
        if args.is_empty() {
            return err("ERR Please specify at least one argument for this redis lib call");
        }
        let mut owned: Vec<mlua::String> = Vec::with_capacity(args.len());
        for a in args {
            match a {
                Value::String(s) => owned.push(s),
                Value::Integer(_) | Value::Number(_) => match lua.coerce_string(a)? {
                    Some(s) => owned.push(s),
                    None => {
                        return err(
                            "ERR Lua redis lib command arguments must be strings or integers",
                        )
                    }
                },
                _ => return err("ERR Lua redis lib command arguments must be strings or integers"),
            }
        }
        let argv: Vec<&[u8]> = owned.iter().map(|s| s.as_bytes()).collect();
        let Some(cmd) = lookup(&argv) else {
            return err("ERR Unknown Redis command called from script");
        };
        if !cmd.arity_ok(argv.len()) {
            return err("ERR Wrong number of args calling Redis command from script");
        }
        if cmd.has(f::NOSCRIPT) {
            return err("ERR This Redis command is not allowed from script");
        }
        // Redis counts may-replicate commands (PUBLISH, PFCOUNT) as writes
        // here, so read-only scripts are safe to run under CLIENT PAUSE WRITE.
        if self.read_only && cmd.has(f::WRITE | f::MAY_REPLICATE) {
            return err("ERR Write commands are not allowed from read-only scripts.");
        }
        if cmd.has(f::WRITE) {
            busy.wrote.store(true, Ordering::Relaxed);
        }
        let now = crate::util::now_ms();
        busy.hand_off_if_long(now);
        self.client.resp = resp;
        self.client.no_block = true;
        self.store.db = self.client.db;
        self.store.now = now;
        let mut buf = Vec::new();
        let mut inner = Ctx {
            srv: self.srv,
            client: &mut *self.client,
            out: Reply::new(&mut buf, resp),
            args: &argv,
            cmd,
        };
        crate::commands::call(&mut inner, self.store, true);
        inner.client.after = crate::commands::After::Continue;
        if buf.first() == Some(&b'-') {
            let end = buf.len().saturating_sub(2).max(1);
            return err(&String::from_utf8_lossy(&buf[1..end]));
        }
        Ok(Ok(convert::resp_to_lua(lua, &buf)?))
    }
}

impl State {
    fn new(busy: Arc<Busy>) -> mlua::Result<State> {
        // The debug library is loaded for Redis's error handler, which keeps
        // a private reference; the global is removed with the others.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        let g = lua.globals();
        let redis = lua.create_table()?;
        redis.raw_set("REDIS_VERSION", crate::server::REDIS_VERSION)?;
        redis.raw_set("REDIS_VERSION_NUM", redis_version_num())?;
        let resp = Arc::new(AtomicU8::new(2));
        let chosen = resp.clone();
        redis.raw_set(
            "setresp",
            lua.create_function(move |_, args: MultiValue| {
                if args.len() != 1 {
                    return raise("ERR redis.setresp() requires one argument.");
                }
                match args.into_iter().next() {
                    Some(Value::Integer(v @ (2 | 3))) => {
                        chosen.store(v as u8, Ordering::Relaxed);
                        Ok(())
                    }
                    _ => raise("ERR RESP version must be 2 or 3."),
                }
            })?,
        )?;
        redis.raw_set(
            "set_repl",
            lua.create_function(|_, args: MultiValue| {
                if args.len() != 1 {
                    return raise("ERR redis.set_repl() requires one argument.");
                }
                match args.into_iter().next() {
                    Some(Value::Integer(0..=3)) => Ok(()),
                    _ => raise("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."),
                }
            })?,
        )?;
        redis.raw_set(
            "sha1hex",
            lua.create_function(|lua, args: MultiValue| {
                if args.len() != 1 {
                    return raise("ERR wrong number of arguments");
                }
                let v = args.into_iter().next().unwrap_or(Value::Nil);
                let s = lua.coerce_string(v)?;
                lua.create_string(sha1_hex(s.as_ref().map_or(&[][..], |s| s.as_bytes())))
            })?,
        )?;
        redis.raw_set(
            "error_reply",
            lua.create_function(|lua, args: MultiValue| match args.iter().next() {
                Some(Value::String(s)) if args.len() == 1 => {
                    error_table(lua, &String::from_utf8_lossy(s.as_bytes()))
                }
                // Redis returns (not raises) this error for bad arguments.
                _ => error_table(lua, "ERR wrong number or type of arguments"),
            })?,
        )?;
        redis.raw_set(
            "status_reply",
            lua.create_function(|lua, args: MultiValue| match args.iter().next() {
                Some(Value::String(s)) if args.len() == 1 => {
                    let t = lua.create_table()?;
                    t.raw_set("ok", s.clone())?;
                    Ok(t)
                }
                _ => error_table(lua, "ERR wrong number or type of arguments"),
            })?,
        )?;
        redis.raw_set("log", lua.create_function(log)?)?;
        redis.raw_set(
            "acl_check_cmd",
            lua.create_function(|_, name: mlua::String| Ok(lookup(&[name.as_bytes()]).is_some()))?,
        )?;
        let active = Arc::new(ActiveRun::default());
        for protected in [false, true] {
            let (active, busy, resp) = (active.clone(), busy.clone(), resp.clone());
            let f = lua.create_function(move |lua, args: MultiValue| {
                let resp = resp.load(Ordering::Relaxed);
                let reply = active
                    .with(|run| run.call(lua, args, &busy, resp))
                    .unwrap_or_else(|| {
                        Ok(Err("ERR redis.call is only available in a script".into()))
                    })?;
                match reply {
                    Ok(v) => Ok(v),
                    Err(msg) if protected => error_table(lua, &msg).map(Value::Table),
                    Err(msg) => raise(msg),
                }
            })?;
            redis.raw_set(if protected { "pcall" } else { "call" }, f)?;
        }
        g.raw_set("redis", redis)?;
        libs::register(&lua)?;
        let hidden = lua.create_table()?;
        let seed = Arc::new(AtomicU64::new(RAND48_SEED));
        let rand = lua.create_function(move |_, reseed: Option<i64>| {
            Ok(match reseed {
                Some(s) => {
                    seed.store(((s as u32 as u64) << 16) | 0x330E, Ordering::Relaxed);
                    0.0
                }
                None => rand48(&seed),
            })
        })?;
        lua.load(include_str!("prelude.lua"))
            .set_name("=[russet]")
            .call::<_, ()>((hidden.clone(), rand))?;
        let names: Vec<String> = g
            .clone()
            .pairs::<String, Value>()
            .filter_map(|p| p.ok().map(|(k, _)| k))
            .collect();
        for name in names {
            if !GLOBALS.contains(&name.as_str()) {
                g.raw_set(name, Value::Nil)?;
            }
        }
        hidden.raw_set("redis", g.raw_get::<_, Table>("redis")?)?;
        hidden.raw_set("G", readonly::install(&lua)?)?;
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(10_000),
            move |_, _| {
                if busy.kill.load(Ordering::Relaxed) {
                    return Err(mlua::Error::runtime("Script killed"));
                }
                busy.hand_off_if_long(crate::util::now_ms());
                Ok(())
            },
        );
        let hidden = lua.create_registry_value(hidden)?;
        drop(g);
        Ok(State {
            lua,
            scripts: HashMap::new(),
            hidden,
            resp,
            active,
            functions: functions::Registry::default(),
        })
    }

    /// Compiles an EVAL body (once per SHA1) and returns the SHA1.
    fn compile(&mut self, body: &[u8]) -> Result<String, String> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang_len) = script_flags(body)?;
        // The shebang line is skipped but its newline kept, so line numbers
        // in errors are the user's.
        let f = self
            .lua
            .load(&body[shebang_len..])
            .set_name("@user_script")
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    lua_message(&e)
                )
            })?;
        let key = self
            .lua
            .create_registry_value(f)
            .map_err(|e| format!("ERR {e}"))?;
        self.scripts.insert(sha.clone(), (key, flags));
        Ok(sha)
    }
}

/// The flags an EVAL script declares in its `#!lua flags=a,b` line (Redis's
/// `evalExtractShebangFlags`), None without a shebang, and the length of
/// that line.
fn script_flags(body: &[u8]) -> Result<(Option<u32>, usize), String> {
    let words = match shebang(body) {
        Shebang::Absent => return Ok((None, 0)),
        Shebang::Unterminated => return Err("ERR Invalid script shebang".into()),
        Shebang::Unparsable => return Err("ERR Invalid engine in script shebang".into()),
        Shebang::Words(w) => w,
    };
    if words[0] != b"#!lua" {
        let engine = String::from_utf8_lossy(&words[0]);
        return Err(format!("ERR Unexpected engine in script shebang: {engine}"));
    }
    let mut flags = 0;
    for w in &words[1..] {
        let Some(list) = w.strip_prefix(b"flags=") else {
            let w = String::from_utf8_lossy(w);
            return Err(format!("ERR Unknown lua shebang option: {w}"));
        };
        // sdssplitlen: nothing for an empty list, else every piece.
        for name in list.split(|&c| c == b',').filter(|_| !list.is_empty()) {
            flags |= functions::flag_bit(name).ok_or_else(|| {
                let name = String::from_utf8_lossy(name);
                format!("ERR Unexpected flag in script shebang: {name}")
            })?;
        }
    }
    let line = body.iter().position(|&c| c == b'\n').unwrap_or(body.len());
    Ok((Some(flags), line))
}

/// The `#!` line of a script or library, split into words as Redis does.
pub(crate) enum Shebang {
    /// The code does not start with `#!`.
    Absent,
    /// No newline ends the `#!` line.
    Unterminated,
    /// Unbalanced quotes.
    Unparsable,
    /// The words; the first is `#!` and the engine.
    Words(Vec<Vec<u8>>),
}

/// Splits the `#!` line with `sdssplitargs`. Redis reads the code as a C
/// string here, so it ends at the first NUL byte.
pub(crate) fn shebang(code: &[u8]) -> Shebang {
    let code = &code[..code.iter().position(|&c| c == 0).unwrap_or(code.len())];
    if !code.starts_with(b"#!") {
        return Shebang::Absent;
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else {
        return Shebang::Unterminated;
    };
    let mut words = Vec::new();
    match crate::protocol::split_args(&code[..end], &mut words) {
        Some(()) if !words.is_empty() => Shebang::Words(words),
        _ => Shebang::Unparsable,
    }
}

/// A Lua array of the given strings (KEYS, ARGV).
fn string_table<'l>(lua: &'l Lua, items: &[&[u8]]) -> mlua::Result<Table<'l>> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, s) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(s)?)?;
    }
    Ok(t)
}

/// The text Lua produced for an error, without mlua's decorations.
fn lua_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::MemoryError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_message(cause),
        other => other.to_string(),
    }
}

/// Redis's rand48 (as in drand48) and its default seed.
const RAND48_SEED: u64 = 0x1234_ABCD_330E;

fn rand48(state: &AtomicU64) -> f64 {
    let x = state.load(Ordering::Relaxed);
    let next = (x.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB)) & ((1 << 48) - 1);
    state.store(next, Ordering::Relaxed);
    let r = (next >> 17) as i64;
    (r % i32::MAX as i64) as f64 / i32::MAX as f64
}

fn redis_version_num() -> i64 {
    crate::server::REDIS_VERSION
        .split('.')
        .fold(0, |acc, p| (acc << 8) | p.parse::<i64>().unwrap_or(0))
}

pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// redis.log(level, message...).
fn log(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    let mut it = args.into_iter();
    let (Some(level), Some(first)) = (it.next(), it.next()) else {
        return raise("ERR redis.log() requires two arguments or more.");
    };
    let (Value::Integer(_) | Value::Number(_)) = level else {
        return raise("ERR First argument must be a number (log level).");
    };
    let level = lua.coerce_integer(level)?.unwrap_or(-1);
    if !(0..=3).contains(&level) {
        return raise("ERR Invalid debug level.");
    }
    let mut msg = String::new();
    for (i, v) in std::iter::once(first).chain(it).enumerate() {
        if i > 0 {
            msg.push(' ');
        }
        if let Some(s) = lua.coerce_string(v)? {
            msg.push_str(&s.to_string_lossy());
        }
    }
    match level {
        0 | 1 => tracing::debug!("{msg}"),
        2 => tracing::info!("{msg}"),
        _ => tracing::warn!("{msg}"),
    }
    Ok(())
}

/// An error a Rust function raises as Redis raises an error table: the
/// prelude's error handler recognises the leading \x01 and rebuilds the
/// table, so the reply carries the text exactly.
#[derive(Debug)]
struct Raised(String);

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Raised {}

fn raise<T>(msg: impl Into<String>) -> mlua::Result<T> {
    Err(mlua::Error::external(Raised(format!("\x01{}", msg.into()))))
}

/// A plain Lua error string (as luaL_error raises), carried the same way
/// with \x02 so mlua's "runtime error" decoration does not show.
fn raise_plain<T>(msg: String) -> mlua::Result<T> {
    Err(mlua::Error::external(Raised(format!("\x02{msg}"))))
}

/// Redis's error table for an error reply: `{err = "CODE message"}`, the
/// leading '-' dropped and ERR supplied when the text has no code.
fn error_table<'l>(lua: &'l Lua, reply: &str) -> mlua::Result<Table<'l>> {
    let text = reply.strip_prefix('-').unwrap_or(reply);
    let text = text.trim_end_matches(['\r', '\n']);
    let t = lua.create_table()?;
    if text.contains(' ') {
        t.raw_set("err", text)?;
    } else {
        t.raw_set("err", format!("ERR {text}"))?;
    }
    Ok(t)
}
