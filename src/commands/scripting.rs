//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, and (in
//! `scripting::functions`) FUNCTION and FCALL. The Lua engine is
//! `crate::scripting`; these handlers parse arguments and hand over.
//! Every one that runs a script is flagged `ALL_SHARDS`, so the script runs
//! with the whole keyspace locked, like EXEC.

use super::server::{help, subcommand_syntax_error};
use super::Ctx;
use crate::scripting::functions::RestorePolicy;
use crate::store::Store;
use crate::util::eq_ignore_case;

/// The KEYS and ARGV of a script call.
pub type KeysArgs<'a> = (&'a [&'a [u8]], &'a [&'a [u8]]);

/// Splits `numkeys key... arg...` starting at argument `at`; FCALL words
/// a non-numeric count differently from EVAL.
pub fn keys_and_args<'a>(ctx: &mut Ctx<'a>, at: usize, fcall: bool) -> Option<KeysArgs<'a>> {
    let n = match crate::util::parse_i64(ctx.args[at]) {
        Some(n) => n,
        None if fcall => {
            ctx.out.err("Bad number of keys provided");
            return None;
        }
        None => {
            ctx.not_integer();
            return None;
        }
    };
    let rest = &ctx.args[at + 1..];
    if n < 0 {
        ctx.out.err("Number of keys can't be negative");
        return None;
    }
    if n as u64 > rest.len() as u64 {
        ctx.out
            .err("Number of keys can't be greater than number of args");
        return None;
    }
    Some(rest.split_at(n as usize))
}

fn eval_generic(ctx: &mut Ctx, store: &mut Store, by_sha: bool, read_only: bool) {
    let Some(keys_args) = keys_and_args(ctx, 2, false) else {
        return;
    };
    let script = ctx.args[1];
    let body = (!by_sha).then_some(script);
    ctx.srv
        .scripts
        .eval(ctx, store, body, script, keys_args, read_only);
}

pub fn eval(ctx: &mut Ctx, store: &mut Store) {
    eval_generic(ctx, store, false, false)
}

pub fn evalsha(ctx: &mut Ctx, store: &mut Store) {
    eval_generic(ctx, store, true, false)
}

pub fn eval_ro(ctx: &mut Ctx, store: &mut Store) {
    eval_generic(ctx, store, false, true)
}

pub fn evalsha_ro(ctx: &mut Ctx, store: &mut Store) {
    eval_generic(ctx, store, true, true)
}

pub fn script_load(ctx: &mut Ctx, _: &mut Store) {
    match ctx.srv.scripts.load_script(ctx.args[2]) {
        Ok(sha) => ctx.out.bulk(sha.as_bytes()),
        Err(e) => ctx.out.error(&e),
    }
}

pub fn script_exists(ctx: &mut Ctx, _: &mut Store) {
    ctx.out.array(ctx.args.len() - 2);
    for sha in &ctx.args[2..] {
        let found = ctx.srv.scripts.script_exists(sha);
        ctx.out.int(found as i64);
    }
}

pub fn script_flush(ctx: &mut Ctx, _: &mut Store) {
    match ctx.args.len() {
        2 => {}
        3 if eq_ignore_case(ctx.args[2], "async") || eq_ignore_case(ctx.args[2], "sync") => {}
        _ => return ctx.out.err("SCRIPT FLUSH only support SYNC|ASYNC option"),
    }
    ctx.srv.scripts.flush_scripts();
    ctx.out.ok();
}

pub fn script_kill(ctx: &mut Ctx, _: &mut Store) {
    match ctx.srv.scripts.busy.kill(false) {
        Ok(()) => ctx.out.ok(),
        Err(e) => ctx.out.error(e),
    }
}

pub fn script_help(ctx: &mut Ctx, _: &mut Store) {
    help(
        ctx,
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
}

fn fcall_generic(ctx: &mut Ctx, store: &mut Store, read_only: bool) {
    let Some((keys, args)) = keys_and_args(ctx, 2, true) else {
        return;
    };
    let name = ctx.args[1];
    ctx.srv
        .scripts
        .fcall(ctx, store, name, keys, args, read_only);
}

pub fn fcall(ctx: &mut Ctx, store: &mut Store) {
    fcall_generic(ctx, store, false)
}

pub fn fcall_ro(ctx: &mut Ctx, store: &mut Store) {
    fcall_generic(ctx, store, true)
}

/// FUNCTION LOAD [REPLACE] code.
pub fn function_load(ctx: &mut Ctx, _: &mut Store) {
    let (code, options) = ctx.args[2..].split_last().unwrap_or((&ctx.args[0], &[]));
    let mut replace = false;
    for o in options {
        if eq_ignore_case(o, "replace") {
            replace = true;
        } else {
            let msg = format!("Unknown option given: {}", String::from_utf8_lossy(o));
            return ctx.out.err(&msg);
        }
    }
    match ctx.srv.scripts.function_load(code, replace) {
        Ok(name) => ctx.out.bulk(name.as_bytes()),
        Err(e) => ctx.out.error(&e),
    }
}

pub fn function_dump(ctx: &mut Ctx, _: &mut Store) {
    let payload = ctx.srv.scripts.function_dump();
    ctx.out.bulk(&payload);
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE].
pub fn function_restore(ctx: &mut Ctx, _: &mut Store) {
    let policy = match ctx.args.get(3) {
        _ if ctx.args.len() > 4 => return subcommand_syntax_error(ctx, "FUNCTION"),
        None => RestorePolicy::Append,
        Some(p) if eq_ignore_case(p, "append") => RestorePolicy::Append,
        Some(p) if eq_ignore_case(p, "replace") => RestorePolicy::Replace,
        Some(p) if eq_ignore_case(p, "flush") => RestorePolicy::Flush,
        Some(_) => {
            return ctx.out.err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            )
        }
    };
    match ctx.srv.scripts.function_restore(ctx.args[2], policy) {
        Ok(()) => ctx.out.ok(),
        Err(e) => ctx.out.error(&e),
    }
}

pub fn function_delete(ctx: &mut Ctx, _: &mut Store) {
    if ctx.srv.scripts.function_delete(ctx.args[2]) {
        ctx.out.ok();
    } else {
        ctx.out.err("Library not found");
    }
}

pub fn function_flush(ctx: &mut Ctx, _: &mut Store) {
    match ctx.args.len() {
        2 => {}
        3 if eq_ignore_case(ctx.args[2], "async") || eq_ignore_case(ctx.args[2], "sync") => {}
        3 => {
            return ctx
                .out
                .err("FUNCTION FLUSH only supports SYNC|ASYNC option")
        }
        _ => return subcommand_syntax_error(ctx, "FUNCTION"),
    }
    ctx.srv.scripts.function_flush();
    ctx.out.ok();
}

/// FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern].
pub fn function_list(ctx: &mut Ctx, _: &mut Store) {
    let mut i = 2;
    let (mut with_code, mut pattern) = (false, None);
    while i < ctx.args.len() {
        let a = ctx.args[i];
        if eq_ignore_case(a, "withcode") && !with_code {
            with_code = true;
        } else if eq_ignore_case(a, "libraryname") && pattern.is_none() {
            let Some(p) = ctx.args.get(i + 1) else {
                return ctx.out.err("library name argument was not given");
            };
            pattern = Some(*p);
            i += 1;
        } else {
            let msg = format!("Unknown argument {}", String::from_utf8_lossy(a));
            return ctx.out.err(&msg);
        }
        i += 1;
    }
    ctx.srv
        .scripts
        .function_list(&mut ctx.out, pattern, with_code);
}

/// FUNCTION STATS: the running function (if any) and the engine's counts.
pub fn function_stats(ctx: &mut Ctx, _: &mut Store) {
    let scripts = &ctx.srv.scripts;
    ctx.out.map(2);
    ctx.out.bulk(b"running_script");
    match scripts.busy.current() {
        Some((name, command, ms)) => {
            ctx.out.map(3);
            ctx.out.bulk(b"name");
            ctx.out.bulk(name.as_bytes());
            ctx.out.bulk(b"command");
            ctx.out.bulks(command.iter().map(|a| a.as_slice()));
            ctx.out.bulk(b"duration_ms");
            ctx.out.int(ms);
        }
        None => ctx.out.null(),
    }
    let (libs, funcs) = scripts.function_counts();
    ctx.out.bulk(b"engines");
    ctx.out.map(1);
    ctx.out.bulk(b"LUA");
    ctx.out.map(2);
    ctx.out.bulk(b"libraries_count");
    ctx.out.int(libs as i64);
    ctx.out.bulk(b"functions_count");
    ctx.out.int(funcs as i64);
}

pub fn function_kill(ctx: &mut Ctx, _: &mut Store) {
    match ctx.srv.scripts.busy.kill(true) {
        Ok(()) => ctx.out.ok(),
        Err(e) => ctx.out.error(e),
    }
}

pub fn function_help(ctx: &mut Ctx, _: &mut Store) {
    help(
        ctx,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
}
